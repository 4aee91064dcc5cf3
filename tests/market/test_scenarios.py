"""Scenarios: named events (vol_spike gap size, crash), mixes, YAML definitions and bad names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thetagym.config import ConfigError
from thetagym.market.params import MarketConfig
from thetagym.market.scenarios import (
    DEFAULT_MIX,
    SCENARIOS,
    ScenarioBook,
    load_scenarios,
    scenario_book_from_mapping,
)
from thetagym.market.simulator import simulate

CONFIG = MarketConfig()
ROOT = Path(__file__).resolve().parents[2]


def _shock_bar(path, row: int) -> int:
    """The bar of the largest VIX jump of a path (the shock's open)."""
    return int(np.argmax(path.vix[row, 1:] / path.vix[row, :-1])) + 1


def test_vol_spike_opens_with_vix_doubled_and_index_down_four_percent() -> None:
    path = simulate(CONFIG, "vol_spike", 63, np.arange(12))
    bpd = CONFIG.bars_per_day
    for row in range(12):
        bar = _shock_bar(path, row)
        assert (bar - 1) % bpd == 0, "the gap is at the first bar (the open) of a day"
        assert path.vix[row, bar] / path.vix[row, bar - 1] == pytest.approx(2.0, rel=1e-9)
        assert path.index[row, bar] / path.index[row, bar - 1] - 1.0 == pytest.approx(-0.04, rel=1e-9)
        day = (bar - 1) // bpd
        assert 0.2 * 62 - 1 <= day <= 0.6 * 62 + 1


def test_crash_gaps_down_and_stays_stressed() -> None:
    path = simulate(CONFIG, "crash", 252, np.arange(8))
    for row in range(8):
        bar = _shock_bar(path, row)
        assert path.index[row, bar] / path.index[row, bar - 1] == pytest.approx(0.93, rel=1e-9)
        assert path.vix[row, bar] / path.vix[row, bar - 1] == pytest.approx(2.5, rel=1e-9)
        before = path.vix[row, bar - 1]
        after = path.vix[row, bar : bar + 40 * CONFIG.bars_per_day]  # the stress lasts 40-160 days
        assert np.median(after) > 1.8 * before


def test_scenarios_order_their_volatility_as_named() -> None:
    level = {
        name: float(np.median(simulate(CONFIG, name, 252, np.arange(16)).vix))
        for name in ("grind_up", "calm", "trend_down")
    }
    assert level["grind_up"] < level["calm"] < level["trend_down"]


def test_trend_down_falls_and_grind_up_rises_on_average() -> None:
    down = simulate(CONFIG, "trend_down", 252, np.arange(32))
    up = simulate(CONFIG, "grind_up", 252, np.arange(32))
    assert np.mean(np.log(down.index[:, -1] / down.index[:, 0])) < 0.0
    assert np.mean(np.log(up.index[:, -1] / up.index[:, 0])) > 0.05


def test_mix_draws_scenarios_with_their_weights() -> None:
    path = simulate(CONFIG, DEFAULT_MIX, 2, np.arange(2000))
    book = ScenarioBook.builtin()
    shares = np.bincount(path.scenario, minlength=len(book.names)) / 2000
    for name, weight in book.weights(DEFAULT_MIX).items():
        assert shares[book.names.index(name)] == pytest.approx(weight, abs=0.03)


def test_unknown_scenario_name_suggests_and_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match=r"'vol_spik'.*did you mean 'vol_spike'.*scenarios: calm, grind_up"):
        simulate(CONFIG, "vol_spik", 5, [1])


def test_shipped_yaml_equals_the_builtin_scenarios() -> None:
    assert load_scenarios(ROOT / "configs" / "market" / "scenarios.yaml") == ScenarioBook.builtin()


def test_yaml_scenarios_reject_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown key 'scenarios.calm.long_varaince' \(did you mean 'long_variance'"
    ):
        scenario_book_from_mapping({"scenarios": {"calm": {"long_varaince": 0.02}}}, source="s.yaml")
    with pytest.raises(ConfigError, match=r"scenarios.calm.long_variance.*-0.02 is out of range"):
        scenario_book_from_mapping({"scenarios": {"calm": {"long_variance": -0.02}}}, source="s.yaml")
    with pytest.raises(ConfigError, match=r"initial_vix.*out of range"):
        scenario_book_from_mapping({"scenarios": {"calm": {"initial_vix": 0.0}}})
    with pytest.raises(ConfigError, match=r"unknown scenario 'crsh' \(did you mean 'crash'"):
        scenario_book_from_mapping({"mixes": {"mine": {"crsh": 1.0}}})
    with pytest.raises(ConfigError, match=r"unknown key 'mixs'"):
        scenario_book_from_mapping({"mixs": {}})
    with pytest.raises(ConfigError, match="window"):
        scenario_book_from_mapping({"scenarios": {"x": {"shock": {"window": [0.8, 0.2]}}}})
    file = tmp_path / "mine.yaml"
    file.write_text("scenarios:\n  flat:\n    long_variance: 0.01\nmixes:\n  mine: {flat: 1, crash: 1}\n")
    book = load_scenarios(file)
    assert book.names[: len(SCENARIOS)] == tuple(SCENARIOS) and book.names[-1] == "flat"
    path = simulate(CONFIG, "mine", 5, np.arange(4), scenarios=book)
    assert {book.names[c] for c in path.scenario} <= {"flat", "crash"}
