"""Measures against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym import measures


def test_max_drawdown_hand_computed_over_a_batch() -> None:
    equity = np.array(
        [
            [1_000_000, 1_050_000, 980_000, 1_020_000, 950_000, 1_100_000],  # peak 1.05M, trough 0.95M
            [1_000_000, 990_000, 995_000, 1_010_000, 1_005_000, 1_020_000],  # 10k, then 5k
            [1_000_000] * 6,
        ],
        dtype=float,
    )
    result = measures.max_drawdown(equity, 1_000_000.0)
    np.testing.assert_allclose(result, [0.10, 0.01, 0.0])


def test_drawdown_is_relative_to_capital_not_peak() -> None:
    # Peak 2x capital, fall to 1.5x: a drawdown of half the starting capital.
    assert measures.max_drawdown(np.array([100.0, 200.0, 150.0]), 100.0) == pytest.approx(0.5)


def test_theta_capture_hand_computed_and_safe_at_zero() -> None:
    pnl = np.array([3_000.0, -1_500.0, 250.0, 10.0])
    accrued = np.array([5_000.0, 5_000.0, 1_000.0, 0.0])
    np.testing.assert_allclose(measures.theta_capture(pnl, accrued), [0.6, -0.3, 0.25, 0.0])
    assert np.all(np.isfinite(measures.theta_capture(pnl, np.zeros(4))))


def test_theta_accrued_sums_theta_times_time() -> None:
    theta_per_year = np.array([[-36_500.0, 73_000.0]])  # USD per year
    assert measures.theta_accrued(theta_per_year, 1 / 365) == pytest.approx(100.0)


def test_cvar_hand_computed() -> None:
    returns = np.array([0.05, -0.10, 0.02, 0.01, -0.30, 0.03, 0.04, 0.00, 0.02, 0.01] * 2)
    # 20 returns, 5% tail = 1 return: the worst, -0.30.
    assert measures.cvar(returns) == pytest.approx(-0.30)
    # 10% tail = 2 returns: -0.30 and -0.30.
    assert measures.cvar(returns, level=0.10) == pytest.approx(-0.30)
    # 25% tail = 5 returns: -0.3, -0.3, -0.1, -0.1, 0.0.
    assert measures.cvar(returns, level=0.25) == pytest.approx(-0.16)
    with pytest.raises(ValueError, match="level"):
        measures.cvar(returns, level=0.0)


def test_spiral_index_hand_computed() -> None:
    np.testing.assert_allclose(
        measures.spiral_index(np.array([20, 10, 35]), np.array([10, 10, 7])), [2, 1, 5]
    )


def test_annualised_return_and_calmar() -> None:
    assert measures.annualised_return(np.array(0.21), 252.0) == pytest.approx(0.21)
    assert measures.annualised_return(np.array(0.1025), 126.0) == pytest.approx(0.21550625)
    assert measures.calmar(np.array(0.3), np.array(0.15)) == pytest.approx(2.0)


def test_tracker_matches_the_functions_on_a_random_curve() -> None:
    rng = np.random.default_rng(3)
    n_envs, n_steps, capital = 4, 50, 100_000.0
    equity = capital + np.cumsum(rng.normal(0, 1_000, (n_envs, n_steps)), axis=1)
    theta = rng.uniform(0, 200, (n_envs, n_steps))
    gross = rng.integers(5, 30, (n_envs, n_steps))
    tracker = measures.EpisodeTracker(n_envs, capital, bars_per_day=2)
    tracker.reset(np.ones(n_envs, bool), np.full(n_envs, capital), np.full(n_envs, 10))
    for t in range(n_steps):
        tracker.update(
            equity[:, t], theta[:, t], gross[:, t], np.full(n_envs, 0.5), rolls=np.ones(n_envs, int)
        )
    summary = tracker.summary()
    curve = np.concatenate([np.full((n_envs, 1), capital), equity], axis=1)
    np.testing.assert_allclose(summary["max_drawdown"], measures.max_drawdown(curve, capital))
    np.testing.assert_allclose(summary["theta_capture"], (equity[:, -1] - capital) / theta.sum(axis=1))
    np.testing.assert_allclose(summary["spiral_index"], np.maximum(gross.max(axis=1), 10) / 10)
    np.testing.assert_array_equal(summary["rolls"], n_steps)
    assert list(summary) == list(measures.SUMMARY_FIELDS)


def test_tracker_reset_by_mask_leaves_other_envs_alone() -> None:
    tracker = measures.EpisodeTracker(2, 100.0, bars_per_day=1)
    tracker.reset(np.array([True, True]), np.array([100.0, 100.0]), np.array([1, 1]))
    tracker.update(
        np.array([90.0, 80.0]), np.zeros(2), np.array([1, 1]), np.zeros(2), blocked=np.array([2, 3])
    )
    tracker.reset(np.array([False, True]), np.array([100.0]), np.array([1]))
    summary = tracker.summary()
    np.testing.assert_allclose(summary["max_drawdown"], [0.1, 0.0])
    np.testing.assert_array_equal(summary["blocked"], [2, 0])
    np.testing.assert_array_equal(summary["steps"], [1, 0])
