"""The simulator: determinism, batch invariance, finite positive prices, non-negative variance."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.market.params import MarketConfig
from thetagym.market.path import PER_BAR_FIELDS, PER_PATH_FIELDS
from thetagym.market.scenarios import SCENARIOS
from thetagym.market.simulator import concatenate, simulate, simulate_in_chunks

CONFIG = MarketConfig()


def _assert_same_path(a, b, row_a: int, row_b: int) -> None:
    for name in (*PER_BAR_FIELDS, *PER_PATH_FIELDS, "scenario", "dates"):
        np.testing.assert_array_equal(getattr(a, name)[row_a], getattr(b, name)[row_b], err_msg=name)


def test_same_seed_gives_the_same_paths() -> None:
    first = simulate(CONFIG, "calm-to-stressed", 40, [3, 4, 5])
    second = simulate(CONFIG, "calm-to-stressed", 40, [3, 4, 5])
    for row in range(3):
        _assert_same_path(first, second, row, row)


def test_different_seeds_give_different_paths() -> None:
    path = simulate(CONFIG, "calm", 20, [1, 2])
    assert not np.array_equal(path.index[0], path.index[1])


@pytest.mark.parametrize("scenario", ["calm-to-stressed", "crash", "vol_spike"])
def test_a_path_alone_equals_the_same_path_inside_a_batch_of_seven(scenario: str) -> None:
    seeds = [101, 7, 99, 12345, 5, 42, 2024]
    batch = simulate(CONFIG, scenario, 63, seeds)
    for position in (0, 3, 6):
        alone = simulate(CONFIG, scenario, 63, [seeds[position]])
        _assert_same_path(alone, batch, 0, position)


def test_chunked_simulation_equals_one_batch() -> None:
    seeds = np.arange(10)
    whole = simulate(CONFIG, "calm-to-stressed", 30, seeds)
    chunked = simulate_in_chunks(CONFIG, "calm-to-stressed", 30, seeds, chunk=3)
    for row in range(10):
        _assert_same_path(whole, chunked, row, row)
    assert concatenate([whole]) is whole


@pytest.mark.parametrize("scenario", [*SCENARIOS, "calm-to-stressed", "stressed"])
def test_every_scenario_gives_finite_positive_prices_and_non_negative_variance(scenario: str) -> None:
    path = simulate(CONFIG, scenario, 252, np.arange(16))
    path.validate()  # shapes, finite values, positive index / VIX / VIX3M / ETPs
    assert np.all(path.variance >= 0.0)
    assert np.all(path.implied_variance >= 0.0)
    assert np.all(np.isfinite(path.skew))
    assert np.all(path.realised_volatility >= 0.0)


def test_extreme_vol_of_variance_keeps_variance_non_negative() -> None:
    """Feller condition badly violated: full truncation keeps the variance used at >= 0."""
    from dataclasses import replace

    config = replace(CONFIG, variance=replace(CONFIG.variance, vol_of_variance=2.0, long_variance=0.01))
    path = simulate(config, "calm", 252, np.arange(8))
    path.validate()
    assert np.all(path.variance >= 0.0)
    assert np.any(path.variance == 0.0)  # the truncation was reached


def test_shapes_bar_clock_and_expiry_tables() -> None:
    path = simulate(CONFIG, "calm", 30, [1, 2])
    assert path.index.shape == (2, 30 * CONFIG.bars_per_day + 1)
    assert path.dates.shape == (2, 30)
    assert path.index[0, 0] == CONFIG.initial_index
    assert set(path.next_expiry) == {"weekly", "monthly", "quarterly"}
    weekly = path.next_expiry["weekly"][0]
    fridays = path.dates[0][weekly[weekly >= 0]].astype("datetime64[D]").view("int64")
    assert np.all((fridays - 4) % 7 == 4)


def test_first_bar_of_the_day_carries_the_overnight_share_of_variance() -> None:
    from dataclasses import replace

    config = replace(CONFIG, jumps=replace(CONFIG.jumps, intensity=0.0), overnight_variance_share=0.5)
    path = simulate(config, "calm", 500, np.arange(8))
    log_index = np.log(path.index)
    moves = np.diff(log_index, axis=1).reshape(8, 500, config.bars_per_day)
    square = (moves**2).mean(axis=(0, 1))
    share = square[0] / square.sum()
    assert share == pytest.approx(0.5, abs=0.05)


def test_es_future_carries_the_index_at_the_cost_of_carry() -> None:
    path = simulate(CONFIG, "calm", 10, [1])
    future = path.es_future(np.array([0]), np.array([4]), np.array([[0.0, 0.25]]))
    assert future[0, 0] == path.index[0, 4]
    assert future[0, 1] == pytest.approx(path.index[0, 4] * np.exp(CONFIG.carry * 0.25))


def test_one_bar_a_day_works() -> None:
    from dataclasses import replace

    path = simulate(replace(CONFIG, bars_per_day=1), "crash", 60, [1, 2])
    path.validate()
    assert path.index.shape == (2, 61)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_days"):
        simulate(CONFIG, "calm", 0, [1])
    with pytest.raises(ValueError, match="seed"):
        simulate(CONFIG, "calm", 5, [])


def test_shipped_default_yaml_is_the_default_config() -> None:
    from pathlib import Path

    from thetagym.config import load

    root = Path(__file__).resolve().parents[2]
    assert load(MarketConfig, root / "configs" / "market" / "default.yaml") == MarketConfig()


def test_market_config_errors_name_the_key_and_suggest(tmp_path) -> None:
    from thetagym.config import ConfigError, build, load

    with pytest.raises(
        ConfigError, match=r"m.yaml: unknown key 'variance.vol_of_varaince' \(did you mean 'vol_of_variance'"
    ):
        build(MarketConfig, {"variance": {"vol_of_varaince": 0.3}}, source="m.yaml")
    with pytest.raises(
        ConfigError, match=r"key 'variance.vol_of_variance': -0.3 is out of range, must be >= 0"
    ):
        build(MarketConfig, {"variance": {"vol_of_variance": -0.3}}, source="m.yaml")
    with pytest.raises(ConfigError, match=r"key 'variance.long_variance': -0.01 is out of range"):
        build(MarketConfig, {"variance": {"long_variance": -0.01}})
    with pytest.raises(ConfigError, match=r"key 'initial_index': 0.0 is out of range, must be > 0"):
        build(MarketConfig, {"initial_index": 0.0})
    with pytest.raises(ConfigError, match=r"key 'initial_vix': -5.0 is out of range"):
        build(MarketConfig, {"initial_vix": -5.0})
    with pytest.raises(ConfigError, match=r"initial_vix 5.0 is at or below"):
        build(MarketConfig, {"initial_vix": 5.0})
    with pytest.raises(ConfigError, match=r"start_date"):
        build(MarketConfig, {"start_date": "next monday"})
    file = tmp_path / "bad.yaml"
    file.write_text("pricing:\n  jump_std: -0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: key 'pricing.jump_std'"):
        load(MarketConfig, file)
