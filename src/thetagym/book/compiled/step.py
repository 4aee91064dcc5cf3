"""The book's step, reset, action masks and aggregates over a batch of envs: one compiled loop
over envs each (see :meth:`thetagym.book.Book.step` for the order of events).

The entry points take the packed buffers of :mod:`thetagym.book.compiled.buffers` (``static``,
the market's ``per_bar``, ``expiries`` and ``constants``, the state's ``values``, ``indices`` and
``shape``); inside, the work passes three tuples: ``book`` (the static tables), ``market``
(per_bar, per_path, expiries, scalars) and ``state`` (:data:`~thetagym.book.compiled.buffers.STATE`).
Env ``e`` trades on market path ``e``.
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
from thetagym.book.compiled.buffers import market_views, state_views, static_views
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
from thetagym.book.compiled.jit import entry_kernel, kernel, parallel_entry_kernel
from thetagym.book.compiled.margin import requirement
from thetagym.book.compiled.trading import action_orders, assign, due_futures, execute, open_orders, settle
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR

# Columns of the per-env outputs of :func:`step`.
EQUITY, PNL, THETA_ACCRUED, MARGIN_REQUIREMENT, GROSS_CONTRACTS, CASH, INTEREST, CASH_RATE = range(8)
N_TOTALS = 8
BLOCKED, ADDS_BLOCKED, ROLLS, ASSIGNMENTS, COUNTER_TRADES, MARGIN_CALL = range(6)
N_COUNTS = 6
# Columns of the book totals of :func:`aggregate`.
BOOK_EQUITY, BOOK_CASH, BOOK_MARGIN_REQUIREMENT = range(3)
N_BOOK_TOTALS = 3
N_SUMS = 8
"""Per-layer aggregates of :func:`aggregate`: ES-equivalent delta, gamma, vega, theta,
unrealised P&L, gross contracts, counter-trade contracts, structure contracts."""
NONE = 1e9
"""Stands for "no short option" in the per-layer minima of :func:`aggregate`."""


@kernel
def equity_of(slots: np.ndarray, cash: float, quantity: np.ndarray, marks: np.ndarray) -> float:
    """Cash plus mark-to-market at mid (USD) of one env."""
    value = 0.0
    for slot in range(slots.shape[0]):
        value += quantity[slot] * marks[PRICE, slot] * slots[slot, t.MULTIPLIER]
    return cash + value


@kernel
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
def _requirement(book, market, state, env):
    slots, _, parameters, _, underlying_factor, volatility_factor, scenario_weight = book
    quantity, strike = state[0], state[1]
    return requirement(
        slots,
        parameters,
        underlying_factor,
        volatility_factor,
        scenario_weight,
        market[0][t.RATE, env, state[9][env]],
        quantity[env],
        strike[env],
        state[8][:, env],
    )


@kernel
def _mark(book, market, state, env, bar):
    """Mark the slots of env ``env`` that hold contracts at ``bar`` (empty slots keep stale marks:
    nothing reads them, and a trade out of an empty slot marks it first)."""
    slots = book[0]
    per_bar, per_path, _, scalars = market
    quantity, strike, expiry_bar, underlying_bar = state[0], state[1], state[2], state[3]
    marks, mark_bar, mark_index = state[8], state[9], state[10]
    for slot in range(slots.shape[0]):
        if quantity[env, slot] == 0.0:
            continue
        mark_slot(
            slots,
            per_bar,
            per_path,
            scalars,
            slot,
            env,
            bar,
            strike[env, slot],
            expiry_bar[env, slot],
            underlying_bar[env, slot],
            marks[:, env],
        )
    mark_bar[env] = bar
    mark_index[env] = per_bar[t.INDEX, env, bar]


@kernel
def _ensure_marked(book, market, state, env, bar):
    if state[9][env] != bar:
        _mark(book, market, state, env, bar)
        state[7][env] = _requirement(book, market, state, env)


@kernel
def _legal(book, market, state, env, bar, legal, opposite_wing, deep, near_day, out_day, direction):
    slots, layers, parameters = book[0], book[1], book[2]
    per_bar, _, expiries, scalars = market
    quantity, _, expiry_bar, _, entry_price, cash, reference, margin_requirement, marks = state[:9]
    env_marks = marks[:, env]
    legal_choices(
        slots,
        layers,
        parameters,
        per_bar,
        expiries,
        scalars,
        env,
        bar,
        quantity[env],
        expiry_bar[env],
        entry_price[env],
        env_marks,
        reference[env],
        equity_of(slots, cash[env], quantity[env], env_marks),
        margin_requirement[env],
        legal,
        opposite_wing,
        deep,
        near_day,
        out_day,
        direction,
    )


@kernel
def _execute(book, market, state, env, bar, target, restrike, expiry_day, charge, equity, fresh, costs):
    slots, layers, parameters, spreads = book[0], book[1], book[2], book[3]
    per_bar, per_path, expiries, scalars = market
    quantity, strike, expiry_bar, underlying_bar, entry_price, cash = state[:6]
    paid = execute(
        slots,
        layers,
        parameters,
        spreads,
        per_bar,
        per_path,
        expiries,
        scalars,
        env,
        bar,
        target,
        restrike,
        expiry_day,
        charge,
        equity,
        quantity[env],
        strike[env],
        expiry_bar[env],
        underlying_bar[env],
        entry_price[env],
        state[8][:, env],
        fresh,
        costs,
    )
    cash[env] -= paid


@kernel
def unpack(static, per_bar, expiries, constants, values, indices, shape):
    """The ``book``, ``market`` and ``state`` tuples of an entry point's packed arguments."""
    book = static_views(static, shape[3], shape[2])
    return book, market_views(per_bar, expiries, constants), state_views(values, indices, shape)


@entry_kernel
def masks(static, per_bar, expiries, constants, values, indices, shape, bars, out):
    """Legal choices of every env at ``bars``, ``out`` ``(n_envs, n_layers + 1, 8)`` (marking envs
    not marked there first)."""
    book, market, state = unpack(static, per_bar, expiries, constants, values, indices, shape)
    _masks_envs(book, market, state, bars, out, 0, bars.shape[0])


@parallel_entry_kernel
def masks_parallel(static, per_bar, expiries, constants, values, indices, shape, bars, out, n_chunks):
    """:func:`masks` on numba's threads, envs split into ``n_chunks`` contiguous chunks."""
    book, market, state = unpack(static, per_bar, expiries, constants, values, indices, shape)
    n = bars.shape[0]
    for chunk in numba.prange(n_chunks):
        _masks_envs(book, market, state, bars, out, chunk * n // n_chunks, (chunk + 1) * n // n_chunks)


@kernel
def _masks_envs(book, market, state, bars, out, first, last):
    slots, layers = book[0], book[1]
    n_slots, n_layers = slots.shape[0], layers.shape[0]
    opposite_wing = np.zeros(n_layers, dtype=np.bool_)
    deep = np.zeros(n_slots, dtype=np.bool_)
    near_day = np.zeros(n_slots, dtype=np.int64)
    out_day = np.zeros(n_slots, dtype=np.int64)
    direction = np.zeros(n_layers)
    for env in range(first, last):
        _ensure_marked(book, market, state, env, bars[env])
        _legal(
            book, market, state, env, bars[env], out[env], opposite_wing, deep, near_day, out_day, direction
        )


@entry_kernel
def reset(static, per_bar, expiries, constants, values, indices, shape, rows, bars):
    """Clear envs ``rows`` and open each ``open_at_reset`` layer's structure at bars ``bars`` at
    mid (no costs); cash starts at ``capital``."""
    book, market, state = unpack(static, per_bar, expiries, constants, values, indices, shape)
    slots, layers, parameters = book[0], book[1], book[2]
    per_bar, _, expiries, scalars = market
    quantity, strike, expiry_bar, underlying_bar, entry_price, cash, reference = state[:7]
    n_slots, n_layers = slots.shape[0], layers.shape[0]
    target = np.zeros(n_slots)
    restrike = np.zeros(n_slots, dtype=np.bool_)
    expiry_day = np.zeros(n_slots, dtype=np.int64)
    fresh = np.zeros((8, n_slots))
    costs = np.zeros(n_layers)
    opening = np.zeros(n_layers, dtype=np.bool_)
    for layer in range(n_layers):
        opening[layer] = layers[layer, t.OPEN_AT_RESET] > 0.0
    for position in range(rows.shape[0]):
        env, bar = rows[position], bars[position]
        for array in (strike, quantity, entry_price):
            array[env] = 0.0
        expiry_bar[env] = 0
        underlying_bar[env] = 0
        cash[env] = parameters[t.CAPITAL]
        reference[env] = 0.0
        _mark(book, market, state, env, bar)
        target[:] = quantity[env, :n_slots]
        restrike[:] = False
        expiry_day[:] = 0
        open_orders(
            slots,
            layers,
            per_bar,
            expiries,
            scalars,
            env,
            bar,
            opening,
            quantity[env],
            reference[env],
            target,
            restrike,
            expiry_day,
        )
        _execute(book, market, state, env, bar, target, restrike, expiry_day, False, cash[env], fresh, costs)
        state[7][env] = _requirement(book, market, state, env)


@entry_kernel
def step(
    static,
    per_bar,
    expiries,
    constants,
    values,
    indices,
    shape,
    actions,
    bars,
    totals,
    attribution,
    layer_contracts,
    executed,
    counts,
):
    """Apply ``actions`` (``(n_envs, n_layers + 1)``) at ``bars`` and advance every env one bar;
    returns False, stepping nothing, if a choice lies outside its part's range.

    Writes per-env ``totals`` ``(n_envs, 8)`` (:data:`EQUITY` ...), the P&L ``attribution``
    ``(n_envs, n_layers, 8)``, the gross ``layer_contracts`` ``(n_envs, n_layers)``, the actions
    done (``executed``, like ``actions``) and ``counts`` ``(n_envs, 6)`` (:data:`BLOCKED` ...)."""
    if not actions_in_range(actions, shape[2]):
        return False
    book, market, state = unpack(static, per_bar, expiries, constants, values, indices, shape)
    outputs = (totals, attribution, layer_contracts, executed, counts)
    step_envs(book, market, state, actions, bars, 0, bars.shape[0], outputs)
    return True


@parallel_entry_kernel
def step_parallel(
    static,
    per_bar,
    expiries,
    constants,
    values,
    indices,
    shape,
    actions,
    bars,
    totals,
    attribution,
    layer_contracts,
    executed,
    counts,
    n_chunks,
):
    """:func:`step` on numba's threads, envs split into ``n_chunks`` contiguous chunks (envs are
    independent: each writes only its own rows). A separate function from :func:`step`, because
    numba's disk cache does not tell a parallel compilation of a function from a serial one."""
    if not actions_in_range(actions, shape[2]):
        return False
    book, market, state = unpack(static, per_bar, expiries, constants, values, indices, shape)
    outputs = (totals, attribution, layer_contracts, executed, counts)
    n = bars.shape[0]
    for chunk in numba.prange(n_chunks):
        step_envs(
            book, market, state, actions, bars, chunk * n // n_chunks, (chunk + 1) * n // n_chunks, outputs
        )
    return True


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


@kernel
def step_envs(book, market, state, actions, bars, first, last, outputs):
    """Step envs ``first`` to ``last - 1`` (see :func:`step`)."""
    totals, attribution, layer_contracts, executed, counts = outputs
    slots, layers, parameters = book[0], book[1], book[2]
    per_bar, per_path, expiries, scalars = market
    quantity, strike, expiry_bar, underlying_bar, entry_price, cash = state[:6]
    margin_requirement, marks = state[7], state[8]
    n_slots, n_layers = slots.shape[0], layers.shape[0]
    legal = np.zeros((n_layers + 1, N_LAYER_ACTIONS), dtype=np.bool_)
    opposite_wing = np.zeros(n_layers, dtype=np.bool_)
    deep = np.zeros(n_slots, dtype=np.bool_)
    near_day = np.zeros(n_slots, dtype=np.int64)
    out_day = np.zeros(n_slots, dtype=np.int64)
    direction = np.zeros(n_layers)
    target = np.zeros(n_slots)
    restrike = np.zeros(n_slots, dtype=np.bool_)
    expiry_day = np.zeros(n_slots, dtype=np.int64)
    fresh = np.zeros((8, n_slots))
    start = np.zeros((8, n_slots))
    end = np.zeros((8, n_slots))
    held = np.zeros(n_slots)
    assigned = np.zeros(n_slots, dtype=np.bool_)
    costs = np.zeros(n_layers)
    bar_years = 1.0 / scalars[t.BARS_PER_YEAR]
    bars_per_day = int(scalars[t.BARS_PER_DAY])
    day_years = 1.0 / TRADING_DAYS_PER_YEAR
    for env in range(first, last):
        bar = bars[env]
        env_marks = marks[:, env]
        _ensure_marked(book, market, state, env, bar)
        costs[:] = 0.0
        counts[env, :] = 0
        acting = False
        for part in range(n_layers + 1):
            executed[env, part] = actions[env, part]
            acting = acting or actions[env, part] != 0
        if acting:
            # The guard replaces illegal choices by HOLD.
            _legal(book, market, state, env, bar, legal, opposite_wing, deep, near_day, out_day, direction)
            for part in range(n_layers + 1):
                choice = actions[env, part]
                if not legal[part, choice]:
                    executed[env, part] = 0
                    counts[env, BLOCKED] += 1
                    if part < n_layers and choice == OPEN and opposite_wing[part]:
                        counts[env, ADDS_BLOCKED] += 1
        equity_before = equity_of(slots, cash[env], quantity[env], env_marks)
        layer_choice = executed[env]
        accepted = False
        for slot in range(n_slots):
            accept = deep[slot] and layer_choice[int(slots[slot, t.LAYER])] == ACCEPT_ASSIGNMENT
            restrike[slot] = accept
            if accept:
                accepted = True
                counts[env, ASSIGNMENTS] += 1
        if acting and accepted:
            cash[env] += assign(
                slots,
                layers,
                parameters,
                per_bar,
                per_path,
                expiries,
                scalars,
                env,
                bar,
                restrike,
                quantity[env],
                strike[env],
                expiry_bar[env],
                underlying_bar[env],
                entry_price[env],
                env_marks,
            )
        if acting:
            trading = False
            for part in range(n_layers + 1):
                trading = trading or executed[env, part] != 0
            if trading:
                action_orders(
                    slots,
                    layers,
                    parameters,
                    per_bar,
                    expiries,
                    scalars,
                    env,
                    bar,
                    layer_choice,
                    quantity[env],
                    state[6][env],
                    near_day,
                    out_day,
                    direction,
                    target,
                    restrike,
                    expiry_day,
                )
                _execute(
                    book,
                    market,
                    state,
                    env,
                    bar,
                    target,
                    restrike,
                    expiry_day,
                    True,
                    equity_before,
                    fresh,
                    costs,
                )
            for layer in range(n_layers):
                choice = layer_choice[layer]
                if choice == ROLL_CLOSER or choice == ROLL_OUT:
                    counts[env, ROLLS] += 1
                elif choice == OPEN_COUNTER:
                    counts[env, COUNTER_TRADES] += 1
        # Mark the held contracts at the next bar, then settle, roll futures and margin.
        start[:, :] = env_marks
        held[:] = quantity[env, :n_slots]
        next_bar = bar + 1
        _mark(book, market, state, env, next_bar)
        end[:, :] = env_marks
        settled_cash, n_assigned = settle(
            slots,
            layers,
            parameters,
            per_bar,
            per_path,
            expiries,
            scalars,
            env,
            next_bar,
            quantity[env],
            strike[env],
            expiry_bar[env],
            underlying_bar[env],
            entry_price[env],
            env_marks,
            assigned,
        )
        cash[env] += settled_cash
        counts[env, ASSIGNMENTS] += n_assigned
        if due_futures(slots, parameters, scalars, next_bar, quantity[env], expiry_bar[env], restrike):
            target[:] = quantity[env, :n_slots]
            expiry_day[:] = 0
            _execute(
                book,
                market,
                state,
                env,
                next_bar,
                target,
                restrike,
                expiry_day,
                True,
                equity_before,
                fresh,
                costs,
            )
        # A day's close: the cash held earns the day's rate over 1 / 252 of a year.
        cash_rate = per_bar[t.RATE, env, next_bar]
        interest = 0.0
        if next_bar % bars_per_day == 0:
            interest = interest_balance(slots, cash[env], quantity[env], env_marks) * (cash_rate * day_years)
            cash[env] += interest
        required = _requirement(book, market, state, env)
        equity = equity_of(slots, cash[env], quantity[env], env_marks)
        margin_call = equity < required
        if margin_call:
            target[:] = 0.0
            restrike[:] = False
            _execute(
                book, market, state, env, next_bar, target, restrike, expiry_day, True, equity, fresh, costs
            )
            required = 0.0
            equity = equity_of(slots, cash[env], quantity[env], env_marks)
        margin_requirement[env] = required
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


@kernel
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


@entry_kernel
def aggregate(static, values, indices, shape, bars_per_day, sums, nearest, net, is_open, totals):
    """Per-layer and book aggregates of every env at its marked bar (see :func:`aggregate_env`)."""
    book = static_views(static, shape[3], shape[2])
    state = state_views(values, indices, shape)
    for env in range(totals.shape[0]):
        aggregate_env(book, state, env, bars_per_day, sums, nearest, net, is_open, totals)


@kernel
def aggregate_env(book, state, env, bars_per_day, sums, nearest, net, is_open, totals):
    """Aggregates of env ``env`` at its marked bar: ``sums`` ``(n_envs, 8, n_layers)``
    (:data:`N_SUMS`) and ``nearest`` ``(n_envs, 2, n_layers)``: the standardised moneyness
    ``log(K/F) / (iv sqrt(tau))`` of the most threatened short option, signed towards the money, and
    the days to expiry of the nearest short option (0 when none); the book's ``net`` delta, gamma,
    vega and theta ``(n_envs, 4)``; which layers hold their structure (``is_open``); ``totals``
    ``(n_envs, 3)``: equity, cash and margin requirement (:data:`BOOK_EQUITY` ...), USD."""
    slots, layers, parameters = book[0], book[1], book[2]
    quantity, strike, expiry_bar, _, entry_price, cash = state[:6]
    margin_requirement, marks, mark_bar, mark_index = state[7], state[8], state[9], state[10]
    n_layers = layers.shape[0]
    env_marks = marks[:, env]
    sums[env] = 0.0
    nearest[env] = NONE
    for slot in range(slots.shape[0]):
        held = quantity[env, slot]
        if held == 0.0:
            continue
        layer = int(slots[slot, t.LAYER])
        exposure = held * slots[slot, t.MULTIPLIER]
        gross = abs(held)
        sums[env, 0, layer] += es_equivalent_delta(slots, parameters, slot, held, env_marks, mark_index[env])
        if slots[slot, t.IS_ES]:
            sums[env, 1, layer] += exposure * env_marks[GAMMA, slot] / ES_MULTIPLIER
        sums[env, 2, layer] += exposure * env_marks[VEGA, slot] / 100.0
        sums[env, 3, layer] += exposure * env_marks[THETA, slot] / TRADING_DAYS_PER_YEAR
        sums[env, 4, layer] += exposure * (env_marks[PRICE, slot] - entry_price[env, slot])
        sums[env, 5, layer] += gross
        if slots[slot, t.IS_COUNTER]:
            sums[env, 6, layer] += gross
        if slots[slot, t.IS_STRUCTURE]:
            sums[env, 7, layer] += gross
        if held < 0.0 and slots[slot, t.IS_OPTION]:
            underlying = env_marks[UNDERLYING, slot]
            scale = max(env_marks[VOLATILITY, slot] * np.sqrt(env_marks[TIME_TO_EXPIRY, slot]), 1e-9)
            std = np.log(strike[env, slot] / underlying) / scale
            distance = std if slots[slot, t.IS_CALL] else -std
            days = (expiry_bar[env, slot] - mark_bar[env]) / bars_per_day
            nearest[env, 0, layer] = min(nearest[env, 0, layer], distance)
            nearest[env, 1, layer] = min(nearest[env, 1, layer], days)
    net[env] = 0.0
    for layer in range(n_layers):
        for row in range(2):
            if nearest[env, row, layer] >= NONE:
                nearest[env, row, layer] = 0.0
        for row in range(4):
            net[env, row] += sums[env, row, layer]
        is_open[env, layer] = sums[env, 7, layer] > 0.0
    totals[env, BOOK_EQUITY] = equity_of(slots, cash[env], quantity[env], env_marks)
    totals[env, BOOK_CASH] = cash[env]
    totals[env, BOOK_MARGIN_REQUIREMENT] = margin_requirement[env]


@entry_kernel
def equities(static, values, indices, shape, out):
    """Cash plus mark-to-market at mid (USD) of every env into ``out``."""
    book = static_views(static, shape[3], shape[2])
    state = state_views(values, indices, shape)
    quantity, cash, marks = state[0], state[5], state[8]
    for env in range(out.shape[0]):
        out[env] = equity_of(book[0], cash[env], quantity[env], marks[:, env])
