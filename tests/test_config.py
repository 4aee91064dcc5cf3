"""Typed YAML configs: unknown keys, types and bounds give errors naming file, key and value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from thetagym.config import ConfigError, build, dump, load, nested, setting


@dataclass(frozen=True)
class Wing:
    target_delta: float = setting(0.16, gt=0.0, lt=1.0, doc="absolute delta of the short strike")
    contracts: int = setting(2, ge=1, doc="standard size")


@dataclass(frozen=True)
class Book:
    capital: float = setting(1_000_000.0, gt=0.0, doc="USD")
    schedule: Literal["weekly", "monthly", "quarterly"] = "monthly"
    wing: Wing = nested(Wing)
    layers: tuple[str, ...] = ("put_wing", "call_wing")


def test_defaults_and_nested_values_build() -> None:
    book = build(Book, {"wing": {"contracts": 3}, "layers": ["futures"]})
    assert book.wing == Wing(target_delta=0.16, contracts=3)
    assert book.layers == ("futures",)


def test_unknown_key_suggests_the_closest_with_its_dotted_path() -> None:
    with pytest.raises(
        ConfigError, match=r"book.yaml: unknown key 'wing.contract' \(did you mean 'contracts'\?\)"
    ):
        build(Book, {"wing": {"contract": 3}}, source="book.yaml")


def test_out_of_range_value_names_file_key_and_value() -> None:
    with pytest.raises(
        ConfigError, match=r"book.yaml: key 'wing.target_delta': 1.5 is out of range, must be < 1.0"
    ):
        build(Book, {"wing": {"target_delta": 1.5}}, source="book.yaml")


def test_wrong_type_and_bad_choice() -> None:
    with pytest.raises(ConfigError, match=r"key 'capital': expected a number, got 'lots'"):
        build(Book, {"capital": "lots"})
    with pytest.raises(ConfigError, match=r"'weakly' is not one of .*did you mean 'weekly'"):
        build(Book, {"schedule": "weakly"})
    with pytest.raises(ConfigError, match=r"key 'wing.contracts': expected a whole number, got 2.5"):
        build(Book, {"wing": {"contracts": 2.5}})


def test_yaml_round_trip(tmp_path: Path) -> None:
    book = build(Book, {"capital": 5e5, "wing": {"target_delta": 0.1}})
    path = tmp_path / "book.yaml"
    path.write_text(dump(book))
    assert load(Book, path) == book


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load(Book, tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("capital: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load(Book, bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping"):
        load(Book, listed)
