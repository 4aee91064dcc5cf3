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
"""

from __future__ import annotations

import numpy as np

from thetagym.book.actions import BalancerAction, LayerAction
from thetagym.book.compiled import tables as t
from thetagym.book.compiled.buffers import GuardOutputs, Market, State
from thetagym.book.compiled.contracts import DELTA, PRICE, UNDERLYING, day_of_bar, next_expiry_day
from thetagym.book.compiled.jit import kernel
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


@kernel
def legal_choices(
    tables: BookTables, market: Market, state: State, path: int, bar: int, equity: float, guard: GuardOutputs
) -> None:
    """Fill the ``guard`` record of env ``path`` at ``bar`` (its marks must be at ``bar``; ``equity``
    in USD): the legal choices and the inputs of the legal actions."""
    slots, layers, parameters = tables.slots, tables.layers, tables.parameters
    per_bar, expiries, scalars = market.per_bar, market.expiries, market.scalars
    quantity, expiry_bar, entry_price = state.quantity[path], state.expiry_bar[path], state.entry_price[path]
    marks, reference = state.marks[:, path], state.reference[path]
    margin_requirement = state.margin_requirement[path]
    legal, opposite_wing, deep, near_expiry_day, out_expiry_day, direction = guard
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
        if guard_on:
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

    headroom = parameters[t.MARGIN_CAP] * equity - margin_requirement
    book_max = parameters[t.BOOK_MAX_CONTRACTS]
    band = parameters[t.DELTA_BAND_CONTRACTS]
    legal[:, :] = False
    for layer in range(n_layers):
        counter_slot = int(layers[layer, t.COUNTER_SLOT])
        current = layer_underlying(layers, per_bar, layer, path, bar)
        move = current / reference[layer] - 1.0 if reference[layer] > 0.0 else 0.0
        if layers[layer, t.IS_ETP_LAYER]:
            exposure = 1.0 if layers[layer, t.ETP_INVERSE_LAYER] else -1.0
        else:
            exposure = layers[layer, t.BIAS]
        direction[layer] = -exposure if exposure != 0.0 else np.sign(move)
        counter_held = quantity[counter_slot]
        counter_new = counter_held + direction[layer] * layers[layer, t.COUNTER_SIZE]
        counter_growth = abs(counter_new) - abs(counter_held)
        structure_open = structure_gross[layer] > 0.0
        has_legs = layer_gross[layer] > 0.0
        rollable = layers[layer, t.HAS_OPTIONS] > 0.0 and structure_open
        choices = legal[layer]
        choices[HOLD] = True
        choices[ROLL_CLOSER] = rollable
        choices[ROLL_OUT] = rollable and not out_blocked[layer]
        choices[ACCEPT_ASSIGNMENT] = has_deep[layer]
        choices[CLOSE] = has_legs
        choices[OPEN] = not open_blocked[layer]
        choices[OPEN_COUNTER] = has_legs and direction[layer] != 0.0
        choices[CLOSE_COUNTER] = counter_held != 0.0
        opposite_wing[layer] = False
        if not guard_on:
            continue
        max_contracts = layers[layer, t.MAX_CONTRACTS]
        open_size = layers[layer, t.OPEN_SIZE]
        fits = layer_gross[layer] + open_size <= max_contracts and book_gross + open_size <= book_max
        opposite_wing[layer] = (net_delta > band and layers[layer, t.SELLS_CALLS] > 0.0) or (
            net_delta < -band and layers[layer, t.SELLS_PUTS] > 0.0
        )
        choices[OPEN] = choices[OPEN] and (
            fits
            and not opposite_wing[layer]
            and open_estimate[layer] <= headroom
            and not capped_loser[layer]
            and not structure_open
        )
        roll_margin = headroom >= 0.0 or threatened[layer]
        choices[ROLL_CLOSER] = choices[ROLL_CLOSER] and roll_margin
        choices[ROLL_OUT] = choices[ROLL_OUT] and roll_margin
        triggered = direction[layer] * move >= layers[layer, t.COUNTER_TRIGGER]
        counter_fits = (
            abs(counter_new) <= layers[layer, t.COUNTER_MAX]
            and layer_gross[layer] + counter_growth <= max_contracts
            and book_gross + counter_growth <= book_max
        )
        counter_estimate = unit_risk[counter_slot] * max(counter_growth, 0.0)
        choices[OPEN_COUNTER] = choices[OPEN_COUNTER] and (
            triggered and counter_fits and counter_estimate <= headroom
        )

    balancer = legal[n_layers]
    balancer[HOLD] = True
    hedge_layer = int(parameters[t.HEDGE_LAYER])
    if hedge_layer < 0:
        return
    hedge_slot = int(layers[hedge_layer, t.EXTRA_SLOT])
    balancer[FLATTEN] = layer_gross[hedge_layer] > 0.0
    held = quantity[hedge_slot]
    for choice, step in ((SHIFT_BULL, 1.0), (SHIFT_BEAR, -1.0)):
        balancer[choice] = True
        if not guard_on:
            continue
        new = held + step * parameters[t.BALANCER_STEP]
        growth = abs(new) - abs(held)
        fits = (
            abs(new) <= parameters[t.BALANCER_MAX]
            and layer_gross[hedge_layer] + growth <= parameters[t.HEDGE_MAX_CONTRACTS]
            and book_gross + growth <= book_max
            and growth * unit_risk[hedge_slot] <= headroom
        )
        balancer[choice] = fits or growth <= 0.0
