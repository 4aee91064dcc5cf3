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


DAILY_EQUITY = np.array([1_000_000.0, 1_002_000.0, 1_001_000.0, 1_004_000.0, 1_004_000.0, 999_000.0])
"""Daily closes on $1M of capital: returns 0.2%, -0.1%, 0.3%, 0, -0.5%."""


def test_daily_measures_hand_computed() -> None:
    returns = [0.002, -0.001, 0.003, 0.0, -0.005]
    mean = sum(returns) / 5  # -0.0002
    sample_sd = (sum((r - mean) ** 2 for r in returns) / 4) ** 0.5
    downside = (sum(min(r, 0.0) ** 2 for r in returns) / 5) ** 0.5
    got = measures.daily_measures(DAILY_EQUITY, 1_000_000.0)
    assert got["volatility"] == pytest.approx(sample_sd * 252**0.5)
    assert got["sharpe"] == pytest.approx(mean / sample_sd * 252**0.5)
    assert got["sortino"] == pytest.approx(mean * 252 / (downside * 252**0.5))
    scale = 0.10 / (sample_sd * 252**0.5)
    growth = np.prod([1 + scale * r for r in returns])
    assert got["risk_matched_return"] == pytest.approx(growth ** (252 / 5) - 1)
    # Scaled P&L path: peak after day 3, then two steps down.
    path = np.cumsum([0.0, *(scale * r for r in returns)])
    assert got["matched_max_drawdown"] == pytest.approx(np.max(np.maximum.accumulate(path) - path))


def test_excess_returns_subtract_the_cash_rate_a_day() -> None:
    excess = measures.excess_returns(np.array([100.0, 100.0, 101.0]), 100.0, cash_rate=0.0252)
    np.testing.assert_allclose(excess, [-0.0001, 0.0099])


def test_a_flat_book_scores_zero_not_a_ratio_of_rounding_errors() -> None:
    flat = measures.daily_measures(np.full(64, 1_000_000.0), 1_000_000.0)
    assert flat["sharpe"] == 0.0 and flat["sortino"] == 0.0 and flat["risk_matched_return"] == 0.0
    nearly = measures.daily_measures(1_000_000.0 + np.arange(64) * 1e-4, 1_000_000.0)
    assert nearly["sharpe"] == 0.0  # a cent a day on $1M is below MIN_VOLATILITY


def test_a_scaled_book_that_cannot_survive_its_worst_day_is_ruined() -> None:
    # Calm days then one loss of about 10 daily standard deviations (one day of n can be at most
    # sqrt(n) of them): levered to 200% a year, that day loses more than the account.
    returns = np.r_[np.tile([1e-4, -1e-4], 50), -4e-3]
    assert measures.risk_matched_return(returns, target_volatility=2.0) == -1.0
    assert measures.risk_matched_return(returns, target_volatility=0.1) > -1.0
    moments = measures.return_moments(returns[None, :])
    args = [moments[k] for k in measures.RISK_MATCHED_MOMENTS]
    assert measures.pooled_risk_matched_return(*args, target_volatility=2.0) == -1.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pooled_measures_equal_those_of_the_concatenated_track_record(seed: int) -> None:
    returns = np.random.default_rng(seed).normal(3e-4, 6e-3, size=(7, 40))
    moments = measures.return_moments(returns)
    days, s1, s2 = moments["trading_days"], moments["return_sum"], moments["return_sum2"]
    whole = returns.ravel()
    assert measures.pooled_sharpe(days, s1, s2) == pytest.approx(measures.sharpe(whole), rel=1e-9)
    assert measures.pooled_volatility(days, s1, s2) == pytest.approx(measures.volatility(whole), rel=1e-9)
    assert measures.pooled_sortino(days, s1, s2, moments["downside_sum2"]) == pytest.approx(
        measures.sortino(whole), rel=1e-9
    )
    # Fourth-order log growth: scaled daily moves of ~0.6% leave an error far below 1e-6 a year.
    pooled = measures.pooled_risk_matched_return(*(moments[k] for k in measures.RISK_MATCHED_MOMENTS))
    assert pooled == pytest.approx(measures.risk_matched_return(whole), abs=1e-7)


def test_pooled_theta_capture_is_a_ratio_of_sums_a_tiny_book_cannot_blow_up() -> None:
    pnl = np.array([12_000.0, -3_000.0, 150.0])  # the third book accrued $4 of theta and made $150
    accrued = np.array([20_000.0, 18_000.0, 4.0])
    assert measures.pooled_theta_capture(pnl, accrued) == pytest.approx(9_150.0 / 38_004.0)
    assert measures.theta_capture(pnl, accrued)[2] == pytest.approx(37.5)  # the per-episode ratio
    assert np.isnan(measures.pooled_theta_capture(np.array([5.0]), np.array([0.5])))


def test_calmar_is_reported_only_for_episodes_of_a_year_or_more() -> None:
    ratio = measures.calmar(np.array([0.12, 0.12]), np.array([0.04, 0.04]), np.array([251, 252]))
    assert np.isnan(ratio[0]) and ratio[1] == pytest.approx(3.0)


def test_premium_sold_counts_new_rolled_and_added_short_options_once() -> None:
    multiplier = np.array([[50.0, 50.0, 50.0, 0.0, 0.0]])  # put, call, put, an ES future, an empty slot

    def legs(quantity, strike, expiry, entry):
        return tuple(np.array([x], dtype=float) for x in (quantity, strike, expiry, entry))

    before = legs(
        [-4, -2, -1, 1, 0], [4900, 5200, 4800, 0, 0], [20, 20, 40, 0, 0], [30.0, 12.0, 20.0, 5000, 0]
    )
    after = legs(
        [-4, -2, -3, -1, 0],  # put unchanged, call rolled to a new strike, put added 2, future sold
        [4900, 5150, 4800, 0, 0],
        [20, 20, 40, 0, 0],
        [30.0, 18.0, 21.0, 5000, 0],
    )
    # call: 2 x 18 new; put: 3 x 21 - 1 x 20 = 43 points of new premium; futures never count.
    assert measures.premium_sold(before, after, multiplier)[0] == pytest.approx((2 * 18 + 43) * 50)
    nothing = legs([0] * 5, [0] * 5, [0] * 5, [0] * 5)
    assert measures.premium_sold(after, nothing, multiplier)[0] == 0.0  # closing sells no premium
