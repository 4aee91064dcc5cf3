"""The exported file: a commented rule config the rule agent loads and runs; never overwritten."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from thetagym.config import ConfigError
from thetagym.env.config import EnvConfig
from thetagym.evaluate.rollout import rollout
from thetagym.export import ExportResult, header, write_rule_config
from thetagym.export.write import render
from thetagym.policies.rules import load_rule_agent, load_rule_config
from thetagym.policies.rules.config import DynamicExposureRegime


def _write(round_trip: ExportResult, path: Path, force: bool = False) -> Path:
    lines = header(
        round_trip, "a known agent", "configs/rules/dynamic_exposure.yaml", "configs/env/default.yaml"
    )
    return write_rule_config(round_trip.config, round_trip.original, lines, path, force)


def test_exported_file_loads_and_runs(
    round_trip: ExportResult, env_config: EnvConfig, tmp_path: Path
) -> None:
    path = _write(round_trip, tmp_path / "exported.yaml")
    agent = load_rule_agent(path, env_config.book, expect="dynamic_exposure")
    episodes = rollout(agent, env_config, (5, 6)).episodes
    assert len(episodes) == 2 and np.isfinite(episodes["pnl"]).all()


def test_exported_file_has_a_provenance_header(round_trip: ExportResult, tmp_path: Path) -> None:
    text = _write(round_trip, tmp_path / "exported.yaml").read_text()
    head = [line for line in text.splitlines() if line.startswith("#")]
    joined = "\n".join(head)
    for expected in (
        "source agent: a known agent",
        "date: ",
        "seeds 0..15",
        "seeds 100..107",
        "exported ",
        "original ",
    ):
        assert expected in joined
    assert "roll_delta: 0.35" in text and "was 0.3" in text


def test_regimes_list_only_what_differs(round_trip: ExportResult, tmp_path: Path) -> None:
    top = round_trip.config.thresholds  # type: ignore[attr-defined]
    calm = DynamicExposureRegime(vix_below=15.0, thresholds=dataclasses.replace(top, roll_delta=0.25))
    same = DynamicExposureRegime(vix_below=25.0, thresholds=top)
    config = dataclasses.replace(round_trip.config, regimes=(calm, same))
    text = render(config, round_trip.original, ["header"])
    regimes = text.split("regimes:")[1]
    assert "roll_delta: 0.25" in regimes and "counter_trigger" not in regimes and "thresholds: {}" in regimes
    path = tmp_path / "regimes.yaml"
    path.write_text(text)
    assert load_rule_config(path) == config


def test_existing_out_file_is_refused_without_force(round_trip: ExportResult, tmp_path: Path) -> None:
    path = tmp_path / "exported.yaml"
    path.write_text("agent: alvh\n")
    with pytest.raises(ConfigError, match=r"file exists.*--force"):
        _write(round_trip, path)
    assert path.read_text() == "agent: alvh\n"
    _write(round_trip, path, force=True)
    assert load_rule_config(path) == round_trip.config
