"""Scalar compiled (numba) pricing kernels: one option per call, callable from ``@njit`` code.

These hold the only copy of the Black-76 and spread formulas; the broadcasting numpy functions of
:mod:`thetagym.pricing.black76` and :mod:`thetagym.pricing.spreads` evaluate them element by
element. Units and degenerate-case conventions are those of :mod:`thetagym.pricing.black76`
(time in years, volatility a decimal per square-root year, Greeks per year and per 1.00 of
volatility) and :mod:`thetagym.pricing.spreads` (prices and spreads in index points).

All kernels are compiled with ``error_model="numpy"`` (a float division by zero gives inf or NaN
as in numpy instead of raising) and without fastmath, so NaN and inf inputs propagate as in the
numpy formulas. They may raise the CPU's floating-point flags (an ordered comparison with NaN
sets "invalid"): a numpy ufunc built on them reports those as RuntimeWarnings unless it runs
under ``np.errstate``. ``is_call`` is a bool: True for a call, False for a put.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
from numba import types

if TYPE_CHECKING:
    from thetagym.pricing.spreads import SpreadModel

__all__ = [
    "ABSOLUTE_HALF_SPREAD",
    "EXPIRY_SCALE_DAYS",
    "EXPIRY_WIDENING",
    "FUTURES_SPREAD_TICKS",
    "FUTURES_TICK",
    "LARGE_TICK",
    "MONEYNESS_CAP",
    "MONEYNESS_WIDENING",
    "NUM_SPREAD_PARAMETERS",
    "REFERENCE_VOLATILITY",
    "RELATIVE_HALF_SPREAD",
    "SMALL_TICK",
    "TICK_THRESHOLD",
    "VOLATILITY_FLOOR",
    "as_ufunc",
    "black76_greeks_scalar",
    "black76_price_prepared",
    "black76_price_scalar",
    "clip",
    "compile_kernel",
    "futures_bid_ask_scalar",
    "maximum",
    "ndtr",
    "ndtri",
    "option_bid_ask_scalar",
    "option_half_spread_scalar",
    "option_tick_scalar",
    "spread_parameters",
]

_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2PI = 2.5066282746310002
_INV_SQRT_2 = 0.7071067811865476
# Added to the forward and to the total standard deviation: keeps log(F/K) and d1 defined at
# F = 0 and at zero volatility or time, and changes nothing for any value above ~1e-284.
_TINY = 1e-300
# Guards floor/ceil against representation error on the tick grid (0.15 / 0.05 = 2.9999999999999996).
_GRID_TOLERANCE = 1e-9
_DAYS_PER_YEAR = 365.0

_FLOAT = types.float64
_PAIR = types.UniTuple(_FLOAT, 2)
_PARAMETERS = types.Array(_FLOAT, 1, "A", readonly=True)
"""Type of :func:`spread_parameters` in the kernels (a writable vector converts to it)."""


def compile_kernel(signature: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with one explicit signature, cached on disk, numpy's division semantics.

    One signature per kernel: callers' arguments convert to it (ints to floats, a float flag to a
    bool), so no process ever adds a second overload to a kernel's cache. Numba numbers a
    function's cached overloads per process, and two processes compiling different overloads at
    once (pytest-xdist, vector envs in subprocesses) could pair one's index with the other's code.
    """
    return numba.njit(signature, cache=True, error_model="numpy")


def as_ufunc(signatures: list[str], layout: str | None = None) -> Callable[[Callable[..., Any]], np.ufunc]:
    """Decorator compiling an element-wise function into a numpy ufunc, cached on disk.

    Without ``layout``: ``numba.vectorize`` (one output, the function's return value). With a
    gufunc ``layout`` such as ``"(),()->(),()"``: ``numba.guvectorize``, the function writing each
    output into element 0 of its 1-element output array. The bare numpy ufunc is returned (not
    numba's wrapper, whose Python-level dispatch costs several microseconds per call), so inputs
    broadcast and cast by numpy's rules to the first signature they fit.
    """

    def decorate(function: Callable[..., Any]) -> np.ufunc:
        if layout is None:
            compiled = numba.vectorize(signatures, cache=True)(function)
        else:
            compiled = numba.guvectorize(signatures, layout, cache=True)(function)
        ufunc: np.ufunc = compiled.ufunc
        return ufunc

    return decorate


@compile_kernel(_FLOAT(_FLOAT, _FLOAT))
def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats: the larger, NaN if either is NaN."""
    return a if (a >= b or a != a) else b


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT))
def clip(x: float, low: float, high: float) -> float:
    """``np.clip`` of a float to ``[low, high]``: NaN stays NaN."""
    return low if x < low else (high if x > high else x)


@compile_kernel(_FLOAT(_FLOAT))
def ndtr(x: float) -> float:
    """Standard normal distribution function ``N(x) = 0.5 erfc(-x / sqrt 2)``, dimensionless.

    Accurate to a few ulps relative in both tails (``N(-30)`` is about ``5e-198``).
    """
    return 0.5 * math.erfc(-x * _INV_SQRT_2)


# Acklam's coefficients, highest power first (the tail denominator padded to six).
_CENTRE_NUMERATOR = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_CENTRE_DENOMINATOR = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
    1.0,
)
_TAIL_NUMERATOR = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549671010243751e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_TAIL_DENOMINATOR = (
    0.0,
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
    1.0,
)


@compile_kernel(_FLOAT(types.UniTuple(_FLOAT, 6), _FLOAT))
def _horner(coefficients: tuple[float, ...], x: float) -> float:
    """The polynomial with ``coefficients`` (highest power first) at ``x``."""
    total = 0.0
    for coefficient in coefficients:
        total = total * x + coefficient
    return total


@compile_kernel(_FLOAT(_FLOAT, _FLOAT))
def _halley(x: float, error: float) -> float:
    """One Halley step of ``N(x) = p`` from ``x`` given ``error = N(x) - p``; ``x`` if it overflows."""
    u = error * _SQRT_2PI * math.exp(0.5 * x * x)
    step = u / (1.0 + 0.5 * x * u)
    return x - step if math.isfinite(step) else x


@compile_kernel(_FLOAT(_FLOAT))
def _ndtri_lower(p: float) -> float:
    """``ndtri`` for ``0 < p < 0.02425``: Acklam's tail approximation and one Halley step."""
    q = math.sqrt(-2.0 * math.log(p))
    x = _horner(_TAIL_NUMERATOR, q) / _horner(_TAIL_DENOMINATOR, q)
    return _halley(x, ndtr(x) - p)


@compile_kernel(_FLOAT(_FLOAT))
def ndtri(p: float) -> float:
    """Inverse of :func:`ndtr`: the standard normal quantile of a probability ``p``, dimensionless.

    Acklam's rational approximation (relative error 1.2e-9) refined by one Halley step; matches
    ``scipy.special.ndtri`` to about 1e-15 relative. The upper tail is computed from ``1 - p`` and
    the centre from ``p - 0.5`` (both exact), so no precision is lost to cancellation.
    ``ndtri(0) = -inf``, ``ndtri(1) = inf``, NaN outside ``[0, 1]``.
    """
    if not (0.0 < p < 1.0):
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        return math.nan
    if p < 0.02425:
        return _ndtri_lower(p)
    if p > 0.97575:
        return -_ndtri_lower(1.0 - p)
    q = p - 0.5
    r = q * q
    x = q * _horner(_CENTRE_NUMERATOR, r) / _horner(_CENTRE_DENOMINATOR, r)
    # N(x) - p = erf(x / sqrt 2) / 2 - (p - 1/2): both terms small, no cancellation near p = 1/2.
    return _halley(x, 0.5 * math.erf(x * _INV_SQRT_2) - q)


@compile_kernel(types.UniTuple(_FLOAT, 5)(_FLOAT, _FLOAT, _FLOAT, _FLOAT, types.boolean, _FLOAT))
def black76_greeks_scalar(
    forward: float, strike: float, time_to_expiry: float, volatility: float, is_call: bool, rate: float
) -> tuple[float, float, float, float, float]:
    """Black-76 ``(price, delta, gamma, vega, theta)`` of one option on a forward.

    Inputs: forward and strike ``>= 0`` in points, time_to_expiry in years (negative = expired),
    volatility a decimal per sqrt(year) ``>= 0``, rate continuously compounded per year.
    Outputs: price in points, delta per point of the forward, gamma per point per point, vega per
    1.00 of volatility, theta ``d price / d(-time_to_expiry)`` per year. Degenerate inputs
    (``volatility * sqrt(time_to_expiry) == 0``, zero forward or strike) give the limits described
    in :mod:`thetagym.pricing.black76`, never NaN.
    """
    forward = forward + _TINY
    if time_to_expiry < 0.0:
        time_to_expiry = 0.0
    sqrt_time = math.sqrt(time_to_expiry)
    std = volatility * sqrt_time + _TINY
    d1 = math.log(forward / strike) / std + 0.5 * std
    omega = 1.0 if is_call else -1.0
    delta = omega * ndtr(omega * d1)
    cdf2 = omega * ndtr(omega * (d1 - std))
    density = math.exp(-0.5 * (d1 * d1))
    if rate != 0.0:
        discount = math.exp(-(rate * time_to_expiry))
        delta = delta * discount
        cdf2 = cdf2 * discount
        density = density * (discount * _INV_SQRT_2PI)
    else:
        density = density * _INV_SQRT_2PI
    price = forward * delta - strike * cdf2
    # forward * gamma = discount n(d1) / (sigma sqrt T), zeroed where sigma sqrt T == 0 (it stays
    # finite there, at most 0.4 / tiny, so masking by multiplication is safe and keeps NaN).
    forward_gamma = density / std * (1.0 if std > 2.0 * _TINY else 0.0)
    gamma = forward_gamma / forward
    vega = density * forward * sqrt_time
    theta = forward * forward_gamma * (-0.5 * (volatility * volatility))
    if rate != 0.0:
        theta = theta + rate * price
    return price, delta, gamma, vega, theta


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def black76_price_prepared(
    forward: float, strike: float, sqrt_time: float, volatility: float, omega: float, discount: float
) -> float:
    """:func:`black76_price_scalar` from the parts shared by options of one expiry: ``sqrt_time``
    the square root of the (non-negative) years to expiry, ``omega`` +1 for calls and -1 for puts,
    ``discount`` ``exp(-rate T)`` (the SPAN margin prices each leg in 16 scenarios)."""
    forward = forward + _TINY
    std = volatility * sqrt_time + _TINY
    d1 = math.log(forward / strike) / std + 0.5 * std
    price = forward * (omega * ndtr(omega * d1)) - strike * (omega * ndtr(omega * (d1 - std)))
    return price * discount


@compile_kernel(_FLOAT(_FLOAT, _FLOAT, _FLOAT, _FLOAT, types.boolean, _FLOAT))
def black76_price_scalar(
    forward: float, strike: float, time_to_expiry: float, volatility: float, is_call: bool, rate: float
) -> float:
    """Black-76 price (points) of one option on a forward: the price-only path.

    ``exp(-rate T) * w * (F N(w d1) - K N(w d2))``, ``w = +1`` for calls and ``-1`` for puts;
    inputs and degenerate cases as :func:`black76_greeks_scalar` (equal to its price to rounding).
    """
    if time_to_expiry < 0.0:
        time_to_expiry = 0.0
    discount = math.exp(-(rate * time_to_expiry)) if rate != 0.0 else 1.0
    omega = 1.0 if is_call else -1.0
    return black76_price_prepared(forward, strike, math.sqrt(time_to_expiry), volatility, omega, discount)


# --- bid/ask spreads -------------------------------------------------------------------------------

SMALL_TICK = 0
LARGE_TICK = 1
TICK_THRESHOLD = 2
FUTURES_TICK = 3
FUTURES_SPREAD_TICKS = 4
ABSOLUTE_HALF_SPREAD = 5
RELATIVE_HALF_SPREAD = 6
MONEYNESS_WIDENING = 7
MONEYNESS_CAP = 8
EXPIRY_WIDENING = 9
EXPIRY_SCALE_DAYS = 10
REFERENCE_VOLATILITY = 11
VOLATILITY_FLOOR = 12
NUM_SPREAD_PARAMETERS = 13
"""Positions of the :class:`~thetagym.pricing.spreads.SpreadModel` fields in :func:`spread_parameters`."""

_SPREAD_FIELDS = {
    SMALL_TICK: "small_tick",
    LARGE_TICK: "large_tick",
    TICK_THRESHOLD: "tick_threshold",
    FUTURES_TICK: "futures_tick",
    FUTURES_SPREAD_TICKS: "futures_spread_ticks",
    ABSOLUTE_HALF_SPREAD: "absolute_half_spread",
    RELATIVE_HALF_SPREAD: "relative_half_spread",
    MONEYNESS_WIDENING: "moneyness_widening",
    MONEYNESS_CAP: "moneyness_cap",
    EXPIRY_WIDENING: "expiry_widening",
    EXPIRY_SCALE_DAYS: "expiry_scale_days",
    REFERENCE_VOLATILITY: "reference_volatility",
    VOLATILITY_FLOOR: "volatility_floor",
}


def spread_parameters(model: SpreadModel) -> np.ndarray:
    """The fields of ``model`` as a float64 vector of length :data:`NUM_SPREAD_PARAMETERS`, in the
    order of the index constants (``parameters[LARGE_TICK]`` is ``model.large_tick``), for the
    compiled spread kernels.

    >>> from thetagym.pricing.spreads import SpreadModel
    >>> parameters = spread_parameters(SpreadModel())
    >>> float(parameters[LARGE_TICK]), float(parameters[FUTURES_SPREAD_TICKS])
    (0.25, 1.0)
    """
    parameters = np.empty(NUM_SPREAD_PARAMETERS)
    for index, name in _SPREAD_FIELDS.items():
        parameters[index] = float(getattr(model, name))
    return parameters


@compile_kernel(_FLOAT(_PARAMETERS, _FLOAT))
def option_tick_scalar(parameters: np.ndarray, price: float) -> float:
    """Tick size (points) of an option premium ``price`` (points): ``small_tick`` at or below
    ``tick_threshold``, else ``large_tick`` (``parameters`` from :func:`spread_parameters`)."""
    return parameters[SMALL_TICK] if price <= parameters[TICK_THRESHOLD] else parameters[LARGE_TICK]


@compile_kernel(_FLOAT(_PARAMETERS, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def option_half_spread_scalar(
    parameters: np.ndarray, mid: float, log_moneyness_std: float, time_to_expiry: float, volatility: float
) -> float:
    """Half of the bid/ask spread of one option, in points, before rounding to the tick grid.

    ``parameters`` from :func:`spread_parameters`; ``mid`` in points, ``log_moneyness_std`` the
    log-moneyness in standard deviations (NaN counts as the cap: the widest wings),
    ``time_to_expiry`` in years, ``volatility`` a decimal. At least half a tick of ``mid``.
    """
    base = mid * parameters[RELATIVE_HALF_SPREAD] + parameters[ABSOLUTE_HALF_SPREAD]
    cap = parameters[MONEYNESS_CAP]
    distance = abs(log_moneyness_std)
    wings = (cap if not (distance <= cap) else distance) * parameters[MONEYNESS_WIDENING] + 1.0
    scale = parameters[EXPIRY_SCALE_DAYS] / _DAYS_PER_YEAR
    expiry = (parameters[EXPIRY_WIDENING] * scale) / (maximum(time_to_expiry, 0.0) + scale) + 1.0
    vol = maximum(volatility, parameters[VOLATILITY_FLOOR]) * (1.0 / parameters[REFERENCE_VOLATILITY])
    return maximum(base * wings * expiry * vol, 0.5 * option_tick_scalar(parameters, mid))


@compile_kernel(_FLOAT(_PARAMETERS, _FLOAT))
def _grid_tick(parameters: np.ndarray, price: float) -> float:
    """Tick of the option grid at ``price`` (large strictly above the threshold, with tolerance)."""
    if price > parameters[TICK_THRESHOLD] + _GRID_TOLERANCE:
        return parameters[LARGE_TICK]
    return parameters[SMALL_TICK]


@compile_kernel(_PAIR(_PARAMETERS, _FLOAT, _FLOAT, _FLOAT, _FLOAT))
def option_bid_ask_scalar(
    parameters: np.ndarray, mid: float, log_moneyness_std: float, time_to_expiry: float, volatility: float
) -> tuple[float, float]:
    """Quoted ``(bid, ask)`` of one option on the tick grid, in points.

    ``bid = floor_to_grid(mid - half)`` floored at 0 and ``ask = ceil_to_grid(mid + half)`` with
    ``half`` from :func:`option_half_spread_scalar` (same arguments).
    """
    half = option_half_spread_scalar(parameters, mid, log_moneyness_std, time_to_expiry, volatility)
    low = mid - half
    tick = _grid_tick(parameters, low)
    bid = maximum(np.floor(low / tick + _GRID_TOLERANCE) * tick, 0.0)
    high = mid + half
    tick = _grid_tick(parameters, high)
    ask = np.ceil(high / tick - _GRID_TOLERANCE) * tick
    return bid, ask


@compile_kernel(_PAIR(_PARAMETERS, _FLOAT))
def futures_bid_ask_scalar(parameters: np.ndarray, price: float) -> tuple[float, float]:
    """Quoted ``(bid, ask)`` of the ES future around ``price`` (points), ``futures_spread_ticks``
    ticks wide on the futures tick grid (``parameters`` from :func:`spread_parameters`)."""
    tick = parameters[FUTURES_TICK]
    width = parameters[FUTURES_SPREAD_TICKS]
    bid = np.floor(price / tick + (_GRID_TOLERANCE - 0.5 * (width - 1.0))) * tick
    return bid, bid + width * tick
