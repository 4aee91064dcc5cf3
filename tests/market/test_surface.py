"""The implied-volatility surface: ATM term-structure identity, limits, skew and the risk reversal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from thetagym.market.params import MarketConfig
from thetagym.market.simulator import simulate
from thetagym.market.stats import risk_reversal
from thetagym.market.surface import ONE_MONTH, SurfaceState, atm_variance, implied_volatility


def _state(
    spot: float = 0.02, long: float = 0.06, kappa: float = 1.5, jump: float = 0.004, skew: float = 0.3
):
    return SurfaceState(*map(np.asarray, (spot, long, kappa, jump, skew, 0.05)))


def test_atm_variance_is_the_expected_average_variance() -> None:
    """w(T) T = integral of E[v_t] over [0, T] plus J T: check against numerical integration."""
    state = _state()
    for tau in (1 / 52, 1 / 12, 0.5, 2.0):
        grid = np.linspace(0.0, tau, 20001)
        expected = 0.06 + (0.02 - 0.06) * np.exp(-1.5 * grid)
        average = np.trapezoid(expected, grid) / tau + 0.004
        assert float(atm_variance(state, np.asarray(tau))) == pytest.approx(average, rel=1e-8)


def test_atm_term_structure_limits() -> None:
    state = _state()
    # Maturities are floored at an hour of trading (MIN_TIME_TO_EXPIRY).
    assert float(atm_variance(state, np.asarray(1e-9))) == pytest.approx(0.02 + 0.004, rel=1e-3)
    assert float(atm_variance(state, np.asarray(1e4))) == pytest.approx(0.06 + 0.004, rel=1e-3)


def test_atm_implied_volatility_is_the_atm_variance_root() -> None:
    state = _state()
    tau = np.array([1 / 52, 1 / 12, 1.0])
    np.testing.assert_allclose(implied_volatility(state, np.zeros(3), tau), np.sqrt(atm_variance(state, tau)))


def test_put_skew_and_risk_reversal_scale_with_skew() -> None:
    low, high = _state(skew=0.2), _state(skew=0.4)
    strikes = np.array([-0.1, 0.0, 0.1])
    vols = implied_volatility(high, strikes, np.full(3, ONE_MONTH))
    assert vols[0] > vols[1] > vols[2]
    assert float(risk_reversal(high)) > float(risk_reversal(low)) > 0.0


def test_risk_reversal_strikes_have_the_stated_deltas() -> None:
    """Recompute Black-76 deltas at the strikes the fixed-point iteration found."""
    state = _state()
    tau = ONE_MONTH
    for d1_target in (0.6744897501960817, -0.6744897501960817):
        vol = np.sqrt(atm_variance(state, np.asarray(tau)))
        for _ in range(12):
            k = 0.5 * vol * vol * tau - d1_target * vol * np.sqrt(tau)
            vol = implied_volatility(state, k, np.asarray(tau))
        d1 = (-k + 0.5 * vol * vol * tau) / (vol * np.sqrt(tau))
        assert float(ndtr(d1)) == pytest.approx(float(ndtr(d1_target)), abs=1e-6)


def test_simulated_surface_follows_the_variance_state() -> None:
    config = MarketConfig()
    path = simulate(config, "calm", 63, [1, 2])
    np.testing.assert_allclose(path.implied_variance, config.pricing.variance_multiplier * path.variance)
    low, high = config.pricing.skew_bounds
    assert np.all((path.skew >= low) & (path.skew <= high))
    rows, bars = np.array([0, 1]), np.array([10, 200])
    surface = path.surface_at(rows, bars)
    assert surface.spot_variance.shape == (2, 1)
    # Skew rises with stress: higher VIX, larger skew parameter.
    order = np.argsort(path.vix[0])
    assert path.skew[0, order[-1]] >= path.skew[0, order[0]]
