"""Bid/ask spreads of ES options and futures, on the exchange tick grid.

Functional form of the option half-spread, in index points (all factors are >= their value at
the money / at long expiry / at the reference volatility, so the spread is tightest there)::

    half = max(tick(mid) / 2,
               (absolute_half_spread + relative_half_spread * mid)
               * (1 + moneyness_widening * min(|z|, moneyness_cap))
               * (1 + expiry_widening * expiry_scale / (expiry_scale + T))
               * max(volatility, volatility_floor) / reference_volatility)

where ``z = ln(K/F) / (volatility sqrt T)`` is the log-moneyness in standard deviations and ``T``
is the time to expiry in years. The base (absolute plus a fraction of the premium) is what a market
maker charges for an at-the-money, long-dated option in a normal market; wings get wider
linearly in ``|z|`` (Etling & Miller 2000; George & Longstaff 1993: spreads are tightest near the
money), near-expiry options get up to ``1 + expiry_widening`` times wider (gamma risk of the
quoter), and spreads scale in proportion to volatility. The quoted bid is rounded down and the
ask up to the ES option tick grid (0.05 points at or below 5.00, 0.25 above), so the full spread
is at least one tick, and the bid is floored at 0.

Tick sizes are the exchange's (``docs/market.md#contracts``). No published table of ES/SPX option
spreads was found, so the widening coefficients are *assumptions* chosen to reproduce typical
screen quotes: an at-the-money 30-day ES option (about 100 points at 18% volatility) quoted
about 0.50 points wide, a 10-delta two-week put (about 3 points) 0.10-0.20 wide, a put 500 points
in the money about 4 points wide, all roughly twice as wide at 40% volatility.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from thetagym.config import setting
from thetagym.pricing.kernels import (
    as_ufunc,
    futures_bid_ask_scalar,
    option_bid_ask_scalar,
    option_half_spread_scalar,
    option_tick_scalar,
    spread_parameters,
)

__all__ = ["SpreadModel", "bid_ask", "futures_bid_ask", "half_spread", "option_tick"]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


def _is_multiple(value: float, unit: float) -> bool:
    ratio = value / unit
    return round(ratio) >= 0 and abs(ratio - round(ratio)) < 1e-9


@dataclass(frozen=True)
class SpreadModel:
    """Bid/ask spread model of ES options (and the ES future), in index points."""

    small_tick: float = setting(
        0.05, gt=0.0, le=100.0, doc="option tick at or below tick_threshold, points ($2.50)"
    )
    large_tick: float = setting(
        0.25, gt=0.0, le=100.0, doc="option tick above tick_threshold, points ($12.50)"
    )
    tick_threshold: float = setting(
        5.0, ge=0.0, le=10_000.0, doc="premium (points) above which large_tick applies"
    )
    futures_tick: float = setting(0.25, gt=0.0, le=100.0, doc="ES futures tick, points ($12.50)")
    futures_spread_ticks: int = setting(1, ge=1, le=1_000, doc="ES futures quoted width, ticks")
    absolute_half_spread: float = setting(0.025, ge=0.0, le=100.0, doc="base half-spread, points")
    relative_half_spread: float = setting(
        0.0015, ge=0.0, le=1.0, doc="base half-spread as a fraction of the mid price"
    )
    moneyness_widening: float = setting(
        0.3, ge=0.0, le=10.0, doc="relative widening per standard deviation of log-moneyness"
    )
    moneyness_cap: float = setting(
        4.0, ge=0.0, le=20.0, doc="standard deviations beyond which wings stop widening"
    )
    expiry_widening: float = setting(
        1.0, ge=0.0, le=100.0, doc="extra relative width at expiry (1.0 = twice as wide)"
    )
    expiry_scale_days: float = setting(
        7.0, gt=0.0, le=365.0, doc="days to expiry at which half of expiry_widening applies"
    )
    reference_volatility: float = setting(
        0.18, gt=0.0, le=2.0, doc="volatility of the base spread (S&P 500 long-run 18.2%)"
    )
    volatility_floor: float = setting(
        0.08, gt=0.0, le=2.0, doc="volatility below which spreads stop narrowing"
    )

    def __post_init__(self) -> None:
        if not _is_multiple(self.large_tick, self.small_tick):
            raise ValueError(
                f"large_tick {self.large_tick} must be a whole multiple of small_tick "
                f"{self.small_tick} (ES: 0.25 and 0.05)"
            )
        if not _is_multiple(self.tick_threshold, self.large_tick):
            raise ValueError(
                f"tick_threshold {self.tick_threshold} must be a whole multiple of large_tick "
                f"{self.large_tick} (ES: 5.00 and 0.25)"
            )


@functools.lru_cache(maxsize=32)
def _parameters(model: SpreadModel) -> FloatArray:
    """:func:`~thetagym.pricing.kernels.spread_parameters` of ``model``, read-only, made once."""
    parameters = spread_parameters(model)
    parameters.flags.writeable = False
    return parameters


# The formulas are the scalar kernels of thetagym.pricing.kernels, applied element by element.
_LAYOUT = "(p),(),(),(),()"


@as_ufunc(["void(float64[:], float64, float64[:])"], "(p),()->()")
def _option_tick_ufunc(parameters: FloatArray, price: float, tick: FloatArray) -> None:
    tick[0] = option_tick_scalar(parameters, price)


@as_ufunc(["void(float64[:], float64, float64, float64, float64, float64[:])"], f"{_LAYOUT}->()")
def _half_spread_ufunc(
    parameters: FloatArray, mid: float, z: float, time_to_expiry: float, volatility: float, half: FloatArray
) -> None:
    half[0] = option_half_spread_scalar(parameters, mid, z, time_to_expiry, volatility)


@as_ufunc(
    ["void(float64[:], float64, float64, float64, float64, float64[:], float64[:])"], f"{_LAYOUT}->(),()"
)
def _bid_ask_ufunc(
    parameters: FloatArray,
    mid: float,
    z: float,
    time_to_expiry: float,
    volatility: float,
    bid: FloatArray,
    ask: FloatArray,
) -> None:
    bid[0], ask[0] = option_bid_ask_scalar(parameters, mid, z, time_to_expiry, volatility)


@as_ufunc(["void(float64[:], float64, float64[:], float64[:])"], "(p),()->(),()")
def _futures_bid_ask_ufunc(parameters: FloatArray, mid: float, bid: FloatArray, ask: FloatArray) -> None:
    bid[0], ask[0] = futures_bid_ask_scalar(parameters, mid)


def option_tick(model: SpreadModel, price: ArrayLike) -> FloatArray:
    """Tick size (points) of an option premium: ``small_tick`` at or below the threshold.

    >>> option_tick(SpreadModel(), [0.4, 5.0, 5.25])
    array([0.05, 0.05, 0.25])
    """
    return _option_tick_ufunc(_parameters(model), price)


def half_spread(
    model: SpreadModel,
    mid: ArrayLike,
    log_moneyness_std: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
) -> FloatArray:
    """Half of the bid/ask spread of an option, in points (before rounding to the tick grid).

    Args:
        model: the spread parameters.
        mid: theoretical (mid) price, points.
        log_moneyness_std: ``ln(strike / forward) / (volatility sqrt(time_to_expiry))``, signed
            or not; NaN (0/0 at expiry) is treated as the cap, i.e. the widest wings.
        time_to_expiry: years.
        volatility: implied volatility, decimal.

    Returns:
        Half-spread in points, broadcast shape of the inputs, at least half a tick of ``mid``.

    At the money, 30 days, 18% volatility, mid 100 points; then 3 standard deviations out:

    >>> model = SpreadModel()
    >>> round(float(half_spread(model, 100.0, 0.0, 30 / 365, 0.18)), 4)
    0.2081
    >>> round(float(half_spread(model, 100.0, -3.0, 30 / 365, 0.18)), 4)
    0.3954
    >>> round(float(half_spread(model, 100.0, 0.0, 30 / 365, 0.40)), 4)  # volatility spike
    0.4625
    >>> model = SpreadModel(absolute_half_spread=0.0)
    >>> float(half_spread(model, 0.01, -5.0, 1 / 365, 0.18))  # floor: half of a 0.05 tick
    0.025
    """
    with np.errstate(invalid="ignore"):  # comparisons with a NaN log_moneyness_std
        return _half_spread_ufunc(_parameters(model), mid, log_moneyness_std, time_to_expiry, volatility)


def bid_ask(
    model: SpreadModel,
    mid: ArrayLike,
    log_moneyness_std: ArrayLike,
    time_to_expiry: ArrayLike,
    volatility: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Quoted (bid, ask) of an option on the tick grid, in points.

    ``bid = floor_to_grid(mid - half)`` floored at 0 and ``ask = ceil_to_grid(mid + half)``, with
    ``half`` from :func:`half_spread`; hence ``bid <= mid <= ask``, ``ask - bid >=`` one tick and
    ``ask >= small_tick`` even for a worthless option. Arguments as :func:`half_spread`.

    A worthless far wing, a 10-delta two-week put and an at-the-money option:

    >>> bid, ask = bid_ask(SpreadModel(), [0.0, 3.02, 100.0], [-6.0, -1.3, 0.0], 14 / 365, 0.18)
    >>> bid.round(2).tolist(), ask.round(2).tolist()
    ([0.0, 2.95, 99.75], [0.1, 3.1, 100.25])
    """
    with np.errstate(invalid="ignore"):  # comparisons with a NaN log_moneyness_std
        bid, ask = _bid_ask_ufunc(_parameters(model), mid, log_moneyness_std, time_to_expiry, volatility)
    return bid, ask


def futures_bid_ask(model: SpreadModel, mid: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Quoted (bid, ask) of the ES future: ``futures_spread_ticks`` ticks wide around ``mid``.

    Both on the futures tick grid with ``bid <= mid <= ask`` (one tick wide by default: the bid is
    the tick at or below ``mid``).

    >>> futures_bid_ask(SpreadModel(), [5000.0, 5000.1])
    (array([5000., 5000.]), array([5000.25, 5000.25]))
    """
    bid, ask = _futures_bid_ask_ufunc(_parameters(model), mid)
    return bid, ask
