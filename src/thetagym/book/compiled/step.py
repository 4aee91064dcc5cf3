"""The book's step, reset, action masks and aggregates over a batch of envs: one compiled loop
over envs each. The order of events of a step is stated once, on :func:`step_envs`.

The entry points take a :data:`~thetagym.book.compiled.buffers.Packed` tuple of buffers and cut it
into the ``tables``, ``market`` and ``state`` records (:func:`~thetagym.book.compiled.buffers.
unpack`); env ``e`` trades on market path ``e``. The per-env kernels (:func:`reset_envs`,
:func:`masks_envs`, :func:`step_envs`, :func:`aggregate_env`) are what the env's own compiled step
(:mod:`thetagym.env.kernels`) calls too.
"""

from __future__ import annotations

import numba
import numpy as np

from thetagym.book.actions import N_BALANCER_ACTIONS, N_LAYER_ACTIONS
from thetagym.book.attribution import ASSIGNMENT as A_ASSIGNMENT
from thetagym.book.attribution import COSTS as A_COSTS
from thetagym.book.attribution import DELTA as A_DELTA
from thetagym.book.attribution import GAMMA as A_GAMMA
from thetagym.book.attribution import INTEREST as A_INTEREST
from thetagym.book.attribution import RESIDUAL as A_RESIDUAL
from thetagym.book.attribution import THETA as A_THETA
from thetagym.book.attribution import VEGA as A_VEGA
from thetagym.book.compiled import tables as t
from thetagym.book.compiled.buffers import (
    N_MARK_FIELDS,
    Aggregates,
    GuardOutputs,
    Market,
    Orders,
    Packed,
    State,
    StepOutputs,
    state_views,
    static_views,
    unpack,
)
from thetagym.book.compiled.contracts import (
    DELTA,
    GAMMA,
    PRICE,
    THETA,
    TIME_TO_EXPIRY,
    UNDERLYING,
    VEGA,
    VOLATILITY,
    mark_slot,
)
from thetagym.book.compiled.guard import (
    ACCEPT_ASSIGNMENT,
    ES_MULTIPLIER,
    OPEN,
    OPEN_COUNTER,
    ROLL_CLOSER,
    ROLL_OUT,
    es_equivalent_delta,
    legal_choices,
)
from thetagym.book.compiled.jit import entry_kernel, inline_kernel, kernel, parallel_entry_kernel
from thetagym.book.compiled.margin import requirement
from thetagym.book.compiled.tables import BookTables
from thetagym.book.compiled.trading import action_orders, assign, due_futures, execute, open_orders, settle
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR

# Columns of StepOutputs.totals and .counts.
EQUITY, PNL, THETA_ACCRUED, MARGIN_REQUIREMENT, GROSS_CONTRACTS, CASH, INTEREST, CASH_RATE = range(8)
N_TOTALS = 8
BLOCKED, ADDS_BLOCKED, ROLLS, ASSIGNMENTS, COUNTER_TRADES, MARGIN_CALL = range(6)
N_COUNTS = 6
# Rows of Aggregates.sums, .nearest and .net, and columns of .totals.
SUMS = (
    "delta",  # ES-equivalent contracts
    "gamma",  # ES-equivalent contracts per index point
    "vega",  # USD per vol point
    "theta",  # USD per trading day
    "unrealised_pnl",  # USD
    "contracts",  # gross
    "counter_contracts",  # gross
    "structure_contracts",  # gross
)
SUM_DELTA, SUM_GAMMA, SUM_VEGA, SUM_THETA, SUM_UNREALISED, SUM_CONTRACTS, SUM_COUNTER, SUM_STRUCTURE = range(
    8
)
N_SUMS = len(SUMS)
NEAREST = ("short_strike_moneyness", "days_to_expiry")
NEAREST_MONEYNESS, NEAREST_DAYS = range(2)
NET = ("net_delta", "net_gamma", "net_vega", "net_theta")
BOOK_EQUITY, BOOK_CASH, BOOK_MARGIN_REQUIREMENT = range(3)
N_BOOK_TOTALS = 3
NONE = 1e9
"""Stands for "no short option" in the per-layer minima of :func:`aggregate_env`."""
NO_CHARGE, CHARGE = 0.0, 1.0
"""Whether :func:`~thetagym.book.compiled.trading.execute` charges bid/ask and fees."""


@kernel
def equity_of(slots: np.ndarray, cash: float, quantity: np.ndarray, marks: np.ndarray) -> float:
    """Cash plus mark-to-market at mid (USD) of one env."""
    value = 0.0
    for slot in range(slots.shape[0]):
        value += quantity[slot] * marks[PRICE, slot] * slots[slot, t.MULTIPLIER]
    return cash + value


@inline_kernel
def interest_balance(slots: np.ndarray, cash: float, quantity: np.ndarray, marks: np.ndarray) -> float:
    """The cash that earns interest (USD): the cash balance with futures marked to market, i.e.
    ``cash`` plus the held futures' value. The book pays a future's price in cash and holds it at
    its price (:mod:`thetagym.book.engine`); a real future costs nothing to hold and settles its
    gains and losses in cash daily, so only its change in value belongs to the cash."""
    balance = cash
    for slot in range(slots.shape[0]):
        if quantity[slot] != 0.0 and not slots[slot, t.IS_OPTION] and not slots[slot, t.IS_ETP]:
            balance += quantity[slot] * marks[PRICE, slot] * slots[slot, t.MULTIPLIER]
    return balance


@kernel
def _mark(tables: BookTables, market: Market, state: State, env: int, bar: int) -> None:
    """Mark the slots of env ``env`` that hold contracts at ``bar`` (empty slots keep stale marks:
    nothing reads them, and a trade out of an empty slot marks it first)."""
    quantity, strike, expiry_bar, underlying_bar = (
        state.quantity,
        state.strike,
        state.expiry_bar,
        state.underlying_bar,
    )
    marks = state.marks
    for slot in range(tables.slots.shape[0]):
        if quantity[env, slot] == 0.0:
            continue
        mark_slot(
            tables,
            market,
            slot,
            env,
            bar,
            strike[env, slot],
            expiry_bar[env, slot],
            underlying_bar[env, slot],
            marks[:, env],
        )
    state.mark_bar[env] = bar
    state.mark_index[env] = market.per_bar[t.INDEX, env, bar]


@kernel
def _ensure_marked(tables: BookTables, market: Market, state: State, env: int, bar: int) -> None:
    if state.mark_bar[env] != bar:
        _mark(tables, market, state, env, bar)
        state.margin_requirement[env] = requirement(tables, market, state, env)


@kernel
def _equity(tables: BookTables, state: State, env: int) -> float:
    return equity_of(tables.slots, state.cash[env], state.quantity[env], state.marks[:, env])


@kernel
def new_guard_outputs(n_slots: int, n_layers: int) -> GuardOutputs:
    """Scratch for :func:`~thetagym.book.compiled.guard.legal_choices`."""
    return GuardOutputs(
        np.zeros((n_layers + 1, N_LAYER_ACTIONS), dtype=np.bool_),
        np.zeros(n_layers, dtype=np.bool_),
        np.zeros(n_slots, dtype=np.bool_),
        np.zeros(n_slots, dtype=np.int64),
        np.zeros(n_slots, dtype=np.int64),
        np.zeros(n_layers),
    )


@kernel
def new_orders(n_slots: int) -> Orders:
    """Scratch for one round of trades."""
    return Orders(np.zeros(n_slots), np.zeros(n_slots, dtype=np.bool_), np.zeros(n_slots, dtype=np.int64))


@inline_kernel
def reset_envs(tables: BookTables, market: Market, state: State, rows: np.ndarray, bars: np.ndarray) -> None:
    """Clear envs ``rows`` and open each ``open_at_reset`` layer's structure at bars ``bars`` at
    mid (no costs); cash starts at ``capital``."""
    slots, layers, parameters = tables.slots, tables.layers, tables.parameters
    quantity, cash = state.quantity, state.cash
    n_slots, n_layers = slots.shape[0], layers.shape[0]
    orders = new_orders(n_slots)
    fresh = np.zeros((N_MARK_FIELDS, n_slots))
    costs = np.zeros(n_layers)
    opening = np.zeros(n_layers, dtype=np.bool_)
    for layer in range(n_layers):
        opening[layer] = layers[layer, t.OPEN_AT_RESET] > 0.0
    for position in range(rows.shape[0]):
        env, bar = rows[position], bars[position]
        for array in (state.strike, quantity, state.entry_price):
            array[env] = 0.0
        state.expiry_bar[env] = 0
        state.underlying_bar[env] = 0
        cash[env] = parameters[t.CAPITAL]
        state.reference[env] = 0.0
        _mark(tables, market, state, env, bar)
        for slot in range(n_slots):
            orders.target[slot] = quantity[env, slot]
        orders.restrike[:] = False
        orders.expiry_day[:] = 0
        open_orders(tables, market, state, env, bar, opening, orders)
        cash[env] -= execute(tables, market, state, env, bar, orders, NO_CHARGE, cash[env], fresh, costs)
        state.margin_requirement[env] = requirement(tables, market, state, env)


@inline_kernel
def masks_envs(
    tables: BookTables, market: Market, state: State, bars: np.ndarray, out: np.ndarray, first: int, last: int
) -> None:
    """Legal choices ``out`` ``(n_envs, n_layers + 1, 8)`` of envs ``first`` to ``last - 1`` at
    ``bars`` (marking envs not marked there first)."""
    n_slots, n_layers = tables.slots.shape[0], tables.layers.shape[0]
    guard = new_guard_outputs(n_slots, n_layers)
    for env in range(first, last):
        _ensure_marked(tables, market, state, env, bars[env])
        legal_choices(
            tables,
            market,
            state,
            env,
            bars[env],
            _equity(tables, state, env),
            GuardOutputs(
                out[env],
                guard.opposite_wing,
                guard.deep,
                guard.near_expiry_day,
                guard.out_expiry_day,
                guard.direction,
            ),
        )


@kernel
def actions_in_range(actions, n_layers):
    """Whether every choice of ``actions`` (``(n_envs, n_layers + 1)``) lies in its part's range:
    a :class:`~thetagym.book.LayerAction` for each layer, then a
    :class:`~thetagym.book.BalancerAction` (numba does not check indices: a choice out of range
    would read past the guard's table)."""
    for env in range(actions.shape[0]):
        for part in range(actions.shape[1]):
            limit = N_LAYER_ACTIONS if part < n_layers else N_BALANCER_ACTIONS
            if actions[env, part] < 0 or actions[env, part] >= limit:
                return False
    return True


@inline_kernel
def step_envs(
    tables: BookTables,
    market: Market,
    state: State,
    actions: np.ndarray,
    bars: np.ndarray,
    first: int,
    last: int,
    outputs: StepOutputs,
) -> None:
    """Apply ``actions`` (``(n_envs, n_layers + 1)``) at ``bars`` and advance envs ``first`` to
    ``last - 1`` one bar, writing their rows of ``outputs``.

    Order of events: the guard replaces illegal choices by HOLD (counted in ``blocked``); accepted
    assignments convert deep in-the-money short options into futures; the other actions trade at
    bar ``bars`` (bid/ask plus fees); the book is marked at ``bars + 1``; legs expiring at that bar
    settle (in-the-money ES options into the future, the rest at their mark); ES futures near
    expiry roll to the next quarter at bid/ask; at a day's close the cash earns the day's interest
    (:mod:`thetagym.book.engine`); SPAN margin is computed, and equity below it liquidates the env
    at bid/ask (``margin_call``); the step's P&L is attributed.
    """
    totals, attribution, layer_contracts, executed, counts = outputs
    slots, layers = tables.slots, tables.layers
    per_bar, scalars = market.per_bar, market.scalars
    quantity, cash, marks = state.quantity, state.cash, state.marks
    n_slots, n_layers = slots.shape[0], layers.shape[0]
    guard = new_guard_outputs(n_slots, n_layers)
    legal, opposite_wing, deep = guard.legal, guard.opposite_wing, guard.deep
    orders = new_orders(n_slots)
    target, restrike, expiry_day = orders
    fresh = np.zeros((N_MARK_FIELDS, n_slots))
    start = np.zeros((N_MARK_FIELDS, n_slots))
    end = np.zeros((N_MARK_FIELDS, n_slots))
    held = np.zeros(n_slots)
    assigned = np.zeros(n_slots, dtype=np.bool_)
    costs = np.zeros(n_layers)
    bar_years = 1.0 / scalars[t.BARS_PER_YEAR]
    bars_per_day = int(scalars[t.BARS_PER_DAY])
    day_years = 1.0 / TRADING_DAYS_PER_YEAR
    for env in range(first, last):
        bar = bars[env]
        env_marks = marks[:, env]
        _ensure_marked(tables, market, state, env, bar)
        costs[:] = 0.0
        counts[env, :] = 0
        acting = False
        for part in range(n_layers + 1):
            executed[env, part] = actions[env, part]
            acting = acting or actions[env, part] != 0
        if acting:
            # The guard replaces illegal choices by HOLD.
            legal_choices(tables, market, state, env, bar, _equity(tables, state, env), guard)
            for part in range(n_layers + 1):
                choice = actions[env, part]
                if not legal[part, choice]:
                    executed[env, part] = 0
                    counts[env, BLOCKED] += 1
                    if part < n_layers and choice == OPEN and opposite_wing[part]:
                        counts[env, ADDS_BLOCKED] += 1
        equity_before = _equity(tables, state, env)
        layer_choice = executed[env]
        accepted = False
        for slot in range(n_slots):
            accept = deep[slot] and layer_choice[int(slots[slot, t.LAYER])] == ACCEPT_ASSIGNMENT
            restrike[slot] = accept
            if accept:
                accepted = True
                counts[env, ASSIGNMENTS] += 1
        if acting and accepted:
            cash[env] += assign(tables, market, state, env, bar, restrike)
        if acting:
            trading = False
            for part in range(n_layers + 1):
                trading = trading or executed[env, part] != 0
            if trading:
                action_orders(tables, market, state, env, bar, layer_choice, guard, orders)
                cash[env] -= execute(
                    tables, market, state, env, bar, orders, CHARGE, equity_before, fresh, costs
                )
            for layer in range(n_layers):
                choice = layer_choice[layer]
                if choice == ROLL_CLOSER or choice == ROLL_OUT:
                    counts[env, ROLLS] += 1
                elif choice == OPEN_COUNTER:
                    counts[env, COUNTER_TRADES] += 1
        # Mark the held contracts at the next bar, then settle, roll futures and margin.
        for slot in range(n_slots):
            held[slot] = quantity[env, slot]
            for field in range(N_MARK_FIELDS):
                start[field, slot] = env_marks[field, slot]
        next_bar = bar + 1
        _mark(tables, market, state, env, next_bar)
        for slot in range(n_slots):
            for field in range(N_MARK_FIELDS):
                end[field, slot] = env_marks[field, slot]
        settled_cash, n_assigned = settle(tables, market, state, env, next_bar, assigned)
        cash[env] += settled_cash
        counts[env, ASSIGNMENTS] += n_assigned
        if due_futures(tables, market, state, env, next_bar, restrike):
            for slot in range(n_slots):
                target[slot] = quantity[env, slot]
            expiry_day[:] = 0
            cash[env] -= execute(
                tables, market, state, env, next_bar, orders, CHARGE, equity_before, fresh, costs
            )
        # A day's close: the cash held earns the day's rate over 1 / 252 of a year.
        cash_rate = per_bar[t.RATE, env, next_bar]
        interest = 0.0
        if next_bar % bars_per_day == 0:
            interest = interest_balance(slots, cash[env], quantity[env], env_marks) * (cash_rate * day_years)
            cash[env] += interest
        required = requirement(tables, market, state, env)
        equity = _equity(tables, state, env)
        margin_call = equity < required
        if margin_call:
            target[:] = 0.0
            restrike[:] = False
            cash[env] -= execute(tables, market, state, env, next_bar, orders, CHARGE, equity, fresh, costs)
            required = 0.0
            equity = _equity(tables, state, env)
        state.margin_requirement[env] = required
        pnl = equity - equity_before
        _attribute(slots, held, start, end, assigned, bar_years, costs, interest, pnl, attribution[env])
        theta = 0.0
        for layer in range(n_layers):
            theta += attribution[env, layer, A_THETA]
        gross = 0.0
        layer_contracts[env, :] = 0.0
        for slot in range(n_slots):
            layer_contracts[env, int(slots[slot, t.LAYER])] += abs(quantity[env, slot])
        for layer in range(n_layers):
            gross += layer_contracts[env, layer]
        totals[env, EQUITY] = equity
        totals[env, PNL] = pnl
        totals[env, THETA_ACCRUED] = theta
        totals[env, MARGIN_REQUIREMENT] = required
        totals[env, GROSS_CONTRACTS] = gross
        totals[env, CASH] = cash[env]
        totals[env, INTEREST] = interest
        totals[env, CASH_RATE] = cash_rate
        counts[env, MARGIN_CALL] = margin_call


@inline_kernel
def _attribute(slots, held, start, end, assigned, bar_years, costs, interest, pnl, out):
    """P&L attribution of one env's step per layer (``out`` ``(n_layers, 8)``, USD): Greeks at the
    start applied to the move of each leg's underlying and volatility; the residual is what the
    second-order expansion misses. A leg ``assigned`` at the step's end (an in-the-money ES option
    expiring into the future) books what the expansion misses of its move to intrinsic value under
    ``assignment`` instead (the conversion itself is equity-neutral). The book's ``interest`` is
    booked on the first layer, and what the layers miss of ``pnl`` goes to the first layer's
    residual."""
    out[:, :] = 0.0
    market_pnl = np.zeros(out.shape[0])
    for slot in range(slots.shape[0]):
        exposure = held[slot] * slots[slot, t.MULTIPLIER]
        if exposure == 0.0:
            continue
        layer = int(slots[slot, t.LAYER])
        move = end[UNDERLYING, slot] - start[UNDERLYING, slot]
        theta = (start[THETA, slot] * bar_years) * exposure
        delta = (start[DELTA, slot] * move) * exposure
        gamma = (0.5 * start[GAMMA, slot] * move * move) * exposure
        vega = (start[VEGA, slot] * (end[VOLATILITY, slot] - start[VOLATILITY, slot])) * exposure
        out[layer, A_THETA] += theta
        out[layer, A_DELTA] += delta
        out[layer, A_GAMMA] += gamma
        out[layer, A_VEGA] += vega
        market_pnl[layer] += (end[PRICE, slot] - start[PRICE, slot]) * exposure
        if assigned[slot]:
            move_pnl = (end[PRICE, slot] - start[PRICE, slot]) * exposure
            out[layer, A_ASSIGNMENT] += move_pnl - (theta + delta + gamma + vega)
    explained = 0.0
    for layer in range(out.shape[0]):
        greeks = out[layer, A_THETA] + out[layer, A_DELTA] + out[layer, A_GAMMA] + out[layer, A_VEGA]
        out[layer, A_COSTS] = costs[layer]
        out[layer, A_RESIDUAL] = market_pnl[layer] - greeks - out[layer, A_ASSIGNMENT]
        explained += greeks + costs[layer] + out[layer, A_ASSIGNMENT] + out[layer, A_RESIDUAL]
    out[0, A_INTEREST] = interest
    explained += interest
    out[0, A_RESIDUAL] += pnl - explained


@kernel
def aggregate_env(tables: BookTables, state: State, env: int, bars_per_day: float, out: Aggregates) -> None:
    """Aggregates ``out`` of env ``env`` at its marked bar: ``sums`` (rows :data:`SUMS`) and
    ``nearest`` (rows :data:`NEAREST`): the standardised moneyness ``log(K/F) / (iv sqrt(tau))``
    of the most threatened short option, signed towards the money, and the days to expiry of the
    nearest short option (0 when none); the book's ``net`` delta, gamma, vega and theta
    (:data:`NET`); which layers hold their structure (``is_open``); ``totals``: equity, cash and
    margin requirement (:data:`BOOK_EQUITY` ...), USD."""
    sums, nearest, net, is_open, totals = out
    slots, parameters = tables.slots, tables.parameters
    quantity, strike, expiry_bar, entry_price = (
        state.quantity,
        state.strike,
        state.expiry_bar,
        state.entry_price,
    )
    mark_bar, mark_index = state.mark_bar, state.mark_index
    n_layers = tables.layers.shape[0]
    env_marks = state.marks[:, env]
    sums[env] = 0.0
    nearest[env] = NONE
    for slot in range(slots.shape[0]):
        held = quantity[env, slot]
        if held == 0.0:
            continue
        layer = int(slots[slot, t.LAYER])
        exposure = held * slots[slot, t.MULTIPLIER]
        gross = abs(held)
        sums[env, SUM_DELTA, layer] += es_equivalent_delta(
            slots, parameters, slot, held, env_marks, mark_index[env]
        )
        if slots[slot, t.IS_ES]:
            sums[env, SUM_GAMMA, layer] += exposure * env_marks[GAMMA, slot] / ES_MULTIPLIER
        sums[env, SUM_VEGA, layer] += exposure * env_marks[VEGA, slot] / 100.0
        sums[env, SUM_THETA, layer] += exposure * env_marks[THETA, slot] / TRADING_DAYS_PER_YEAR
        sums[env, SUM_UNREALISED, layer] += exposure * (env_marks[PRICE, slot] - entry_price[env, slot])
        sums[env, SUM_CONTRACTS, layer] += gross
        if slots[slot, t.IS_COUNTER]:
            sums[env, SUM_COUNTER, layer] += gross
        if slots[slot, t.IS_STRUCTURE]:
            sums[env, SUM_STRUCTURE, layer] += gross
        if held < 0.0 and slots[slot, t.IS_OPTION]:
            underlying = env_marks[UNDERLYING, slot]
            scale = max(env_marks[VOLATILITY, slot] * np.sqrt(env_marks[TIME_TO_EXPIRY, slot]), 1e-9)
            std = np.log(strike[env, slot] / underlying) / scale
            distance = std if slots[slot, t.IS_CALL] else -std
            days = (expiry_bar[env, slot] - mark_bar[env]) / bars_per_day
            nearest[env, NEAREST_MONEYNESS, layer] = min(nearest[env, NEAREST_MONEYNESS, layer], distance)
            nearest[env, NEAREST_DAYS, layer] = min(nearest[env, NEAREST_DAYS, layer], days)
    net[env] = 0.0
    for layer in range(n_layers):
        for row in range(2):
            if nearest[env, row, layer] >= NONE:
                nearest[env, row, layer] = 0.0
        for row in range(4):
            net[env, row] += sums[env, row, layer]
        is_open[env, layer] = sums[env, SUM_STRUCTURE, layer] > 0.0
    totals[env, BOOK_EQUITY] = _equity(tables, state, env)
    totals[env, BOOK_CASH] = state.cash[env]
    totals[env, BOOK_MARGIN_REQUIREMENT] = state.margin_requirement[env]


# ------------------------------------------------------------------------------ entry points
@entry_kernel
def reset(packed, rows, bars):
    """:func:`reset_envs` of a :data:`~thetagym.book.compiled.buffers.Packed` book."""
    tables, market, state = unpack(packed)
    reset_envs(tables, market, state, rows, bars)


@kernel
def masks_chunk(packed, bars, out, first, last):
    """:func:`masks_envs` of envs ``first`` to ``last - 1`` of a packed book (what one thread of
    :func:`masks` runs: a parallel loop takes the kernels it calls compiled on their own)."""
    tables, market, state = unpack(packed)
    masks_envs(tables, market, state, bars, out, first, last)


@parallel_entry_kernel
def masks(packed, bars, out, n_chunks):
    """:func:`masks_envs` of every env, envs split into ``n_chunks`` contiguous chunks run on
    numba's threads (envs are independent: each writes only its own rows)."""
    n = bars.shape[0]
    for chunk in numba.prange(n_chunks):
        masks_chunk(packed, bars, out, chunk * n // n_chunks, (chunk + 1) * n // n_chunks)


@kernel
def step_chunk(packed, actions, bars, outputs, first, last):
    """:func:`step_envs` of envs ``first`` to ``last - 1`` (as :func:`masks_chunk`)."""
    tables, market, state = unpack(packed)
    step_envs(tables, market, state, actions, bars, first, last, StepOutputs(*outputs))


@parallel_entry_kernel
def step(packed, actions, bars, outputs, n_chunks):
    """:func:`step_envs` of every env in ``n_chunks`` chunks (as :func:`masks`), ``outputs`` a plain
    tuple of the :class:`~thetagym.book.compiled.buffers.StepOutputs` arrays; returns False,
    stepping nothing, if a choice lies outside its part's range."""
    if not actions_in_range(actions, Packed(*packed).shape[2]):
        return False
    n = bars.shape[0]
    for chunk in numba.prange(n_chunks):
        step_chunk(packed, actions, bars, outputs, chunk * n // n_chunks, (chunk + 1) * n // n_chunks)
    return True


@entry_kernel
def aggregate(static, values, indices, shape, bars_per_day, out):
    """:func:`aggregate_env` of every env (``out`` a plain tuple of the
    :class:`~thetagym.book.compiled.buffers.Aggregates` arrays)."""
    tables = static_views(static, shape[3], shape[2])
    state = state_views(values, indices, shape)
    records = Aggregates(*out)
    for env in range(state.cash.shape[0]):
        aggregate_env(tables, state, env, bars_per_day, records)
