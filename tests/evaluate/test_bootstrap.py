"""Bootstrap intervals and the evaluation summary: coverage, determinism, limits, shapes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from thetagym.evaluate import bootstrap_interval, nest_summary
from thetagym.evaluate.bootstrap import Draw, resample_rows, stratified_replicates
from thetagym.evaluate.summary import POOLED, summarise_episodes

REPETITIONS = 400
SAMPLE_SIZE = 40


@pytest.mark.parametrize(
    ("draw", "true_mean"),
    [
        (lambda rng, n: rng.normal(1.0, 2.0, n), 1.0),
        (lambda rng, n: rng.exponential(3.0, n), 3.0),
    ],
    ids=["normal", "exponential"],
)
def test_95_percent_interval_covers_known_mean_at_nominal_rate(draw, true_mean):
    """400 seeded repetitions of n = 40 must cover the true mean in 90-98% of cases.

    If the true coverage were exactly 0.95, the observed rate over 400 repetitions has binomial
    standard error sqrt(0.95 * 0.05 / 400) = 0.011, so [0.90, 0.98] spans about -4.6 to +2.8
    standard errors. The lower side is wider because the percentile bootstrap is known to
    under-cover a little at n = 40 (about 0.93 for skewed data), which is not a bug; coverage near
    0.68 (standard deviation used for the standard error) or near 1.0 (intervals too wide) is.
    """
    rng = np.random.default_rng(20240601)
    covered = 0
    for _ in range(REPETITIONS):
        _, low, high = bootstrap_interval(draw(rng, SAMPLE_SIZE), n_resamples=1000, rng=rng)
        covered += low <= true_mean <= high
    assert 0.90 <= covered / REPETITIONS <= 0.98


def test_same_seed_gives_same_interval_and_other_seed_differs():
    values = np.random.default_rng(1).normal(size=30)
    first = bootstrap_interval(values, rng=np.random.default_rng(7))
    assert bootstrap_interval(values, rng=np.random.default_rng(7)) == first
    assert bootstrap_interval(values, rng=np.random.default_rng(8)) != first


@pytest.mark.parametrize("values", [[2.5], [2.5] * 25, [0.1] * 40])
def test_interval_collapses_for_one_value_or_constant_values(values):
    estimate, low, high = bootstrap_interval(values, rng=np.random.default_rng(0))
    assert estimate == low == high == values[0]


def test_interval_widens_with_confidence():
    values = np.random.default_rng(2).exponential(size=50)
    widths = []
    for confidence in (0.5, 0.8, 0.9, 0.95, 0.99):
        _, low, high = bootstrap_interval(values, confidence=confidence, rng=np.random.default_rng(3))
        widths.append((low, high))
    lows, highs = zip(*widths, strict=True)
    assert list(lows) == sorted(lows, reverse=True)
    assert list(highs) == sorted(highs)


def test_interval_contains_estimate_of_mean():
    values = np.random.default_rng(4).normal(size=25)
    estimate, low, high = bootstrap_interval(values, rng=np.random.default_rng(0))
    assert estimate == pytest.approx(values.mean())
    assert low < estimate < high


def test_non_finite_values_are_dropped():
    values = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    with_gaps = np.array([1.0, np.nan, 4.0, 2.0, np.inf, 8.0, -np.inf, 5.0])
    assert bootstrap_interval(with_gaps, rng=np.random.default_rng(5)) == bootstrap_interval(
        values, rng=np.random.default_rng(5)
    )


def test_no_finite_value_gives_nan():
    assert all(math.isnan(x) for x in bootstrap_interval([np.nan], rng=np.random.default_rng(0)))
    assert all(math.isnan(x) for x in bootstrap_interval([], rng=np.random.default_rng(0)))


def test_statistic_without_axis_argument_matches_vectorised_one():
    values = np.random.default_rng(6).normal(size=20)
    vectorised = bootstrap_interval(values, np.median, rng=np.random.default_rng(9))
    row_by_row = bootstrap_interval(values, lambda row: float(np.median(row)), rng=np.random.default_rng(9))
    assert row_by_row == pytest.approx(vectorised)


@pytest.mark.parametrize(("keyword", "value"), [("confidence", 1.0), ("confidence", 0.0), ("n_resamples", 0)])
def test_invalid_arguments_are_rejected(keyword, value):
    with pytest.raises(ValueError, match=keyword):
        bootstrap_interval([1.0, 2.0], rng=np.random.default_rng(0), **{keyword: value})


@pytest.fixture
def episodes() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = [
        {
            "agent": agent,
            "scenario": scenario,
            "seed": seed,
            "theta_capture": rng.normal(0.5 + shift, 0.2),
            "max_drawdown": rng.exponential(0.05),
            "assignments": 0,
        }
        for shift, agent in enumerate(["rules", "ppo"])
        for scenario in ["calm", "crash"]
        for seed in range(12)
    ]
    rows[0]["theta_capture"] = np.nan
    return pd.DataFrame(rows)


MEASURES = ["theta_capture", "max_drawdown", "assignments"]


def test_summary_has_one_row_per_cell_then_pooled_rows_and_four_columns_per_measure(episodes):
    table = summarise_episodes(episodes, n_resamples=200)
    assert len(table) == 6
    assert list(table.columns[:2]) == ["agent", "scenario"]
    assert list(table["scenario"]) == ["calm", "crash", "calm", "crash", POOLED, POOLED]
    assert [c for c in table.columns if c.startswith("theta_capture")] == [
        "theta_capture_mean",
        "theta_capture_low",
        "theta_capture_high",
        "theta_capture_n",
    ]
    row = table.set_index(["agent", "scenario"]).loc[("rules", "calm")]
    group = episodes[(episodes.agent == "rules") & (episodes.scenario == "calm")]
    assert row["theta_capture_n"] == 11
    assert row["theta_capture_mean"] == pytest.approx(group["theta_capture"].mean())
    assert row["assignments_low"] == row["assignments_high"] == 0
    pooled = table.set_index(["agent", "scenario"]).loc[("ppo", POOLED)]
    assert pooled["max_drawdown_mean"] == pytest.approx(
        episodes[episodes.agent == "ppo"]["max_drawdown"].mean()
    )


def test_summary_is_deterministic_for_a_seed(episodes):
    first = summarise_episodes(episodes, n_resamples=200, seed=3)
    second = summarise_episodes(episodes, n_resamples=200, seed=3)
    pd.testing.assert_frame_equal(first, second)


def test_nested_summary_is_strict_json_and_matches_the_table(episodes):
    table = summarise_episodes(episodes, n_resamples=200, seed=3)
    nested = nest_summary(table)
    assert set(nested) == {"rules", "ppo"}
    assert set(nested["ppo"]) == {"calm", "crash", POOLED}
    cell = nested["ppo"]["crash"]["max_drawdown"]
    assert set(cell) == {"mean", "low", "high", "n"}
    assert cell["n"] == 12 and isinstance(cell["n"], int)
    assert cell["low"] <= cell["mean"] <= cell["high"]
    json.dumps(nested, allow_nan=False)


def test_draw_counts_tally_each_resample_rows() -> None:
    rows = np.array([[0, 0, 2], [1, 2, 1]])
    np.testing.assert_array_equal(Draw(rows).counts, [[2, 0, 1], [0, 2, 1]])


def test_replicates_from_reductions_equal_the_gathered_ones() -> None:
    """A statistic that reads columns only through their sums and minimum gives the same
    replicates from resampled reductions as from gathered resamples, over uneven strata, and a
    stratum with a non-finite value is redrawn either way."""
    rng = np.random.default_rng(7)
    strata = [[rng.normal(size=n), rng.exponential(size=n), rng.normal(size=n)] for n in (5, 9, 13)]
    strata[1][0][3] = np.nan

    def statistic(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.sum(x, axis=-1) / np.sum(y, axis=-1) + np.min(z, axis=-1)

    draws = [
        Draw(resample_rows(len(columns[0]), 300, np.random.default_rng(k)))
        for k, columns in enumerate(strata)
    ]
    gathered = stratified_replicates(strata, statistic, 300, rng=np.random.default_rng(1), draws=draws)
    reduced = stratified_replicates(
        strata, statistic, 300, rng=np.random.default_rng(1), draws=draws, reductions=("sum", "sum", "min")
    )
    assert reduced[0] == gathered[0]
    np.testing.assert_allclose(reduced[1], gathered[1], rtol=1e-12)
    assert np.std(gathered[1]) > 0.1  # the resamples differ


def test_an_unknown_reduction_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reduction 'max'; choose from sum, min"):
        stratified_replicates([[np.ones(3)]], np.sum, 10, rng=np.random.default_rng(0), reductions=("max",))


def test_the_summary_benchmark_reports_its_figures() -> None:
    from thetagym.evaluate.benchmark import benchmark_summary

    result = benchmark_summary(agents=2, scenarios=2, episodes=16)
    assert result["episodes"] == 64
    assert result["summary_episodes_per_second"] * result["summary_seconds"] == pytest.approx(64)
    assert result["paired_episodes_per_second"] > 0
