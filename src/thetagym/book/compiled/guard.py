"""The guard of one env: which choices are legal at its current bar (``docs/guard.md``).

Physical feasibility applies always (nothing to close, no deep in-the-money option to accept,
no expiry left on the path). With ``guard.enabled`` the six spiral-prevention rules apply too:

1. gross contracts per layer and for the book stay within ``max_contracts`` and
   ``guard.book_max_contracts`` (OPEN, OPEN_COUNTER, balancer steps that grow the hedge); a layer
   sized by notional may OPEN while one contract per leg fits, and its sale is cut to the room
   left (:func:`~thetagym.book.compiled.trading.notional_contracts`);
2. rolls are size-preserving by construction (they restrike the contracts they hold);
3. while ``|net delta| > delta_band * delta_budget``, OPEN is illegal on every layer that would
   sell options of the opposite wing (calls when the book is long delta, puts when short);
4. a counter-trade goes against the layer's bias, needs the underlying to have moved
   ``counter_trigger`` against the layer since it opened, and stays within ``counter_max``;
5. risk-adding actions need ``requirement + estimate <= margin_cap * equity``, where the
   estimate is linear (contracts x multiplier x price x scan range x |target delta|; a layer sized
   by notional counts ``equity x fraction / (price x multiplier)`` contracts); closes,
   accepted assignments and rolls of threatened legs (beyond the target delta) are exempt;
6. OPEN is illegal in a layer holding a losing leg whose size is at ``leg_cap``; and OPEN on a
   layer that is already open is illegal (with the guard off it adds size: the spiral).

:func:`legal_choices` works in four phases, each rule tagged (``# rule N``) where it is enforced:
:func:`scan_legs` gathers the inputs (gross contracts, net delta, margin estimates, capped losing
legs); :func:`feasible_choices` keeps what is physically possible and sets the counter-trade
direction (rule 4's "against the bias"; rule 2 holds there by construction: a roll restrikes the
contracts held); :func:`guard_layer_choices` applies rules 1, 3, 4, 5 and 6 to each layer;
:func:`balancer_choices` applies rules 1 and 5 to the balancer. Rule 1's cut of a notional sale
is in :func:`~thetagym.book.compiled.trading.notional_contracts`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from thetagym.book.actions import BalancerAction, LayerAction
from thetagym.book.compiled import tables as t
from thetagym.book.compiled.buffers import GuardOutputs, Market, State
from thetagym.book.compiled.contracts import DELTA, PRICE, UNDERLYING, day_of_bar, next_expiry_day
from thetagym.book.compiled.jit import inline_kernel, kernel
from thetagym.book.compiled.tables import BookTables
from thetagym.pricing.instruments import MULTIPLIER, InstrumentKind

ES_MULTIPLIER = float(MULTIPLIER[InstrumentKind.ES_FUTURE])
"""USD per index point of one ES future: ES-equivalent deltas count in these."""
HOLD, ROLL_CLOSER, ROLL_OUT, ACCEPT_ASSIGNMENT, CLOSE, OPEN, OPEN_COUNTER, CLOSE_COUNTER = (
    int(action) for action in LayerAction
)
SHIFT_BULL, SHIFT_BEAR, FLATTEN = (
    int(BalancerAction.SHIFT_BULL),
    int(BalancerAction.SHIFT_BEAR),
    int(BalancerAction.FLATTEN),
)


@kernel
def es_equivalent_delta(
    slots: np.ndarray, parameters: np.ndarray, slot: int, quantity: float, marks: np.ndarray, index: float
) -> float:
    """Beta-weighted delta of one leg in ES futures contracts: a VIX-complex leg moves ``vix_beta``
    times the index's relative move (the inverse ETP the other way)."""
    dollar_delta = quantity * slots[slot, t.MULTIPLIER] * marks[DELTA, slot]
    if slots[slot, t.IS_ES]:
        return dollar_delta / ES_MULTIPLIER
    beta = -parameters[t.VIX_BETA] if slots[slot, t.ETP_INVERSE] else parameters[t.VIX_BETA]
    return dollar_delta * marks[UNDERLYING, slot] * beta / (ES_MULTIPLIER * index)


@kernel
def layer_underlying(layers: np.ndarray, per_bar: np.ndarray, layer: int, path: int, bar: int) -> float:
    """What a layer's counter-trades and reference follow: its ETP, or the index."""
    if layers[layer, t.IS_ETP_LAYER]:
        series = t.INVERSE_VIX if layers[layer, t.ETP_INVERSE_LAYER] else t.VXX
        return per_bar[series, path, bar]
    return per_bar[t.INDEX, path, bar]


class LegScan(NamedTuple):
    """What the guard's first phase (:func:`scan_legs`) finds in one env's legs: the book's gross
    contracts and ES-equivalent ``net_delta``; per layer the gross contracts (all legs, and the
    structure's), whether an OPEN or a ROLL_OUT finds no expiry left on the path, whether a short
    option is ``threatened`` (beyond its target delta) or ``deep`` enough to accept assignment, the
    margin estimate of an OPEN and whether a losing leg sits at its cap; per slot the margin
    estimate of one contract (``unit_risk``, USD)."""

    book_gross: float
    net_delta: float
    layer_gross: np.ndarray
    structure_gross: np.ndarray
    open_blocked: np.ndarray
    out_blocked: np.ndarray
    threatened: np.ndarray
    has_deep: np.ndarray
    open_estimate: np.ndarray
    capped_loser: np.ndarray
    unit_risk: np.ndarray


@kernel
def legal_choices(
    tables: BookTables, market: Market, state: State, path: int, bar: int, equity: float, guard: GuardOutputs
) -> None:
    """Fill the ``guard`` record of env ``path`` at ``bar`` (its marks must be at ``bar``; ``equity``
    in USD): the legal choices and the inputs of the legal actions, in four phases: the scan of
    the legs, what is physically feasible, the spiral-prevention rules on each layer (with
    ``guard.enabled``), the balancer."""
    legs = scan_legs(tables, market, state, path, bar, equity, guard)
    move = feasible_choices(tables, market, state, path, bar, legs, guard)
    headroom = tables.parameters[t.MARGIN_CAP] * equity - state.margin_requirement[path]
    guarded = tables.parameters[t.GUARD_ENABLED] > 0.0
    if guarded:
        guard_layer_choices(tables, state, path, legs, move, headroom, guard)
    balancer_choices(tables, state, path, legs, headroom, guarded, guard.legal[tables.layers.shape[0]])


@inline_kernel
def scan_legs(
    tables: BookTables, market: Market, state: State, path: int, bar: int, equity: float, guard: GuardOutputs
) -> LegScan:
    """Phase 1: one pass over env ``path``'s leg slots; also fills the ``guard``'s per-slot ``deep``
    flags and roll expiries."""
    slots, layers, parameters = tables.slots, tables.layers, tables.parameters
    per_bar, expiries, scalars = market.per_bar, market.expiries, market.scalars
    quantity, expiry_bar, entry_price = state.quantity[path], state.expiry_bar[path], state.entry_price[path]
    marks = state.marks[:, path]
    deep, near_expiry_day, out_expiry_day = guard.deep, guard.near_expiry_day, guard.out_expiry_day
    n_layers = layers.shape[0]
    guard_on = parameters[t.GUARD_ENABLED] > 0.0
    index = per_bar[t.INDEX, path, bar]
    day = day_of_bar(scalars, bar)
    scan = parameters[t.SCAN_RANGE]
    vix_scale = abs(parameters[t.VIX_BETA])
    book_gross = 0.0
    net_delta = 0.0
    layer_gross = np.zeros(n_layers)
    structure_gross = np.zeros(n_layers)
    open_blocked = np.zeros(n_layers, dtype=np.bool_)
    out_blocked = np.zeros(n_layers, dtype=np.bool_)
    threatened = np.zeros(n_layers, dtype=np.bool_)
    has_deep = np.zeros(n_layers, dtype=np.bool_)
    open_estimate = np.zeros(n_layers)
    capped_loser = np.zeros(n_layers, dtype=np.bool_)
    unit_risk = np.zeros(slots.shape[0])
    for slot in range(slots.shape[0]):
        layer = int(slots[slot, t.LAYER])
        schedule = int(slots[slot, t.SCHEDULE])
        held = quantity[slot]
        gross = abs(held)
        option_structure = slots[slot, t.IS_STRUCTURE] > 0.0 and slots[slot, t.IS_OPTION] > 0.0
        current_day = day_of_bar(scalars, expiry_bar[slot])
        near = next_expiry_day(expiries, scalars, path, schedule, day + int(slots[slot, t.NEAR_DAYS]))
        near_expiry_day[slot] = near if near >= 0 and near < current_day else current_day
        open_day = day + int(slots[slot, t.OPEN_DAYS])
        out_expiry_day[slot] = next_expiry_day(
            expiries, scalars, path, schedule, max(open_day, current_day + 1)
        )
        held_option = option_structure and held != 0.0
        short_delta = abs(marks[DELTA, slot]) if held_option and held < 0.0 else 0.0
        deep[slot] = short_delta >= parameters[t.ASSIGNMENT_MIN_DELTA] and slots[slot, t.IS_ES] > 0.0
        layer_gross[layer] += gross
        if slots[slot, t.IS_STRUCTURE]:
            structure_gross[layer] += gross
        net_delta += es_equivalent_delta(slots, parameters, slot, held, marks, index)
        if option_structure and next_expiry_day(expiries, scalars, path, schedule, open_day) < 0:
            open_blocked[layer] = True
        if held_option and out_expiry_day[slot] < 0:
            out_blocked[layer] = True
        if held_option and short_delta > abs(slots[slot, t.DELTA_TARGET]):
            threatened[layer] = True
        if deep[slot]:
            has_deep[layer] = True
        if guard_on:  # the inputs of rules 5 (margin estimates) and 6 (capped losing legs)
            if slots[slot, t.IS_ES]:
                price, scale = index, 1.0
            elif slots[slot, t.IS_ETP]:
                price, scale = layer_underlying(layers, per_bar, layer, path, bar), vix_scale
            else:
                price, scale = per_bar[t.VIX, path, bar], vix_scale
            risk = slots[slot, t.MULTIPLIER] * price * scan * scale
            if slots[slot, t.IS_OPTION]:
                risk *= abs(slots[slot, t.DELTA_TARGET])
            unit_risk[slot] = risk
            if slots[slot, t.IS_STRUCTURE]:
                size = slots[slot, t.STANDARD_SIZE]
                if slots[slot, t.NOTIONAL_FRACTION] > 0.0:  # about what notional sizing will sell
                    size = equity * slots[slot, t.NOTIONAL_FRACTION] / (price * slots[slot, t.MULTIPLIER])
                open_estimate[layer] += risk * size
            leg_cap = layers[layer, t.LEG_CAP]
            if held * (marks[PRICE, slot] - entry_price[slot]) < 0.0 and gross >= leg_cap:
                capped_loser[layer] = True
        book_gross += gross
    return LegScan(
        book_gross,
        net_delta,
        layer_gross,
        structure_gross,
        open_blocked,
        out_blocked,
        threatened,
        has_deep,
        open_estimate,
        capped_loser,
        unit_risk,
    )


@inline_kernel
def feasible_choices(
    tables: BookTables, market: Market, state: State, path: int, bar: int, legs: LegScan, guard: GuardOutputs
) -> np.ndarray:
    """Phase 2: what each layer can physically do (something to roll, close or accept; an expiry
    left to open or roll into), and the counter-trade ``direction`` (against the layer's bias; a
    neutral layer's against the move since it opened). Returns each layer's move since it opened
    (a fraction of its underlying)."""
    layers = tables.layers
    quantity, reference = state.quantity[path], state.reference[path]
    legal, direction = guard.legal, guard.direction
    n_layers = layers.shape[0]
    moves = np.zeros(n_layers)
    legal[:, :] = False
    for layer in range(n_layers):
        counter_slot = int(layers[layer, t.COUNTER_SLOT])
        current = layer_underlying(layers, market.per_bar, layer, path, bar)
        move = current / reference[layer] - 1.0 if reference[layer] > 0.0 else 0.0
        moves[layer] = move
        if layers[layer, t.IS_ETP_LAYER]:
            exposure = 1.0 if layers[layer, t.ETP_INVERSE_LAYER] else -1.0
        else:
            exposure = layers[layer, t.BIAS]
        direction[layer] = -exposure if exposure != 0.0 else np.sign(move)  # rule 4: against the bias
        counter_held = quantity[counter_slot]
        structure_open = legs.structure_gross[layer] > 0.0
        has_legs = legs.layer_gross[layer] > 0.0
        rollable = layers[layer, t.HAS_OPTIONS] > 0.0 and structure_open
        choices = legal[layer]
        choices[HOLD] = True
        choices[ROLL_CLOSER] = rollable  # rule 2: a roll restrikes what it holds, size-preserving
        choices[ROLL_OUT] = rollable and not legs.out_blocked[layer]
        choices[ACCEPT_ASSIGNMENT] = legs.has_deep[layer]
        choices[CLOSE] = has_legs
        choices[OPEN] = not legs.open_blocked[layer]
        choices[OPEN_COUNTER] = has_legs and direction[layer] != 0.0
        choices[CLOSE_COUNTER] = counter_held != 0.0
        guard.opposite_wing[layer] = False
    return moves


@inline_kernel
def guard_layer_choices(
    tables: BookTables,
    state: State,
    path: int,
    legs: LegScan,
    moves: np.ndarray,
    headroom: float,
    guard: GuardOutputs,
) -> None:
    """Phase 3 (``guard.enabled``): the spiral-prevention rules of DESIGN.md §3 on each layer's
    choices, with ``headroom`` the margin left under the cap (USD)."""
    layers, parameters = tables.layers, tables.parameters
    quantity = state.quantity[path]
    legal, opposite_wing, direction = guard.legal, guard.opposite_wing, guard.direction
    book_gross, net_delta, layer_gross = legs.book_gross, legs.net_delta, legs.layer_gross
    book_max = parameters[t.BOOK_MAX_CONTRACTS]
    band = parameters[t.DELTA_BAND_CONTRACTS]
    for layer in range(layers.shape[0]):
        choices = legal[layer]
        counter_slot = int(layers[layer, t.COUNTER_SLOT])
        counter_held = quantity[counter_slot]
        counter_new = counter_held + direction[layer] * layers[layer, t.COUNTER_SIZE]
        counter_growth = abs(counter_new) - abs(counter_held)
        structure_open = legs.structure_gross[layer] > 0.0
        max_contracts = layers[layer, t.MAX_CONTRACTS]
        open_size = layers[layer, t.OPEN_SIZE]
        # Rule 1: gross contracts per layer and for the book within their caps.
        fits = layer_gross[layer] + open_size <= max_contracts and book_gross + open_size <= book_max
        # Rule 3: out of delta balance, nothing sells more of the opposite wing.
        opposite_wing[layer] = (net_delta > band and layers[layer, t.SELLS_CALLS] > 0.0) or (
            net_delta < -band and layers[layer, t.SELLS_PUTS] > 0.0
        )
        choices[OPEN] = choices[OPEN] and (
            fits  # rule 1
            and not opposite_wing[layer]  # rule 3
            and legs.open_estimate[layer] <= headroom  # rule 5
            and not legs.capped_loser[layer]  # rule 6
            and not structure_open  # rule 6: an open layer never adds size
        )
        # Rule 5: a roll needs margin headroom unless it rolls a threatened leg (risk-reducing).
        roll_margin = headroom >= 0.0 or legs.threatened[layer]
        choices[ROLL_CLOSER] = choices[ROLL_CLOSER] and roll_margin
        choices[ROLL_OUT] = choices[ROLL_OUT] and roll_margin
        # Rule 4: a counter-trade needs its trigger and stays within its cap (and rules 1 and 5).
        triggered = direction[layer] * moves[layer] >= layers[layer, t.COUNTER_TRIGGER]
        counter_fits = (
            abs(counter_new) <= layers[layer, t.COUNTER_MAX]
            and layer_gross[layer] + counter_growth <= max_contracts
            and book_gross + counter_growth <= book_max
        )
        counter_estimate = legs.unit_risk[counter_slot] * max(counter_growth, 0.0)
        choices[OPEN_COUNTER] = choices[OPEN_COUNTER] and (
            triggered and counter_fits and counter_estimate <= headroom
        )


@inline_kernel
def balancer_choices(
    tables: BookTables,
    state: State,
    path: int,
    legs: LegScan,
    headroom: float,
    guarded: bool,
    balancer: np.ndarray,
) -> None:
    """Phase 4: the balancer's choices (``balancer``, one row of the legal table): it shifts the
    hedge layer's futures; with the guard on (``guarded``), a shift that grows the hedge keeps it
    and the book within their caps (rule 1) and within the margin ``headroom`` (rule 5)."""
    layers, parameters = tables.layers, tables.parameters
    balancer[HOLD] = True
    hedge_layer = int(parameters[t.HEDGE_LAYER])
    if hedge_layer < 0:
        return
    hedge_slot = int(layers[hedge_layer, t.EXTRA_SLOT])
    balancer[FLATTEN] = legs.layer_gross[hedge_layer] > 0.0
    held = state.quantity[path, hedge_slot]
    book_max = parameters[t.BOOK_MAX_CONTRACTS]
    for choice, step in ((SHIFT_BULL, 1.0), (SHIFT_BEAR, -1.0)):
        balancer[choice] = True
        if not guarded:
            continue
        new = held + step * parameters[t.BALANCER_STEP]
        growth = abs(new) - abs(held)
        fits = (
            abs(new) <= parameters[t.BALANCER_MAX]  # rule 1
            and legs.layer_gross[hedge_layer] + growth <= parameters[t.HEDGE_MAX_CONTRACTS]  # rule 1
            and legs.book_gross + growth <= book_max  # rule 1
            and growth * legs.unit_risk[hedge_slot] <= headroom  # rule 5
        )
        balancer[choice] = fits or growth <= 0.0
