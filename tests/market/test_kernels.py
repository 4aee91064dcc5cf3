"""Scalar numba kernels of the surface and the VIX complex: against a plain numpy reference (the
formulas as they were before they were compiled), through the public broadcasting functions, and
called from inside other ``@njit`` code."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numba
import numpy as np
import pytest

from thetagym.market import surface, vix
from thetagym.market.kernels import (
    atm_variance_scalar,
    average_weight_scalar,
    implied_volatility_scalar,
    log_vix_variance_scalar,
    vix_future_price_scalar,
    vix_option_volatility_scalar,
    vix_squared_scalar,
)
from thetagym.market.params import VIX3M_HORIZON, VIX_HORIZON, average_weight

HOUR = 1.0 / (252.0 * 24.0)

# --- numpy reference ---------------------------------------------------------------------------


def reference_weight(kappa: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    x = kappa * horizon
    return np.where(x > 1e-8, -np.expm1(-x) / np.maximum(x, 1e-8), 1.0)


def reference_atm_variance(spot, long, kappa, jump, time_to_expiry):  # type: ignore[no-untyped-def]
    tau = np.maximum(time_to_expiry, HOUR)
    return long + (spot - long) * reference_weight(kappa, tau) + jump


def reference_implied_volatility(spot, long, kappa, jump, skew, curvature, log_moneyness, time_to_expiry):  # type: ignore[no-untyped-def]
    tau = np.maximum(time_to_expiry, HOUR)
    atm = np.sqrt(reference_atm_variance(spot, long, kappa, jump, tau))
    z = np.clip(log_moneyness / (atm * np.sqrt(tau)), -4.0, 4.0)
    slope = skew * (tau * 12.0) ** np.where(tau < 1.0 / 12.0, 0.5, 0.1)
    return atm * np.clip(1.0 - slope * z + curvature * z * z, 0.5, 3.0)


def reference_vix_squared(spot, long, kappa, jump, horizon):  # type: ignore[no-untyped-def]
    return long + (spot - long) * reference_weight(kappa, horizon) + jump


def reference_log_vix_variance(spot, long, kappa, jump, xi, time_to_expiry):  # type: ignore[no-untyped-def]
    weight = reference_weight(kappa, VIX_HORIZON)
    level = np.maximum(reference_vix_squared(spot, long, kappa, jump, VIX_HORIZON), 1e-8)
    eta2 = (weight * xi) ** 2 * np.maximum(spot, 0.0) / (4.0 * level * level)
    tau = np.maximum(time_to_expiry, 0.0)
    two_kappa = 2.0 * kappa
    decay = np.where(two_kappa * tau > 1e-8, -np.expm1(-two_kappa * tau) / np.maximum(two_kappa, 1e-12), tau)
    return eta2 * decay


def reference_futures_price(spot, long, kappa, jump, xi, time_to_expiry):  # type: ignore[no-untyped-def]
    tau = np.maximum(time_to_expiry, 0.0)
    weight = reference_weight(kappa, VIX_HORIZON)
    expected = long + jump + (spot - long) * weight * np.exp(-kappa * tau)
    s2 = reference_log_vix_variance(spot, long, kappa, jump, xi, tau)
    return 100.0 * np.sqrt(np.maximum(expected, 0.0)) * np.exp(-0.5 * s2)


def reference_vix_option_volatility(spot, long, kappa, jump, xi, time_to_expiry):  # type: ignore[no-untyped-def]
    tau = np.maximum(time_to_expiry, HOUR)
    return np.clip(np.sqrt(reference_log_vix_variance(spot, long, kappa, jump, xi, tau) / tau), 0.2, 2.5)


# --- grids -------------------------------------------------------------------------------------


def state_grid() -> dict[str, np.ndarray]:
    """Every combination of zero, tiny, negative and ordinary state values, plus a random part."""
    grid = itertools.product(
        [0.0, 1e-6, 0.02, 0.3],  # spot variance
        [0.01, 0.06],  # long variance
        [0.0, 1e-12, 1e-7, 2.0, 30.0],  # mean reversion
        [0.0, 0.004],  # jump variance
        [0.0, 0.4, 1.2],  # vol of variance
        [-0.1, 0.0, 1e-9, HOUR / 2, 1.0 / 52.0, 1.0 / 12.0, 0.5, 3.0],  # time to expiry
    )
    columns = [np.array(c) for c in zip(*grid, strict=True)]
    rng = np.random.default_rng(11)
    size = 3000
    random = [
        rng.uniform(0.0, 0.5, size),
        rng.uniform(0.005, 0.1, size),
        np.exp(rng.uniform(np.log(1e-3), np.log(20.0), size)),
        rng.uniform(0.0, 0.01, size),
        rng.uniform(0.0, 1.5, size),
        np.exp(rng.uniform(np.log(1e-4), np.log(2.0), size)),
    ]
    names = ("spot", "long", "kappa", "jump", "xi", "tau")
    state = {n: np.concatenate([c, r]) for n, c, r in zip(names, columns, random, strict=True)}
    rng = np.random.default_rng(12)
    n = state["tau"].size
    state["skew"] = rng.uniform(0.0, 0.8, n)
    state["curvature"] = rng.uniform(0.0, 0.3, n)
    state["log_moneyness"] = rng.normal(0.0, 0.2, n)
    state["log_moneyness"][::7] = 0.0
    state["log_moneyness"][::11] = -3.0
    return state


def each(kernel, *columns: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([kernel(*row) for row in zip(*columns, strict=True)])


def assert_relative(ours: np.ndarray, reference: np.ndarray) -> None:
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=0.0)


STATE = state_grid()
VARIANCE = tuple(STATE[n] for n in ("spot", "long", "kappa", "jump"))
VIX_ARGS = (*VARIANCE, STATE["xi"], STATE["tau"])


# --- kernels against the reference -------------------------------------------------------------


@pytest.mark.parametrize("horizon", [VIX_HORIZON, VIX3M_HORIZON, 0.0, 1e-9, 2.0])
def test_average_weight(horizon: float) -> None:
    kappa = STATE["kappa"]
    assert_relative(
        each(average_weight_scalar, kappa, np.full(kappa.size, horizon)), reference_weight(kappa, horizon)
    )


def test_atm_variance() -> None:
    assert_relative(
        each(atm_variance_scalar, *VARIANCE, STATE["tau"]), reference_atm_variance(*VARIANCE, STATE["tau"])
    )


def test_implied_volatility() -> None:
    smile = (STATE["skew"], STATE["curvature"], STATE["log_moneyness"], STATE["tau"])
    ours = each(implied_volatility_scalar, *VARIANCE, *smile)
    # A zero at-the-money variance leaves the standardised moneyness undefined (NaN or inf).
    defined = reference_atm_variance(*VARIANCE, STATE["tau"]) > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        reference = reference_implied_volatility(*VARIANCE, *smile)
    assert np.array_equal(np.isnan(ours), np.isnan(reference)) and not np.isnan(ours[defined]).any()
    assert_relative(ours[defined], reference[defined])


@pytest.mark.parametrize("horizon", [VIX_HORIZON, VIX3M_HORIZON])
def test_vix_squared(horizon: float) -> None:
    horizons = np.full(STATE["tau"].size, horizon)
    assert_relative(each(vix_squared_scalar, *VARIANCE, horizons), reference_vix_squared(*VARIANCE, horizon))


@pytest.mark.parametrize(
    ("kernel", "reference"),
    [
        (log_vix_variance_scalar, reference_log_vix_variance),
        (vix_option_volatility_scalar, reference_vix_option_volatility),
    ],
)
def test_vix_kernels(kernel, reference) -> None:  # type: ignore[no-untyped-def]
    assert_relative(each(kernel, *VIX_ARGS), reference(*VIX_ARGS))


def test_vix_future_price() -> None:
    """Compared as the variance ``(F / 100)^2``: with no spot variance and slow mean reversion the
    expected variance is ``long - long * weight * exp(-kappa tau)``, which cancels to ~1e-9, and
    the square root would magnify an ulp of ``long`` there."""
    ours = each(vix_future_price_scalar, *VIX_ARGS)
    reference = reference_futures_price(*VIX_ARGS)
    assert np.all(np.isfinite(ours))
    scale = STATE["spot"] + STATE["long"] + STATE["jump"]
    np.testing.assert_array_less(
        np.abs((ours / 100) ** 2 - (reference / 100) ** 2), 1e-12 * (reference / 100) ** 2 + 1e-15 * scale
    )


def test_limits() -> None:
    # No mean reversion: the spot variance is the average; a flat state gives a flat surface.
    assert average_weight_scalar(0.0, 1.0) == 1.0
    assert atm_variance_scalar(0.04, 0.09, 3.0, 0.0, 0.25) < 0.09
    assert implied_volatility_scalar(0.04, 0.04, 2.0, 0.0, 0.3, 0.05, 0.0, 0.5) == pytest.approx(
        0.2, rel=1e-15
    )
    # At expiry the future is the VIX and the VIX option volatility sits at its floor or the model's.
    vix_now = 100.0 * np.sqrt(vix_squared_scalar(0.02, 0.06, 1.5, 0.003, VIX_HORIZON))
    assert vix_future_price_scalar(0.02, 0.06, 1.5, 0.003, 0.45, 0.0) == pytest.approx(vix_now, rel=1e-15)
    assert vix_option_volatility_scalar(0.0, 0.06, 1.5, 0.003, 0.45, 0.1) == 0.2
    assert vix_option_volatility_scalar(0.5, 0.06, 1.5, 0.0, 9.0, 0.0) == 2.5
    assert np.isnan(implied_volatility_scalar(0.04, 0.04, 2.0, 0.0, 0.3, 0.05, np.nan, 0.5))


# --- public numpy functions are the kernels ----------------------------------------------------


def test_public_functions_are_the_kernels_element_by_element() -> None:
    state = surface.SurfaceState(*VARIANCE, STATE["skew"], STATE["curvature"])
    smile = (STATE["skew"], STATE["curvature"], STATE["log_moneyness"], STATE["tau"])
    defined = reference_atm_variance(*VARIANCE, STATE["tau"]) > 0.0  # else 0/0 in the smile
    np.testing.assert_array_equal(
        average_weight(STATE["kappa"], VIX_HORIZON),
        each(average_weight_scalar, STATE["kappa"], np.full(STATE["kappa"].size, VIX_HORIZON)),
    )
    np.testing.assert_array_equal(
        surface.atm_variance(state, STATE["tau"]), each(atm_variance_scalar, *VARIANCE, STATE["tau"])
    )
    defined_state = surface.SurfaceState(*(np.asarray(x)[defined] for x in (*VARIANCE, *smile[:2])))
    np.testing.assert_array_equal(
        surface.implied_volatility(defined_state, STATE["log_moneyness"][defined], STATE["tau"][defined]),
        each(implied_volatility_scalar, *VARIANCE, *smile)[defined],
    )
    np.testing.assert_array_equal(
        vix.vix_squared(*VARIANCE, VIX3M_HORIZON),
        each(vix_squared_scalar, *VARIANCE, np.full(STATE["tau"].size, VIX3M_HORIZON)),
    )
    np.testing.assert_array_equal(vix.log_vix_variance(*VIX_ARGS), each(log_vix_variance_scalar, *VIX_ARGS))
    np.testing.assert_array_equal(vix.futures_price(*VIX_ARGS), each(vix_future_price_scalar, *VIX_ARGS))
    # The path form: one row per state, a column of maturities.
    path = SimpleNamespace(
        implied_variance=STATE["spot"][:, None],
        long_implied_variance=STATE["long"][:, None],
        implied_mean_reversion=STATE["kappa"],
        jump_variance=STATE["jump"],
        vol_of_implied_variance=0.45,
    )
    rows, bars = np.arange(STATE["tau"].size), np.zeros(STATE["tau"].size, dtype=int)
    xi = np.full(STATE["tau"].size, 0.45)
    np.testing.assert_array_equal(
        vix.vix_option_volatility(path, rows, bars, STATE["tau"][:, None])[:, 0],
        each(vix_option_volatility_scalar, *VARIANCE, xi, STATE["tau"]),
    )
    np.testing.assert_array_equal(
        vix.vix_future_price(path, rows, bars, STATE["tau"][:, None])[:, 0],
        each(vix_future_price_scalar, *VARIANCE, xi, STATE["tau"]),
    )


def test_public_functions_broadcast_and_keep_zero_dimensional_results() -> None:
    state = surface.SurfaceState(*map(np.asarray, (0.04, 0.03, 2.0, 0.001, 0.3, 0.05)))
    assert surface.atm_variance(state, np.asarray(0.5)).shape == ()
    assert average_weight(2.0, VIX_HORIZON).shape == ()
    assert vix.vix_squared(np.asarray(0.04), 0.03, 2.0, 0.0).shape == ()
    vols = surface.implied_volatility(
        state, np.array([[-0.1], [0.0], [0.1]]), np.array([0.02, 0.1, 0.5, 1.0])
    )
    assert vols.shape == (3, 4) and vols.flags.writeable
    prices = vix.futures_price(np.array([[0.02], [0.08]]), 0.05, 2.0, 0.002, 0.45, np.array([0.0, 0.1, 0.3]))
    assert prices.shape == (2, 3)


# --- called from compiled code -----------------------------------------------------------------


@numba.njit
def _compiled_caller(spot, long, kappa, jump, xi, tau):  # type: ignore[no-untyped-def]
    out = np.empty((spot.size, 6))
    for i in range(spot.size):
        out[i, 0] = average_weight_scalar(kappa[i], tau[i])
        out[i, 1] = atm_variance_scalar(spot[i], long[i], kappa[i], jump[i], tau[i])
        out[i, 2] = implied_volatility_scalar(spot[i], long[i], kappa[i], jump[i], 0.3, 0.05, -0.1, tau[i])
        out[i, 3] = log_vix_variance_scalar(spot[i], long[i], kappa[i], jump[i], xi[i], tau[i])
        out[i, 4] = vix_future_price_scalar(spot[i], long[i], kappa[i], jump[i], xi[i], tau[i])
        out[i, 5] = vix_option_volatility_scalar(spot[i], long[i], kappa[i], jump[i], xi[i], tau[i])
    return out


def test_kernels_can_be_called_from_njit_code() -> None:
    out = _compiled_caller(*VIX_ARGS)
    n = STATE["tau"].size
    np.testing.assert_array_equal(out[:, 0], each(average_weight_scalar, STATE["kappa"], STATE["tau"]))
    np.testing.assert_array_equal(out[:, 1], each(atm_variance_scalar, *VARIANCE, STATE["tau"]))
    smile = (np.full(n, 0.3), np.full(n, 0.05), np.full(n, -0.1), STATE["tau"])
    np.testing.assert_array_equal(out[:, 2], each(implied_volatility_scalar, *VARIANCE, *smile))
    np.testing.assert_array_equal(out[:, 3], each(log_vix_variance_scalar, *VIX_ARGS))
    np.testing.assert_array_equal(out[:, 4], each(vix_future_price_scalar, *VIX_ARGS))
    np.testing.assert_array_equal(out[:, 5], each(vix_option_volatility_scalar, *VIX_ARGS))
