"""Black-76 and Black-Scholes prices and Greeks as broadcasting numpy kernels.

Every function takes scalars or arrays of any broadcastable shapes and returns numpy values of the
broadcast shape. Conventions, shared by all functions:

* ``time_to_expiry`` in years (negative values are treated as expired, i.e. 0);
* ``volatility`` as a decimal per square-root year (0.20 for 20%), ``>= 0``;
* ``rate`` and ``dividend_yield`` continuously compounded, per year;
* ``is_call`` a bool (array): True for a call, False for a put;
* prices in the units of ``forward`` / ``spot`` (index points for ES options);
* delta per unit of the underlying (forward for Black-76, spot for Black-Scholes);
* gamma per unit of the underlying, per unit of the underlying;
* vega per 1.00 of volatility (divide by 100 for vega per volatility point);
* theta per year, calendar convention ``d price / d(-time_to_expiry)`` (divide by 365 per day).

Degenerate inputs never give NaN or inf: when ``volatility * sqrt(time_to_expiry) == 0`` the price
is the discounted intrinsic value, delta is the discounted step function (half of it exactly at the
money), gamma is 0 and theta is only the rate term ``rate * price``. A zero forward or strike is
allowed. Vega is the exact derivative: it vanishes at expiry and away from the money, and at the
money with zero volatility it is the one-sided limit ``discount * forward * sqrt(T) / sqrt(2 pi)``.

The formulas are the compiled scalar kernels of :mod:`thetagym.pricing.kernels` (numba), applied
element by element as numpy ufuncs: inputs broadcast and cast by numpy's rules, no temporaries
are made, and a call costs a few microseconds plus the compiled formula per option. The normal
distribution function is ``0.5 erfc(-x / sqrt 2)`` (within a few ulps of
:func:`scipy.special.ndtr`).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from thetagym.pricing.kernels import as_ufunc, black76_greeks_scalar, black76_price_scalar

__all__ = [
    "Greeks",
    "black76_delta",
    "black76_gamma",
    "black76_greeks",
    "black76_price",
    "black76_theta",
    "black76_vega",
    "black_scholes_greeks",
    "black_scholes_price",
]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


class Greeks(NamedTuple):
    """Price and sensitivities, each an array (or numpy scalar) of the inputs' broadcast shape."""

    price: FloatArray
    """Option value, in points of the underlying."""
    delta: FloatArray
    """d price / d underlying."""
    gamma: FloatArray
    """d delta / d underlying, per point."""
    vega: FloatArray
    """d price / d volatility, per 1.00 of volatility (per vol point: divide by 100)."""
    theta: FloatArray
    """d price / d(-time_to_expiry), per year (per calendar day: divide by 365)."""


def _is_zero(value: ArrayLike) -> bool:
    """True for a plain scalar zero: lets the Black-Scholes functions skip the carry work."""
    return isinstance(value, int | float) and value == 0.0


# One loop per type of is_call: a bool array takes the first, ints and floats (0 or 1) the second.
_FLAG_TYPES = ("boolean", "float64")


@as_ufunc([f"float64(float64, float64, float64, float64, {flag}, float64)" for flag in _FLAG_TYPES])
def _black76_price_ufunc(
    forward: float, strike: float, time_to_expiry: float, volatility: float, is_call: bool, rate: float
) -> float:
    return black76_price_scalar(forward, strike, time_to_expiry, volatility, is_call, rate)


@as_ufunc(
    [
        f"void(float64, float64, float64, float64, {flag}, float64, {', '.join(['float64[:]'] * 5)})"
        for flag in _FLAG_TYPES
    ],
    "(),(),(),(),(),()->(),(),(),(),()",
)
def _black76_greeks_ufunc(
    forward: float,
    strike: float,
    time_to_expiry: float,
    volatility: float,
    is_call: bool,
    rate: float,
    price: FloatArray,
    delta: FloatArray,
    gamma: FloatArray,
    vega: FloatArray,
    theta: FloatArray,
) -> None:
    greeks = black76_greeks_scalar(forward, strike, time_to_expiry, volatility, is_call, rate)
    price[0] = greeks[0]
    delta[0] = greeks[1]
    gamma[0] = greeks[2]
    vega[0] = greeks[3]
    theta[0] = greeks[4]


_CHUNKED_SIZE = 512
"""Options above which :func:`black76_greeks` runs a compiled loop over chunks of numpy's
broadcasting iterator instead of the gufunc, whose per-option cost is about 25% higher (it wraps
each of the five outputs in a one-element array); below it the gufunc's lower fixed cost (3 us
against 12 us) wins. Measured crossover: about 300 options."""


def _loop_signatures() -> list[Any]:
    """Types of :func:`_black76_greeks_loop`: read-only 1-d inputs (``is_call`` bool or float64)
    of any stride, five writable float64 outputs."""
    float_in = numba.types.Array(numba.types.float64, 1, "A", readonly=True)
    out = numba.types.Array(numba.types.float64, 1, "A")
    return [
        numba.types.void(
            *[float_in] * 4, numba.types.Array(flag, 1, "A", readonly=True), float_in, *[out] * 5
        )
        for flag in (numba.types.boolean, numba.types.float64)
    ]


@numba.njit(_loop_signatures(), cache=True)
def _black76_greeks_loop(
    forward: FloatArray,
    strike: FloatArray,
    time_to_expiry: FloatArray,
    volatility: FloatArray,
    is_call: npt.NDArray[Any],
    rate: FloatArray,
    price: FloatArray,
    delta: FloatArray,
    gamma: FloatArray,
    vega: FloatArray,
    theta: FloatArray,
) -> None:
    for i in range(forward.size):
        greeks = black76_greeks_scalar(
            forward[i], strike[i], time_to_expiry[i], volatility[i], is_call[i], rate[i]
        )
        price[i] = greeks[0]
        delta[i] = greeks[1]
        gamma[i] = greeks[2]
        vega[i] = greeks[3]
        theta[i] = greeks[4]


_OpFlag = Literal["readonly", "writeonly", "allocate"]
_INPUT_FLAGS: list[_OpFlag] = ["readonly"]
_OUTPUT_FLAGS: list[_OpFlag] = ["writeonly", "allocate"]
_CHUNKED_OP_FLAGS = [_INPUT_FLAGS] * 6 + [_OUTPUT_FLAGS] * 5


def _black76_greeks_chunked(*args: Any) -> tuple[FloatArray, ...]:
    """:func:`black76_greeks`'s five outputs by :func:`_black76_greeks_loop` over the 1-d chunks of
    an ``np.nditer`` of the broadcast inputs (no copy of a broadcast input; a cast input is
    converted chunk by chunk)."""
    flag = np.float64 if np.result_type(args[4]) != np.bool_ else np.bool_
    iterator = np.nditer(
        [*args, None, None, None, None, None],
        flags=["external_loop", "buffered", "grow_inner", "zerosize_ok"],
        op_flags=_CHUNKED_OP_FLAGS,
        op_dtypes=[np.float64] * 4 + [flag] + [np.float64] * 6,
        buffersize=8192,
    )
    with iterator:
        for chunk in iterator:
            _black76_greeks_loop(*chunk)
        outputs: tuple[FloatArray, ...] = iterator.operands[6:]
    return outputs


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Black-76 price of a European option on a forward or future, in points.

    ``price = exp(-rate T) * w * (F N(w d1) - K N(w d2))`` with ``w = +1`` for calls, ``-1`` for
    puts, ``d1 = ln(F/K) / (sigma sqrt T) + sigma sqrt T / 2`` and ``d2 = d1 - sigma sqrt T``.

    Args:
        forward: forward or futures price, ``>= 0``.
        strike: strike, ``>= 0``, same units as ``forward``.
        time_to_expiry: years.
        volatility: decimal per sqrt(year), ``>= 0``.
        is_call: True for calls, False for puts.
        rate: continuously compounded discount rate per year.

    Returns:
        The premium, broadcast shape of the inputs, same units as ``forward``.

    Haug's example (F = K = 19, T = 0.75, r = 0.10, sigma = 0.28; call = put):

    >>> round(float(black76_price(19.0, 19.0, 0.75, 0.28, True, rate=0.10)), 6)
    1.701051
    >>> black76_price(5000.0, [4800.0, 5000.0], 0.0, 0.2, False)
    array([0., 0.])
    """
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # log(F / 0) = inf is right
        return _black76_price_ufunc(forward, strike, time_to_expiry, volatility, is_call, rate)


def black76_delta(
    forward: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Black-76 delta, d price / d forward, dimensionless.

    ``exp(-rate T) N(d1)`` for calls, ``-exp(-rate T) N(-d1)`` for puts. Arguments as
    :func:`black76_price`.

    >>> round(float(black76_delta(100.0, 100.0, 0.5, 0.2, True)), 6)
    0.528186
    >>> black76_delta(100.0, [90.0, 100.0, 110.0], 0.0, 0.2, [True, True, False])
    array([ 1. ,  0.5, -1. ])
    """
    return black76_greeks(forward, strike, time_to_expiry, volatility, is_call, rate).delta


def black76_gamma(
    forward: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Black-76 gamma, d delta / d forward, per point of the forward (same for calls and puts).

    ``exp(-rate T) n(d1) / (F sigma sqrt T)``; 0 when ``sigma sqrt T == 0``.

    >>> round(float(black76_gamma(100.0, 100.0, 0.5, 0.2)), 6)
    0.028139
    >>> float(black76_gamma(100.0, 100.0, 0.0, 0.2))
    0.0
    """
    return black76_greeks(forward, strike, time_to_expiry, volatility, True, rate).gamma


def black76_vega(
    forward: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Black-76 vega, d price / d volatility, per 1.00 of volatility (same for calls and puts).

    ``exp(-rate T) F n(d1) sqrt T``. Per volatility point (0.01) divide by 100.

    >>> round(float(black76_vega(100.0, 100.0, 0.5, 0.2)), 6)
    28.139044
    >>> round(float(black76_vega(100.0, 100.0, 0.5, 0.2)) / 100, 6)  # per vol point
    0.28139
    """
    return black76_greeks(forward, strike, time_to_expiry, volatility, True, rate).vega


def black76_theta(
    forward: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Black-76 theta, d price / d(-time_to_expiry) at a fixed forward, per year.

    ``rate * price - exp(-rate T) F n(d1) sigma / (2 sqrt T)``; divide by 365 for theta per
    calendar day. When ``sigma sqrt T == 0`` only ``rate * price`` remains.

    >>> round(float(black76_theta(100.0, 100.0, 0.5, 0.2, True)), 6)
    -5.627809
    >>> round(float(black76_theta(100.0, 100.0, 0.5, 0.2, True)) / 365, 6)  # per day
    -0.015419
    """
    return black76_greeks(forward, strike, time_to_expiry, volatility, is_call, rate).theta


def black76_greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> Greeks:
    """Black-76 price, delta, gamma, vega and theta in one pass (the environment's hot path).

    Arguments and units as :func:`black76_price`; outputs as :class:`Greeks` (delta per point of
    the forward, gamma per point per point, vega per 1.00 of volatility, theta per year).

    >>> g = black76_greeks(100.0, 100.0, 0.5, 0.2, True, rate=0.05)
    >>> [round(float(x), 6) for x in g]
    [5.498015, 0.515145, 0.027444, 27.444288, -5.213957]
    >>> g = black76_greeks(100.0, [0.0, 100.0, 1e12], 0.0, 0.0, True)
    >>> g.price, g.delta, g.gamma
    (array([100.,   0.,   0.]), array([1. , 0.5, 0. ]), array([0., 0., 0.]))
    """
    args = (forward, strike, time_to_expiry, volatility, is_call, rate)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # log(F / 0) = inf is right
        # In thetagym calls the forward or the volatility carries the full shape.
        if getattr(forward, "size", 1) > _CHUNKED_SIZE or getattr(volatility, "size", 1) > _CHUNKED_SIZE:
            return Greeks(*_black76_greeks_chunked(*args))
        return Greeks(*_black76_greeks_ufunc(*args))


def _forward_of_spot(
    spot: Any, time_to_expiry: Any, rate: Any, dividend_yield: Any
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """(forward, carry, growth), ``growth = exp((rate - dividend_yield) T)`` or None if 1."""
    carry = np.subtract(rate, dividend_yield)
    if _is_zero(rate) and _is_zero(dividend_yield):
        return np.asarray(spot, dtype=float), carry, None
    growth = np.exp(carry * np.maximum(time_to_expiry, 0.0))
    return np.multiply(spot, growth), carry, growth


def black_scholes_price(
    spot: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend_yield: ArrayLike = 0.0,
) -> FloatArray:
    """Black-Scholes(-Merton) price of a European option on a spot with a dividend yield.

    Black-76 on the forward ``spot * exp((rate - dividend_yield) T)`` discounted at ``rate``.
    Units as :func:`black76_price`; ``dividend_yield`` continuous per year (a cost of carry such
    as a VIX ETP's roll decay can be passed here).

    Hull's example (S = 42, K = 40, r = 0.10, sigma = 0.20, T = 0.5):

    >>> round(float(black_scholes_price(42.0, 40.0, 0.5, 0.2, True, rate=0.1)), 6)
    4.759422
    >>> round(float(black_scholes_price(42.0, 40.0, 0.5, 0.2, False, rate=0.1)), 6)
    0.808599
    """
    forward, _, _ = _forward_of_spot(spot, time_to_expiry, rate, dividend_yield)
    return black76_price(forward, strike, time_to_expiry, volatility, is_call, rate)


def black_scholes_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend_yield: ArrayLike = 0.0,
) -> Greeks:
    """Black-Scholes(-Merton) price and Greeks with respect to the spot, in one pass.

    delta = d price / d spot, gamma per unit of spot squared, vega per 1.00 of volatility,
    theta = d price / d(-time_to_expiry) at a fixed spot, per year (divide by 365 per day).

    Hull's example (S = 49, K = 50, r = 0.05, sigma = 0.20, T = 0.3846):

    >>> g = black_scholes_greeks(49.0, 50.0, 0.3846, 0.2, True, rate=0.05)
    >>> [round(float(x), 4) for x in g]
    [2.4005, 0.5216, 0.0655, 12.1052, -4.3054]
    """
    forward, carry, growth = _forward_of_spot(spot, time_to_expiry, rate, dividend_yield)
    price, delta, gamma, vega, theta = black76_greeks(
        forward, strike, time_to_expiry, volatility, is_call, rate
    )
    theta = theta - delta * carry * forward
    if growth is not None:
        delta = delta * growth
        gamma = gamma * growth * growth
    return Greeks(price, delta, gamma, vega, theta)
