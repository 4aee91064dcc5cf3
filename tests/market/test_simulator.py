"""The simulator: determinism, batch invariance, finite positive prices, non-negative variance."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.market.kernels import bar_recursion
from thetagym.market.params import MarketConfig
from thetagym.market.path import PER_BAR_FIELDS, PER_PATH_FIELDS
from thetagym.market.scenarios import SCENARIOS
from thetagym.market.simulator import concatenate, simulate, simulate_in_chunks

CONFIG = MarketConfig()


def _assert_same_path(a, b, row_a: int, row_b: int) -> None:
    for name in (*PER_BAR_FIELDS, *PER_PATH_FIELDS, "scenario", "dates"):
        np.testing.assert_array_equal(getattr(a, name)[row_a], getattr(b, name)[row_b], err_msg=name)


# --- the compiled bar recursion against a numpy reference -------------------------------------


def reference_bar_recursion(  # type: ignore[no-untyped-def]
    bar_drift,
    half_length,
    index_shock,
    variance_decay,
    variance_pull,
    variance_shock,
    initial_variance,
    events,
    vix_constant,
    vix_slope,
):
    """The recursion as numpy code vectorised over paths, one bar at a time (the simulator's loop
    before it was compiled); ``events`` maps a bar to ``(row, log gap, VIX multiple)`` triples.
    Inputs ``(n_paths, n_bars)`` like the kernel's; works on their transposes."""
    bar_drift, index_shock, variance_decay, variance_pull, variance_shock = (
        a.T for a in (bar_drift, index_shock, variance_decay, variance_pull, variance_shock)
    )
    n_bars, n_paths = bar_drift.shape
    log_index = np.empty((n_bars + 1, n_paths))
    variance = np.empty((n_bars + 1, n_paths))
    log_index[0] = 0.0
    variance[0] = initial_variance
    x = np.zeros(n_paths)
    v = initial_variance.copy()
    for b in range(n_bars):
        vp = np.maximum(v, 0.0)
        sv = np.sqrt(vp)
        x = x + bar_drift[b] - half_length[b] * vp + sv * index_shock[b]
        v = variance_decay[b] * vp + variance_pull[b] + sv * variance_shock[b] + (v - vp)
        event = events.get(b + 1)
        if event is not None:
            rows = np.array([e[0] for e in event])
            gaps = np.array([e[1] for e in event])
            multiples = np.array([e[2] for e in event])
            previous = vix_constant + vix_slope * np.maximum(variance[b, rows], 0.0)
            x[rows] = log_index[b, rows] + gaps
            v[rows] = np.maximum((multiples**2 * previous - vix_constant) / vix_slope, 0.0)
        log_index[b + 1] = x
        variance[b + 1] = v
    np.maximum(variance, 0.0, out=variance)
    return log_index.T, variance.T


def _recursion_inputs(n_paths: int, n_bars: int, seed: int) -> dict[str, np.ndarray]:
    """Random state-free terms with a wild vol of variance, so the variance state dips below zero."""
    rng = np.random.default_rng(seed)
    h = np.tile([0.3, 0.7 / 3, 0.7 / 3, 0.7 / 3], n_bars // 4) / 252.0
    kappa = rng.uniform(1.0, 6.0, (n_paths, 1))
    jumps = rng.normal(-0.02, 0.03, (n_paths, n_bars)) * (rng.random((n_paths, n_bars)) < 0.05)
    return {
        "bar_drift": rng.normal(0.05, 0.1, (n_paths, n_bars)) * h + jumps,
        "half_length": 0.5 * h,
        "index_shock": rng.standard_normal((n_paths, n_bars)) * np.sqrt(h),
        "variance_decay": 1.0 - kappa * h,
        "variance_pull": kappa * 0.04 * h + 3.0 * np.minimum(jumps, 0.0) ** 2,
        "variance_shock": rng.standard_normal((n_paths, n_bars)) * 2.5 * np.sqrt(h),
        "initial_variance": rng.uniform(0.005, 0.09, n_paths),
    }


def _compare_recursion(inputs: dict[str, np.ndarray], events: list[tuple[int, int, float, float]]) -> None:
    """Kernel and reference on ``inputs`` with ``events`` ``(bar, row, log gap, VIX multiple)``."""
    vix_constant, vix_slope = 0.012, 0.55
    flat = sorted(events, key=lambda e: (e[1], e[0]))
    by_bar: dict[int, list[tuple[int, float, float]]] = {}
    for bar, row, gap, multiple in events:
        by_bar.setdefault(bar, []).append((row, gap, multiple))
    ours = bar_recursion(
        *inputs.values(),
        np.array([e[0] for e in flat], dtype=np.int64),
        np.array([e[1] for e in flat], dtype=np.int64),
        np.array([e[2] for e in flat], dtype=np.float64),
        np.array([e[3] for e in flat], dtype=np.float64),
        vix_constant,
        vix_slope,
    )
    reference = reference_bar_recursion(*inputs.values(), by_bar, vix_constant, vix_slope)
    for name, mine, theirs in zip(("log_index", "variance"), ours, reference, strict=True):
        assert mine.shape == theirs.shape and mine.flags.c_contiguous, name
        # Bit for bit: the same values, NaN where the reference has NaN, the same signs of zero.
        assert np.array_equal(mine, theirs, equal_nan=True), name
        assert np.array_equal(np.signbit(mine), np.signbit(theirs)), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_bar_recursion_equals_the_numpy_reference_bit_for_bit(seed: int) -> None:
    inputs = _recursion_inputs(n_paths=9, n_bars=200, seed=seed)
    # Shocks: two paths on one bar, one on the first bar, one on the last, a path with two.
    events = [(41, 2, np.log1p(-0.07), 2.5), (41, 5, np.log1p(0.03), 0.5), (1, 0, np.log1p(-0.04), 2.0)]
    events += [(200, 8, np.log1p(-0.1), 3.0), (17, 3, np.log1p(-0.02), 1.5), (150, 3, np.log1p(0.01), 0.2)]
    _compare_recursion(inputs, events)
    _, variance = bar_recursion(
        *inputs.values(), *(np.array([], dtype=d) for d in (np.int64, np.int64, float, float)), 0.012, 0.55
    )
    assert np.any(variance == 0.0)  # the truncation was reached
    assert np.all(variance >= 0.0)


def test_compiled_bar_recursion_propagates_nan_like_numpy() -> None:
    inputs = _recursion_inputs(n_paths=3, n_bars=40, seed=4)
    inputs["variance_pull"][1, 10] = np.nan
    inputs["bar_drift"][2, 5] = np.nan
    inputs["initial_variance"][0] = -0.01  # a negative start is truncated like any state
    _compare_recursion(inputs, [(20, 1, -0.05, 2.0), (30, 2, -0.05, 2.0)])


def test_compiled_bar_recursion_rejects_unsorted_or_stray_events() -> None:
    inputs = _recursion_inputs(n_paths=3, n_bars=8, seed=5)
    for bars, rows in (([5, 2], [1, 0]), ([0], [1]), ([9], [1]), ([3], [3])):
        with pytest.raises(ValueError, match="sorted by row then bar"):
            bar_recursion(
                *inputs.values(),
                np.array(bars, dtype=np.int64),
                np.array(rows, dtype=np.int64),
                np.zeros(len(bars)),
                np.ones(len(bars)),
                0.012,
                0.55,
            )


def test_compiled_bar_recursion_has_one_signature() -> None:
    """Cached on disk with one signature: other layouts or dtypes are refused, not compiled."""
    inputs = _recursion_inputs(n_paths=3, n_bars=8, seed=6)
    no_events = (np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.zeros(0), np.zeros(0))
    transposed = dict(inputs, bar_drift=np.asfortranarray(inputs["bar_drift"]))
    with pytest.raises(TypeError):
        bar_recursion(*transposed.values(), *no_events, 0.012, 0.55)
    with pytest.raises(TypeError):
        bar_recursion(
            *inputs.values(), *no_events[:2], np.zeros(0, dtype=np.float32), no_events[3], 0.012, 0.55
        )
    assert len(bar_recursion.signatures) == 1


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


def test_the_dividend_yield_lowers_the_forward_by_the_carry_formula() -> None:
    from dataclasses import replace

    no_yield = replace(CONFIG, rate=0.05, dividend_yield=0.0)
    with_yield = replace(CONFIG, rate=0.05, dividend_yield=0.03)
    for config in (no_yield, with_yield):
        path = simulate(config, "calm", 10, [1])
        assert path.rate == 0.05
        assert path.carry == pytest.approx(0.05 - config.dividend_yield)  # constant: one number
        np.testing.assert_array_equal(path.daily_rate(), np.full((1, 10), 0.05))
        future = path.es_future(np.array([0]), np.array([4]), np.array([[0.5]]))
        # F = S exp((r - q) T): 3% of yield takes exp(-0.03 * 0.5) off a half-year forward.
        assert future[0, 0] / path.index[0, 4] == pytest.approx(np.exp((0.05 - config.dividend_yield) * 0.5))
    assert np.exp(0.05 * 0.5) * np.exp(-0.03 * 0.5) == pytest.approx(np.exp(0.02 * 0.5))


def test_a_per_day_rate_and_carry_drive_the_forward_of_their_day() -> None:
    path = simulate(CONFIG, "calm", 10, [1, 2])
    path.carry = np.tile(np.linspace(0.0, 0.09, 10), (2, 1))
    path.rate = path.carry + 0.015
    path.validate()
    future = path.es_future(np.array([1]), np.array([4 * 3 + 2]), np.array([[0.25]]))  # a bar of day 3
    assert future[0, 0] == pytest.approx(path.index[1, 14] * np.exp(0.03 * 0.25))
    taken = path.take(np.array([1]))
    assert taken.daily_carry().shape == (1, 10) and taken.daily_carry()[0, 3] == pytest.approx(0.03)
    constant = simulate(CONFIG, "calm", 10, [3])
    constant.assign(np.array([0]), taken)  # a per-day series replaces a constant
    np.testing.assert_array_equal(constant.daily_rate(), taken.daily_rate())
    path.rate = np.zeros(3)
    with pytest.raises(ValueError, match=r"MarketPath\.rate must be one number or per day"):
        path.validate()


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
    with pytest.raises(ConfigError, match=r"key 'initial_index': 0.0 is out of range, must be >= 100.0"):
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
