"""Scalar compiled (numba) kernels of the volatility surface and the VIX complex, callable from
``@njit`` code, and the simulator's compiled recursion over bars (:func:`bar_recursion`).

The scalar kernels hold the only copy of the formulas of :mod:`thetagym.market.surface`,
:mod:`thetagym.market.vix` and :func:`thetagym.market.params.average_weight`, whose broadcasting
numpy functions evaluate them element by element (see those modules for the model). Variances are
per year (decimal squared), mean reversion per year, times in years, volatilities decimal per
sqrt(year), VIX levels and futures in index points. NaN inputs propagate as in numpy.

Every kernel has one explicit signature and is cached on disk (:func:`compile_kernel`);
:func:`bar_recursion` takes owned, C-contiguous float64 and int64 arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import types

from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
from thetagym.market.params import VIX_HORIZON
from thetagym.pricing.kernels import as_ufunc, clip, compile_kernel, maximum

__all__ = [
    "MAX_VIX_OPTION_VOLATILITY",
    "MIN_TIME_TO_EXPIRY",
    "MIN_VIX_OPTION_VOLATILITY",
    "ONE_MONTH",
    "atm_variance_scalar",
    "average_weight_scalar",
    "average_weight_ufunc",
    "bar_recursion",
    "implied_volatility_scalar",
    "log_vix_variance_scalar",
    "vix_future_price_scalar",
    "vix_option_volatility_scalar",
    "vix_squared_scalar",
]

ONE_MONTH = 1.0 / 12.0
"""One month in years: the maturity at which the smile's skew exponent changes."""
MIN_TIME_TO_EXPIRY = 1.0 / (TRADING_DAYS_PER_YEAR * 24.0)
"""Floor on maturity (an hour of trading, in years) in the smile and in a VIX option's volatility,
so expiring options stay finite."""
MIN_VIX_OPTION_VOLATILITY = 0.2
MAX_VIX_OPTION_VOLATILITY = 2.5

_FLOAT = types.float64
_VECTOR = types.float64[::1]
_MATRIX = types.float64[:, ::1]
_INDICES = types.int64[::1]


@compile_kernel(_FLOAT(_FLOAT, _FLOAT))
def average_weight_scalar(mean_reversion: float, horizon: float) -> float:
    """``(1 - exp(-kappa T)) / (kappa T)``, dimensionless: the weight of the spot variance in the
    expected average variance over ``horizon`` years at ``mean_reversion`` per year (1 when
    ``kappa T <= 1e-8``)."""
    x = mean_reversion * horizon
    if x > 1e-8:
        return -math.expm1(-x) / maximum(x, 1e-8)
    return 1.0


@as_ufunc(["float64(float64, float64)"])
def average_weight_ufunc(mean_reversion: float, horizon: float) -> float:
    """:func:`average_weight_scalar` as a numpy ufunc, for :func:`thetagym.market.params.average_weight`
    (which cannot hold it: this module reads ``VIX_HORIZON`` from there)."""
    return average_weight_scalar(mean_reversion, horizon)


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def atm_variance_scalar(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    time_to_expiry: float,
) -> float:
    """At-the-money implied variance (per year) at ``time_to_expiry`` years, floored at
    :data:`MIN_TIME_TO_EXPIRY`: ``long + (spot - long) * average_weight + jump``."""
    tau = maximum(time_to_expiry, MIN_TIME_TO_EXPIRY)
    weight = average_weight_scalar(mean_reversion, tau)
    return long_variance + (spot_variance - long_variance) * weight + jump_variance


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def implied_volatility_scalar(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    skew: float,
    curvature: float,
    log_moneyness: float,
    time_to_expiry: float,
) -> float:
    """Implied volatility (decimal per sqrt(year)) at ``log(strike / forward)`` and
    ``time_to_expiry`` years: the at-the-money volatility times the quadratic smile in
    standardised moneyness (clipped to [-4, 4]), the smile clipped to [0.5, 3]."""
    tau = maximum(time_to_expiry, MIN_TIME_TO_EXPIRY)
    atm = math.sqrt(atm_variance_scalar(spot_variance, long_variance, mean_reversion, jump_variance, tau))
    z = clip(log_moneyness / (atm * math.sqrt(tau)), -4.0, 4.0)
    exponent = 0.5 if tau < ONE_MONTH else 0.1
    slope = skew * (tau / ONE_MONTH) ** exponent
    smile = clip(1.0 - slope * z + curvature * z * z, 0.5, 3.0)
    return atm * smile


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def vix_squared_scalar(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    horizon: float,
) -> float:
    """Risk-neutral expected average variance (per year) over ``horizon`` years."""
    weight = average_weight_scalar(mean_reversion, horizon)
    return long_variance + (spot_variance - long_variance) * weight + jump_variance


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def log_vix_variance_scalar(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    vol_of_variance: float,
    time_to_expiry: float,
) -> float:
    """Risk-neutral variance of ``log VIX`` over ``time_to_expiry`` years (dimensionless), for a
    vol of variance ``vol_of_variance`` per sqrt(year)."""
    weight = average_weight_scalar(mean_reversion, VIX_HORIZON)
    level = maximum(
        vix_squared_scalar(spot_variance, long_variance, mean_reversion, jump_variance, VIX_HORIZON), 1e-8
    )
    scaled = weight * vol_of_variance
    eta2 = scaled * scaled * maximum(spot_variance, 0.0) / (4.0 * level * level)
    tau = maximum(time_to_expiry, 0.0)
    two_kappa = 2.0 * mean_reversion
    if two_kappa * tau > 1e-8:
        decay = -math.expm1(-two_kappa * tau) / maximum(two_kappa, 1e-12)
    else:
        decay = tau
    return eta2 * decay


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def vix_future_price_scalar(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    vol_of_variance: float,
    time_to_expiry: float,
) -> float:
    """VIX future (points) expiring in ``time_to_expiry`` years: the root of the expected squared
    VIX at expiry times ``exp(-s^2 / 2)``; equals the VIX at expiry."""
    tau = maximum(time_to_expiry, 0.0)
    weight = average_weight_scalar(mean_reversion, VIX_HORIZON)
    expected = (
        long_variance
        + jump_variance
        + (spot_variance - long_variance) * weight * math.exp(-mean_reversion * tau)
    )
    s2 = log_vix_variance_scalar(
        spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, tau
    )
    return 100.0 * math.sqrt(maximum(expected, 0.0)) * math.exp(-0.5 * s2)


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def vix_option_volatility_scalar(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    vol_of_variance: float,
    time_to_expiry: float,
) -> float:
    """Black-76 volatility (decimal per sqrt(year)) of a VIX option on the future of the same
    expiry, ``time_to_expiry`` years floored at an hour of trading; clipped to [0.2, 2.5]."""
    tau = maximum(time_to_expiry, MIN_TIME_TO_EXPIRY)
    s2 = log_vix_variance_scalar(
        spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, tau
    )
    return clip(math.sqrt(s2 / tau), MIN_VIX_OPTION_VOLATILITY, MAX_VIX_OPTION_VOLATILITY)


@compile_kernel(
    types.UniTuple(_MATRIX, 2)(
        _MATRIX,
        _VECTOR,
        _MATRIX,
        _MATRIX,
        _MATRIX,
        _MATRIX,
        _VECTOR,
        _INDICES,
        _INDICES,
        _VECTOR,
        _VECTOR,
        _FLOAT,
        _FLOAT,
    )
)
def bar_recursion(
    bar_drift: np.ndarray,
    half_length: np.ndarray,
    index_shock: np.ndarray,
    variance_decay: np.ndarray,
    variance_pull: np.ndarray,
    variance_shock: np.ndarray,
    initial_variance: np.ndarray,
    event_bar: np.ndarray,
    event_row: np.ndarray,
    event_gap: np.ndarray,
    event_multiple: np.ndarray,
    vix_constant: float,
    vix_slope: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The simulator's time recursion (:mod:`thetagym.market.simulator`): log index and truncated
    variance ``(n_paths, n_bars + 1)`` of each path, column 0 the start (log index 0, variance
    ``initial_variance``, per year).

    Per bar ``b`` of path ``p``, with ``v+ = max(v, 0)`` (the full-truncation Euler step; every
    state-free term precomputed, ``(n_paths, n_bars)`` but ``half_length``, ``(n_bars,)``):

        x += bar_drift - half_length * v+ + sqrt(v+) * index_shock
        v  = variance_decay * v+ + variance_pull + sqrt(v+) * variance_shock + (v - v+)

    Event ``k`` (a scenario's shock) replaces the move of path ``event_row[k]`` into bar
    ``event_bar[k]`` (1 to ``n_bars``): the log index gaps ``event_gap[k]`` from the previous
    bar's and the variance jumps to where the VIX (``sqrt(vix_constant + vix_slope * v+)``,
    decimal) is ``event_multiple[k]`` times the previous bar's, floored at 0. Events must be
    sorted by row, then bar; a ValueError is raised otherwise. The variance state may dip below
    zero; the variance returned is ``v+``.

    The operations are those of the simulator's former numpy loop over bars, in the same order
    and without fastmath, so the results are the same to the bit.
    """
    n_paths, n_bars = bar_drift.shape
    n_events = event_bar.size
    log_index = np.empty((n_paths, n_bars + 1))
    variance = np.empty((n_paths, n_bars + 1))
    k = 0
    for p in range(n_paths):
        x = 0.0
        v = initial_variance[p]
        log_index[p, 0] = x
        variance[p, 0] = maximum(v, 0.0)
        for b in range(n_bars):
            vp = maximum(v, 0.0)
            sv = math.sqrt(vp)
            x = x + bar_drift[p, b] - half_length[b] * vp + sv * index_shock[p, b]
            v = variance_decay[p, b] * vp + variance_pull[p, b] + sv * variance_shock[p, b] + (v - vp)
            while k < n_events and event_row[k] == p and event_bar[k] == b + 1:
                previous = vix_constant + vix_slope * variance[p, b]
                multiple = event_multiple[k]
                x = log_index[p, b] + event_gap[k]
                v = maximum((multiple * multiple * previous - vix_constant) / vix_slope, 0.0)
                k += 1
            log_index[p, b + 1] = x
            variance[p, b + 1] = maximum(v, 0.0)
    if k != n_events:
        raise ValueError(
            "events must lie on bars 1 to n_bars of rows 0 to n_paths - 1, sorted by row then bar"
        )
    return log_index, variance
