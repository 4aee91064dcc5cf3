"""Pricing one leg slot from the market: its underlying, volatility and Greeks (the marks), the
standard contract a slot opens into (expiry, underlying bar, strike at the target delta) and the
bid/ask cost of trading it.

Marks are ``(8, n_slots)`` per env in the order of :data:`MARK_FIELDS`. ES options are Black-76
on the ES future of the quarterly expiry they exercise into, at the surface's implied volatility,
discounted at the rate of the day of the bar; the ES future is the index carried at that day's
cost of carry (rate minus dividend yield), ``F = S exp(carry T)``;
ES futures are that future; VIX calls are Black-76 on the VIX future of their expiry; ETP shares
are ``vxx`` or ``inverse_vix``. Non-options get delta 1 and no gamma, vega or theta. Greeks are
per point of the leg's own underlying, vega per 1.00 of volatility, theta per year.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from thetagym.book.compiled import tables as t
from thetagym.book.compiled.jit import inline_kernel, kernel
from thetagym.book.compiled.tables import BookTables
from thetagym.market import kernels as market_kernels
from thetagym.pricing import kernels as pricing_kernels

if TYPE_CHECKING:  # the records module reads the mark layout from here
    from thetagym.book.compiled.buffers import Market

MARK_FIELDS = ("underlying", "volatility", "time_to_expiry", "price", "delta", "gamma", "vega", "theta")
UNDERLYING, VOLATILITY, TIME_TO_EXPIRY, PRICE, DELTA, GAMMA, VEGA, THETA = range(8)
NEVER_EXPIRES = 2**40
"""Expiry bar of legs that never expire (ETP shares)."""
MAX_YEARS = 10.0
"""Cap on times to expiry (years): legs that never expire stay finite."""
FALLBACK_QUARTER_DAYS = 63
STRIKE_ITERATIONS = 3


@kernel
def day_of_bar(scalars: np.ndarray, bar: int) -> int:
    """Trading day of ``bar`` (bar 0, the previous close, counts as day 0)."""
    return max(bar - 1, 0) // int(scalars[t.BARS_PER_DAY])


@kernel
def close_bar(scalars: np.ndarray, day: int) -> int:
    """Bar of the close of trading day ``day``."""
    return (day + 1) * int(scalars[t.BARS_PER_DAY])


@kernel
def years_between(scalars: np.ndarray, bar: int, target_bar: int) -> float:
    """Trading years from ``bar`` to ``target_bar`` (never negative), capped at :data:`MAX_YEARS`."""
    return min(max(target_bar - bar, 0) / scalars[t.BARS_PER_YEAR], MAX_YEARS)


@kernel
def next_expiry_day(
    expiries: np.ndarray, scalars: np.ndarray, path: int, schedule: int, from_day: int
) -> int:
    """First expiry day of ``schedule`` on or after ``from_day``, or -1 when the path ends first."""
    n_days = int(scalars[t.N_DAYS])
    if from_day >= n_days:
        return -1
    return expiries[path, schedule, from_day]


@kernel
def front_future(tables: BookTables, market: Market, path: int, bar: int) -> int:
    """Expiry bar of the front ES future at ``bar``: the first quarterly expiry more than
    ``futures_roll_days`` trading days away (beyond the path: a quarter from now)."""
    expiries, scalars, parameters = market.expiries, market.scalars, tables.parameters
    day = day_of_bar(scalars, bar)
    nearest = day + int(parameters[t.FUTURES_ROLL_DAYS]) + 1
    expiry = expiries[path, t.QUARTERLY, min(nearest, int(scalars[t.N_DAYS]) - 1)]
    if expiry >= 0 and expiry >= nearest:
        return close_bar(scalars, expiry)
    return close_bar(scalars, day + FALLBACK_QUARTER_DAYS)


@kernel
def underlying_price(
    tables: BookTables, market: Market, slot: int, path: int, bar: int, expiry_bar: int, underlying_bar: int
) -> float:
    """Price of a leg's underlying: the ES future of ``underlying_bar``, the VIX future of
    ``expiry_bar`` or the ETP share (points or USD per share)."""
    slots, per_bar, per_path, scalars = tables.slots, market.per_bar, market.per_path, market.scalars
    if slots[slot, t.IS_ETP]:
        series = t.INVERSE_VIX if slots[slot, t.ETP_INVERSE] else t.VXX
        return per_bar[series, path, bar]
    if slots[slot, t.IS_VIX]:
        return market_kernels.vix_future_price_scalar(
            per_bar[t.IMPLIED_VARIANCE, path, bar],
            per_bar[t.LONG_VARIANCE, path, bar],
            per_path[t.MEAN_REVERSION, path],
            per_path[t.JUMP_VARIANCE, path],
            scalars[t.VOL_OF_VARIANCE],
            years_between(scalars, bar, expiry_bar),
        )
    tau = years_between(scalars, bar, underlying_bar)
    return per_bar[t.INDEX, path, bar] * math.exp(per_bar[t.CARRY, path, bar] * tau)


@kernel
def option_volatility(
    tables: BookTables,
    market: Market,
    slot: int,
    path: int,
    bar: int,
    log_moneyness: float,
    time_to_expiry: float,
) -> float:
    """Implied volatility (decimal) of an option slot: the surface's for ES options, the VIX
    option volatility (strike-independent) for VIX calls."""
    slots, per_bar, per_path, scalars = tables.slots, market.per_bar, market.per_path, market.scalars
    spot = per_bar[t.IMPLIED_VARIANCE, path, bar]
    long = per_bar[t.LONG_VARIANCE, path, bar]
    kappa = per_path[t.MEAN_REVERSION, path]
    jump = per_path[t.JUMP_VARIANCE, path]
    if slots[slot, t.IS_VIX]:
        return market_kernels.vix_option_volatility_scalar(
            spot, long, kappa, jump, scalars[t.VOL_OF_VARIANCE], time_to_expiry
        )
    return market_kernels.implied_volatility_scalar(
        spot,
        long,
        kappa,
        jump,
        per_bar[t.SKEW, path, bar],
        per_path[t.CURVATURE, path],
        log_moneyness,
        time_to_expiry,
    )


@kernel
def mark_slot(
    tables: BookTables,
    market: Market,
    slot: int,
    path: int,
    bar: int,
    strike: float,
    expiry_bar: int,
    underlying_bar: int,
    marks: np.ndarray,
) -> None:
    """Write the marks of one slot's contract at ``bar`` (on market path ``path``) into
    ``marks[:, slot]``."""
    forward = underlying_price(tables, market, slot, path, bar, expiry_bar, underlying_bar)
    mark_slot_at(tables, market, slot, path, bar, strike, expiry_bar, forward, marks)


@kernel
def mark_slot_at(
    tables: BookTables,
    market: Market,
    slot: int,
    path: int,
    bar: int,
    strike: float,
    expiry_bar: int,
    forward: float,
    marks: np.ndarray,
) -> None:
    """:func:`mark_slot` when the underlying price ``forward`` is known."""
    slots = tables.slots
    tau = years_between(market.scalars, bar, expiry_bar)
    marks[UNDERLYING, slot] = forward
    marks[TIME_TO_EXPIRY, slot] = tau
    if not slots[slot, t.IS_OPTION]:
        marks[VOLATILITY, slot] = 0.0
        marks[PRICE, slot] = forward
        marks[DELTA, slot] = 1.0
        marks[GAMMA, slot] = 0.0
        marks[VEGA, slot] = 0.0
        marks[THETA, slot] = 0.0
        return
    safe_strike = strike if strike > 0.0 else forward
    volatility = option_volatility(tables, market, slot, path, bar, math.log(safe_strike / forward), tau)
    price, delta, gamma, vega, theta = pricing_kernels.black76_greeks_scalar(
        forward, strike, tau, volatility, slots[slot, t.IS_CALL] > 0.0, market.per_bar[t.RATE, path, bar]
    )
    marks[VOLATILITY, slot] = volatility
    marks[PRICE, slot] = price
    marks[DELTA, slot] = delta
    marks[GAMMA, slot] = gamma
    marks[VEGA, slot] = vega
    marks[THETA, slot] = theta


@inline_kernel
def contract_expiry(
    tables: BookTables, market: Market, slot: int, path: int, bar: int, expiry_day: int
) -> tuple[int, int]:
    """(expiry bar, underlying bar) of the standard contract of ``slot`` expiring on
    ``expiry_day`` (options); futures take the front quarter, ETP shares never expire."""
    slots, expiries, scalars = tables.slots, market.expiries, market.scalars
    if slots[slot, t.IS_ETP]:
        return NEVER_EXPIRES, NEVER_EXPIRES
    if not slots[slot, t.IS_OPTION]:
        front = front_future(tables, market, path, bar)
        return front, front
    option_expiry = close_bar(scalars, max(expiry_day, 0))
    if not slots[slot, t.IS_ES]:
        return option_expiry, option_expiry
    n_days = int(scalars[t.N_DAYS])
    quarter_day = expiries[path, t.QUARTERLY, min(max(expiry_day, 0), n_days - 1)]
    if quarter_day >= 0:
        return option_expiry, close_bar(scalars, quarter_day)
    bars_per_day = int(scalars[t.BARS_PER_DAY])
    return option_expiry, option_expiry + FALLBACK_QUARTER_DAYS * bars_per_day


@inline_kernel
def strike_for_delta(
    tables: BookTables, market: Market, slot: int, path: int, bar: int, forward: float, time_to_expiry: float
) -> float:
    """Strike (points, on the slot's strike grid) whose Black-76 delta is the slot's target.

    Solves ``K = F exp(-d1 sigma sqrt(T) + sigma^2 T / 2)`` with ``d1 = N^-1(|delta| e^{rT})``
    (negated for puts), re-reading the smile at the new strike a few times."""
    slots = tables.slots
    tau = max(time_to_expiry, 1e-6)
    probability = abs(slots[slot, t.DELTA_TARGET]) * math.exp(market.per_bar[t.RATE, path, bar] * tau)
    probability = min(max(probability, 1e-4), 1 - 1e-4)
    d1 = pricing_kernels.ndtri(probability)
    if not slots[slot, t.IS_CALL]:
        d1 = -d1
    strike = forward
    for _ in range(STRIKE_ITERATIONS):
        volatility = option_volatility(tables, market, slot, path, bar, math.log(strike / forward), tau)
        std = volatility * math.sqrt(tau)
        strike = forward * math.exp(-d1 * std + 0.5 * std * std)
    step = slots[slot, t.STRIKE_STEP]
    return max(np.round(strike / step) * step, step)


@kernel
def trade_cost(tables: BookTables, marks: np.ndarray, slot: int, strike: float, trade: float) -> float:
    """Points (or USD per share) per contract paid over mid to trade ``trade`` (signed) of the
    contract marked ``marks[:, slot]`` at the bid or ask."""
    slots, parameters, spreads = tables.slots, tables.parameters, tables.spreads
    if slots[slot, t.IS_ETP]:
        return parameters[t.ETP_HALF_SPREAD]
    if not slots[slot, t.IS_OPTION] and not slots[slot, t.IS_ES]:
        return parameters[t.VIX_FUTURE_HALF_SPREAD]
    underlying = marks[UNDERLYING, slot]
    if not slots[slot, t.IS_OPTION]:
        bid, ask = pricing_kernels.futures_bid_ask_scalar(spreads, underlying)
        return ask - underlying if trade > 0 else underlying - bid
    price = marks[PRICE, slot]
    volatility = marks[VOLATILITY, slot]
    tau = marks[TIME_TO_EXPIRY, slot]
    safe_strike = strike if strike > 0.0 else underlying
    std = math.log(safe_strike / underlying) / (volatility * math.sqrt(tau))
    bid, ask = pricing_kernels.option_bid_ask_scalar(spreads, price, std, tau, volatility)
    return ask - price if trade > 0 else price - bid
