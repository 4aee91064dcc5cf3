"""SPAN-style margin of one env's book (the scenarios: :mod:`thetagym.book.margin`)."""

from __future__ import annotations

import math

import numpy as np

from thetagym.book.compiled import tables as t
from thetagym.book.compiled.buffers import Market, State
from thetagym.book.compiled.contracts import PRICE, TIME_TO_EXPIRY, UNDERLYING, VOLATILITY
from thetagym.book.compiled.jit import kernel
from thetagym.book.compiled.tables import BookTables
from thetagym.book.margin import N_SCENARIOS
from thetagym.pricing import kernels as pricing_kernels


@kernel
def requirement(tables: BookTables, market: Market, state: State, env: int) -> float:
    """Margin requirement (USD) of env ``env`` at its marked bar: the worst weighted scenario loss
    of the book, at least ``short_option_minimum`` per short option contract."""
    slots, parameters = tables.slots, tables.parameters
    underlying_factor, volatility_factor = tables.underlying_factor, tables.volatility_factor
    scenario_weight = tables.scenario_weight
    rate = market.per_bar[t.RATE, env, state.mark_bar[env]]
    quantity, strike, marks = state.quantity[env], state.strike[env], state.marks[:, env]
    pnl = np.zeros(N_SCENARIOS)
    short_options = 0.0
    for slot in range(slots.shape[0]):
        held = quantity[slot]
        if held == 0.0:
            continue
        exposure = held * slots[slot, t.MULTIPLIER]
        underlying = marks[UNDERLYING, slot]
        if not slots[slot, t.IS_OPTION]:
            for scenario in range(N_SCENARIOS):
                pnl[scenario] += exposure * underlying * (underlying_factor[slot, scenario] - 1.0)
            continue
        if held < 0.0:
            short_options += held
        tau = max(marks[TIME_TO_EXPIRY, slot], 0.0)
        sqrt_time = math.sqrt(tau)
        discount = math.exp(-(rate * tau)) if rate != 0.0 else 1.0
        omega = 1.0 if slots[slot, t.IS_CALL] else -1.0
        for scenario in range(N_SCENARIOS):
            price = pricing_kernels.black76_price_prepared(
                underlying * underlying_factor[slot, scenario],
                strike[slot],
                sqrt_time,
                marks[VOLATILITY, slot] * volatility_factor[scenario],
                omega,
                discount,
            )
            pnl[scenario] += exposure * (price - marks[PRICE, slot])
    scan_risk = 0.0
    for scenario in range(N_SCENARIOS):
        scan_risk = max(scan_risk, -pnl[scenario] * scenario_weight[scenario])
    return max(scan_risk, -short_options * parameters[t.SHORT_OPTION_MINIMUM])
