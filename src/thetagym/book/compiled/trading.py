"""Trades of one env: orders from actions, execution at the bid/ask, assignment into ES futures,
settlement at expiry and the quarterly futures roll.

Accounting: every leg is held at its price, futures at notional, so ``equity = cash +
sum(quantity * multiplier * mid)``. An order gives each slot a ``target`` quantity and says
which slots ``restrike`` (close their contract and open ``target`` of the standard contract at
``expiry_day``); other slots trade ``target - quantity`` of the contract they hold: an
:class:`Orders` record. The kernels work on env ``env`` of the book's records (its market path is
path ``env``).
"""

from __future__ import annotations

import math

import numpy as np

from thetagym.book.compiled import tables as t
from thetagym.book.compiled.buffers import N_MARK_FIELDS, GuardOutputs, Market, Orders, State, env_legs
from thetagym.book.compiled.contracts import (
    PRICE,
    UNDERLYING,
    contract_expiry,
    day_of_bar,
    front_future,
    mark_slot,
    mark_slot_at,
    next_expiry_day,
    strike_for_delta,
    trade_cost,
    underlying_price,
    years_between,
)
from thetagym.book.compiled.guard import (
    CLOSE,
    CLOSE_COUNTER,
    FLATTEN,
    OPEN,
    OPEN_COUNTER,
    ROLL_CLOSER,
    ROLL_OUT,
    SHIFT_BEAR,
    SHIFT_BULL,
    layer_underlying,
)
from thetagym.book.compiled.jit import inline_kernel, kernel
from thetagym.book.compiled.tables import BookTables


@kernel
def open_orders(
    tables: BookTables, market: Market, state: State, path: int, bar: int, opening: np.ndarray, orders: Orders
) -> None:
    """OPEN the layers flagged in ``opening`` (into ``orders``): a closed structure restrikes at the
    standard contract; an open one (guard off) adds its standard size to the contracts it holds.
    Remembers each opened layer's underlying in the state's ``reference``."""
    slots, layers = tables.slots, tables.layers
    per_bar, expiries, scalars = market.per_bar, market.expiries, market.scalars
    quantity, reference = state.quantity[path], state.reference[path]
    target, restrike, expiry_day = orders
    day = day_of_bar(scalars, bar)
    for layer in range(layers.shape[0]):
        if not opening[layer]:
            continue
        first, end = int(layers[layer, t.FIRST_SLOT]), int(layers[layer, t.END_SLOT])
        is_open = False
        for slot in range(first, end):
            if slots[slot, t.IS_STRUCTURE] and quantity[slot] != 0.0:
                is_open = True
        for slot in range(first, end):
            if not slots[slot, t.IS_STRUCTURE]:
                continue
            target[slot] = quantity[slot] + slots[slot, t.SIGN] * slots[slot, t.STANDARD_SIZE]
            restrike[slot] = not is_open
            expiry_day[slot] = next_expiry_day(
                expiries, scalars, path, int(slots[slot, t.SCHEDULE]), day + int(slots[slot, t.OPEN_DAYS])
            )
        reference[layer] = layer_underlying(layers, per_bar, layer, path, bar)


@inline_kernel
def action_orders(
    tables: BookTables,
    market: Market,
    state: State,
    path: int,
    bar: int,
    choices: np.ndarray,
    guard: GuardOutputs,
    orders: Orders,
) -> None:
    """The ``orders`` of the legal ``choices`` (``n_layers + 1`` codes) given the ``guard``'s roll
    expiries and counter-trade directions."""
    slots, layers, parameters = tables.slots, tables.layers, tables.parameters
    quantity = state.quantity[path]
    near_expiry_day, out_expiry_day, direction = guard.near_expiry_day, guard.out_expiry_day, guard.direction
    target, restrike, expiry_day = orders
    n_layers = layers.shape[0]
    n_slots = slots.shape[0]
    for slot in range(n_slots):
        target[slot] = quantity[slot]
    restrike[:] = False
    expiry_day[:] = 0
    opening = np.zeros(n_layers, dtype=np.bool_)
    for layer in range(n_layers):
        opening[layer] = choices[layer] == OPEN
    open_orders(tables, market, state, path, bar, opening, orders)
    for slot in range(n_slots):
        choice = choices[int(slots[slot, t.LAYER])]
        if slots[slot, t.IS_STRUCTURE] and quantity[slot] != 0.0:
            if choice == ROLL_CLOSER:
                restrike[slot] = True
                expiry_day[slot] = near_expiry_day[slot]
            elif choice == ROLL_OUT:
                restrike[slot] = True
                expiry_day[slot] = out_expiry_day[slot]
        if choice == CLOSE:
            target[slot] = 0.0
    for layer in range(n_layers):
        counter = int(layers[layer, t.COUNTER_SLOT])
        if choices[layer] == CLOSE_COUNTER:
            target[counter] = 0.0
        elif choices[layer] == OPEN_COUNTER:
            target[counter] += direction[layer] * layers[layer, t.COUNTER_SIZE]
            if quantity[counter] == 0.0:
                restrike[counter] = True
    hedge_layer = int(parameters[t.HEDGE_LAYER])
    if hedge_layer < 0:
        return
    slot = int(layers[hedge_layer, t.EXTRA_SLOT])
    balancer = choices[n_layers]
    if balancer == SHIFT_BULL or balancer == SHIFT_BEAR:
        step = parameters[t.BALANCER_STEP] if balancer == SHIFT_BULL else -parameters[t.BALANCER_STEP]
        target[slot] += step
        if quantity[slot] == 0.0:
            restrike[slot] = True
    elif balancer == FLATTEN:
        for member in range(int(layers[hedge_layer, t.FIRST_SLOT]), int(layers[hedge_layer, t.END_SLOT])):
            target[member] = 0.0


@kernel
def average_entry(quantity: float, entry: float, target: float, price: float, restrike: bool) -> float:
    """Average cost after trading ``quantity`` to ``target`` at ``price`` (a new contract when
    ``restrike``): adding keeps a quantity-weighted average, reducing keeps the entry, flipping or
    opening starts at ``price``."""
    if target == 0.0:
        return 0.0
    if restrike or quantity == 0.0 or quantity * target < 0.0:
        return price
    if quantity * (target - quantity) > 0.0 and abs(target) > abs(quantity):
        return (quantity * entry + (target - quantity) * price) / target
    return entry


@kernel
def execute(
    tables: BookTables,
    market: Market,
    state: State,
    path: int,
    bar: int,
    orders: Orders,
    charge: float,
    equity: float,
    fresh: np.ndarray,
    costs: np.ndarray,
) -> float:
    """Trade env ``path`` to the ``orders`` at its marks (bar ``bar``), paying bid/ask and fees if
    ``charge`` is nonzero (a float, so that every call shares one compilation); restruck slots get
    their new contract and its marks (``fresh`` is scratch ``(8, n_slots)``). Adds the costs per
    layer (USD, <= 0) to ``costs``; returns the cash paid.

    A sale that OPENs a leg of a layer sized by notional is resized here, once its strike is known,
    from ``equity`` (USD, before the trade): see :func:`notional_contracts`."""
    slots, layers, parameters = tables.slots, tables.layers, tables.parameters
    quantity, strike, expiry_bar, underlying_bar, entry_price, marks = env_legs(state, path)
    target, restrike, expiry_day = orders
    n_slots = slots.shape[0]
    restruck = np.zeros(n_slots, dtype=np.bool_)
    needed = np.zeros(n_slots, dtype=np.bool_)
    for slot in range(n_slots):
        if restrike[slot] and target[slot] != 0.0:
            restruck[slot] = True
            needed[slot] = True
            needed[int(slots[slot, t.ANCHOR])] = True  # a long condor wing is struck off its anchor
    # The standard contract of every restruck slot and anchor: expiry, underlying, strike.
    new_expiry = np.zeros(n_slots, dtype=np.int64)
    new_underlying = np.zeros(n_slots, dtype=np.int64)
    new_forward = np.zeros(n_slots)
    new_strike = np.zeros(n_slots)
    for slot in range(n_slots):
        if not needed[slot]:
            continue
        new_expiry[slot], new_underlying[slot] = contract_expiry(
            tables, market, slot, path, bar, expiry_day[slot]
        )
        new_forward[slot] = underlying_price(
            tables, market, slot, path, bar, new_expiry[slot], new_underlying[slot]
        )
        if slots[slot, t.IS_OPTION]:
            tau = years_between(market.scalars, bar, new_expiry[slot])
            new_strike[slot] = strike_for_delta(tables, market, slot, path, bar, new_forward[slot], tau)
    for slot in range(n_slots):
        if slots[slot, t.NOTIONAL_FRACTION] <= 0.0 or target[slot] == 0.0:
            continue
        held = quantity[slot]
        if restruck[slot] and held == 0.0:  # OPEN of a flat layer: a new contract
            basis = new_strike[slot] if slots[slot, t.IS_OPTION] else new_forward[slot]
        elif not restruck[slot] and target[slot] != held:  # OPEN adding to an open layer (guard off)
            basis = strike[slot] if slots[slot, t.IS_OPTION] else marks[UNDERLYING, slot]
        else:  # a roll keeps its size
            continue
        size = notional_contracts(slots, layers, parameters, quantity, slot, equity, basis)
        target[slot] = held + slots[slot, t.SIGN] * size
        if size == 0.0:
            restruck[slot] = False
    paid = 0.0
    for slot in range(n_slots):
        held = quantity[slot]
        wanted = target[slot]
        multiplier = slots[slot, t.MULTIPLIER]
        old_trade = -held if restruck[slot] else wanted - held
        cost = 0.0
        if old_trade != 0.0:
            if held == 0.0:  # an empty slot is not marked every bar
                mark_slot(
                    tables,
                    market,
                    slot,
                    path,
                    bar,
                    strike[slot],
                    expiry_bar[slot],
                    underlying_bar[slot],
                    marks,
                )
            paid += old_trade * marks[PRICE, slot] * multiplier
            if charge != 0.0:
                unit = trade_cost(tables, marks, slot, strike[slot], old_trade)
                cost += abs(old_trade) * (unit * multiplier + slots[slot, t.FEE])
        price = marks[PRICE, slot]
        if restruck[slot]:
            contract_strike = 0.0
            if slots[slot, t.IS_OPTION]:
                anchor = int(slots[slot, t.ANCHOR])
                step = slots[slot, t.STRIKE_STEP]
                contract_strike = max(new_strike[anchor] + slots[slot, t.STRIKE_OFFSET], step)
            mark_slot_at(
                tables, market, slot, path, bar, contract_strike, new_expiry[slot], new_forward[slot], fresh
            )
            paid += wanted * fresh[PRICE, slot] * multiplier
            if charge != 0.0:
                unit = trade_cost(tables, fresh, slot, contract_strike, wanted)
                cost += abs(wanted) * (unit * multiplier + slots[slot, t.FEE])
            strike[slot] = contract_strike
            expiry_bar[slot] = new_expiry[slot]
            underlying_bar[slot] = new_underlying[slot]
            for field in range(N_MARK_FIELDS):
                marks[field, slot] = fresh[field, slot]
            price = fresh[PRICE, slot]
        entry_price[slot] = average_entry(held, entry_price[slot], wanted, price, restruck[slot])
        quantity[slot] = wanted
        paid += cost
        costs[int(slots[slot, t.LAYER])] -= cost
    return paid


@kernel
def notional_contracts(
    slots: np.ndarray,
    layers: np.ndarray,
    parameters: np.ndarray,
    quantity: np.ndarray,
    slot: int,
    equity: float,
    basis: float,
) -> float:
    """Contracts one OPEN sells in structure ``slot`` of a layer sized by notional:
    ``floor(equity * fraction / (basis * multiplier))``, ``basis`` the strike (options) or the
    future's price (points), ``fraction`` the layer's ``notional_fraction / rungs``. With the guard
    on, the size is cut (not refused) so the layer's gross contracts stay within its
    ``max_contracts`` and the book's within ``book_max_contracts`` (the room before the trade,
    shared by the layer's ``rungs`` legs); never negative."""
    notional = basis * slots[slot, t.MULTIPLIER]
    if notional <= 0.0 or not equity > 0.0:
        return 0.0
    size = math.floor(equity * slots[slot, t.NOTIONAL_FRACTION] / notional)
    if parameters[t.GUARD_ENABLED] > 0.0:
        layer = int(slots[slot, t.LAYER])
        layer_gross = 0.0
        book_gross = 0.0
        legs = 0.0
        for other in range(slots.shape[0]):
            book_gross += abs(quantity[other])
            if int(slots[other, t.LAYER]) == layer:
                layer_gross += abs(quantity[other])
                if slots[other, t.IS_STRUCTURE] > 0.0:
                    legs += 1.0
        room = min(
            layers[layer, t.MAX_CONTRACTS] - layer_gross, parameters[t.BOOK_MAX_CONTRACTS] - book_gross
        )
        size = min(size, math.floor(room / max(legs, 1.0)))
    return float(max(size, 0))


@kernel
def assign(
    tables: BookTables, market: Market, state: State, path: int, bar: int, assigned: np.ndarray
) -> float:
    """Convert the ``assigned`` ES option slots of env ``path`` into the front ES future in their
    layer's assigned slot; returns the cash received (USD).

    Equity-neutral: the option leaves at its mark and the future enters at its mid; at expiry the
    mark is the intrinsic value, so this is assignment at the strike. The future's entry price is
    the strike carried to the front contract (``K + F_front - F_option``). Futures already in the
    slot switch to the front contract at mid."""
    slots, layers = tables.slots, tables.layers
    per_bar, scalars = market.per_bar, market.scalars
    quantity, strike, expiry_bar, underlying_bar, entry_price, marks = env_legs(state, path)
    front_bar = front_future(tables, market, path, bar)
    tau = max(front_bar - bar, 0) / scalars[t.BARS_PER_YEAR]
    front = per_bar[t.INDEX, path, bar] * np.exp(per_bar[t.CARRY, path, bar] * tau)
    cash = 0.0
    for layer in range(layers.shape[0]):
        if not layers[layer, t.HAS_ES_OPTIONS]:
            continue
        received = 0.0
        basis = 0.0
        for slot in range(int(layers[layer, t.FIRST_SLOT]), int(layers[layer, t.END_SLOT])):
            if not assigned[slot]:
                continue
            futures = quantity[slot] * (1.0 if slots[slot, t.IS_CALL] else -1.0)
            received += futures
            basis += futures * (strike[slot] - marks[UNDERLYING, slot])
            cash += quantity[slot] * marks[PRICE, slot] * slots[slot, t.MULTIPLIER]
            quantity[slot] = 0.0
        slot = int(layers[layer, t.EXTRA_SLOT])
        multiplier = slots[slot, t.MULTIPLIER]
        held = quantity[slot]
        held_price = marks[PRICE, slot]
        switch = held != 0.0 and expiry_bar[slot] != front_bar
        switched_entry = entry_price[slot] + (front - held_price if switch else 0.0)
        cash -= received * front * multiplier
        if switch:
            cash += held * (held_price - front) * multiplier
        total = held + received
        received_entry = front + basis / received if received != 0.0 else 0.0
        if held * received >= 0.0:
            entry = (held * switched_entry + received * received_entry) / total if total != 0.0 else 0.0
        else:
            entry = switched_entry if abs(held) > abs(received) else received_entry
        quantity[slot] = total
        if total != 0.0:
            expiry_bar[slot] = front_bar
            entry_price[slot] = entry
        else:
            entry_price[slot] = 0.0
        underlying_bar[slot] = expiry_bar[slot]
        mark_slot(
            tables, market, slot, path, bar, strike[slot], expiry_bar[slot], underlying_bar[slot], marks
        )
    return cash


@inline_kernel
def settle(
    tables: BookTables, market: Market, state: State, path: int, bar: int, assigned: np.ndarray
) -> tuple[float, int]:
    """Settle env ``path``'s legs expiring at ``bar``: in-the-money ES options are assigned into the
    future (flagged in ``assigned``), the rest settle at their mark. Returns (cash received in
    USD, legs assigned)."""
    slots = tables.slots
    quantity, strike, expiry_bar = state.quantity[path], state.strike[path], state.expiry_bar[path]
    entry_price, marks = state.entry_price[path], state.marks[:, path]
    n_slots = slots.shape[0]
    cash = 0.0
    assigned[:] = False
    n_assigned = 0
    for slot in range(n_slots):
        if expiry_bar[slot] > bar or quantity[slot] == 0.0:
            continue
        underlying = marks[UNDERLYING, slot]
        in_the_money = underlying > strike[slot] if slots[slot, t.IS_CALL] else underlying < strike[slot]
        if slots[slot, t.IS_OPTION] and slots[slot, t.IS_ES] and in_the_money:
            assigned[slot] = True
            n_assigned += 1
        else:
            cash += quantity[slot] * marks[PRICE, slot] * slots[slot, t.MULTIPLIER]
            quantity[slot] = 0.0
            entry_price[slot] = 0.0
    if n_assigned:
        cash += assign(tables, market, state, path, bar, assigned)
    return cash, n_assigned


@inline_kernel
def due_futures(
    tables: BookTables, market: Market, state: State, path: int, bar: int, restrike: np.ndarray
) -> bool:
    """Flag in ``restrike`` env ``path``'s ES futures within ``futures_roll_days`` of expiry at
    ``bar``; True if any."""
    slots, parameters, scalars = tables.slots, tables.parameters, market.scalars
    quantity, expiry_bar = state.quantity[path], state.expiry_bar[path]
    window = parameters[t.FUTURES_ROLL_DAYS] * scalars[t.BARS_PER_DAY]
    any_due = False
    for slot in range(slots.shape[0]):
        due = slots[slot, t.IS_FUTURE] > 0.0 and quantity[slot] != 0.0 and expiry_bar[slot] - bar <= window
        restrike[slot] = due
        any_due = any_due or due
    return any_due
