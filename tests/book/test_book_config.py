"""Bad book configs fail with the file, the key and the value, and suggest the closest key."""

from __future__ import annotations

from pathlib import Path

import pytest

from thetagym.book import BookConfig
from thetagym.config import ConfigError, load

from .conftest import CONFIGS


@pytest.mark.parametrize("name", ["default.yaml", "alvh_condor_ladder.yaml", "large_book.yaml"])
def test_shipped_configs_load(name: str) -> None:
    config = load(BookConfig, CONFIGS / name)
    assert config.layers


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(text)
    return path


def test_unknown_layer_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "layers:\n  - {name: p, kind: put_wing, bias: 1, target_delt: 0.2}\n")
    with pytest.raises(
        ConfigError, match=r"book\.yaml.*layers\[0\]\.target_delt.*did you mean 'target_delta'"
    ):
        load(BookConfig, path)


def test_unknown_kind_names_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "layers:\n  - {name: p, kind: put_wings, bias: 1}\n")
    with pytest.raises(ConfigError, match=r"book\.yaml.*'put_wings'.*did you mean 'put_wing'"):
        load(BookConfig, path)


def test_out_of_range_value(tmp_path: Path) -> None:
    path = write(tmp_path, "layers:\n  - {name: p, kind: put_wing, bias: 1}\nmargin: {scan_range: 1.5}\n")
    with pytest.raises(ConfigError, match=r"book\.yaml: key 'margin\.scan_range': 1\.5 is out of range"):
        load(BookConfig, path)


def test_wrong_bias_for_a_wing(tmp_path: Path) -> None:
    path = write(tmp_path, "layers:\n  - {name: c, kind: call_wing, bias: 1}\n")
    with pytest.raises(ConfigError, match="call_wing has bias -1"):
        load(BookConfig, path)


def test_too_few_leg_slots(tmp_path: Path) -> None:
    path = write(tmp_path, "max_legs: 3\nlayers:\n  - {name: ic, kind: condor, rungs: 2}\n")
    with pytest.raises(ConfigError, match="max_legs 3 is too small"):
        load(BookConfig, path)


def test_duplicate_layer_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "layers:\n  - {name: w, kind: put_wing, bias: 1}\n  - {name: w, kind: call_wing, bias: -1}\n",
    )
    with pytest.raises(ConfigError, match="'w' is used twice"):
        load(BookConfig, path)
