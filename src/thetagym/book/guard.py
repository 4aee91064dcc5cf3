"""The guard: which actions are legal, per env, as boolean masks (DESIGN.md §3).

Physical feasibility applies always (nothing to close, no deep in-the-money option to accept,
no expiry left on the path). With ``guard.enabled`` the six spiral-prevention rules apply too:

1. gross contracts per layer and for the book stay within ``max_contracts`` and
   ``guard.book_max_contracts`` (OPEN, OPEN_COUNTER, balancer steps that grow the hedge);
2. rolls are size-preserving by construction (they restrike the contracts they hold);
3. while ``|net delta| > delta_band * delta_budget``, OPEN is illegal on every layer that would
   sell options of the opposite wing (calls when the book is long delta, puts when short);
4. a counter-trade goes against the layer's bias, needs the underlying to have moved
   ``counter_trigger`` against the layer since it opened, and stays within ``counter_max``;
5. risk-adding actions need ``requirement + estimate <= margin_cap * equity``, where the
   estimate is linear (contracts x multiplier x price x scan range x |target delta|); closes,
   accepted assignments and rolls of threatened legs (beyond the target delta) are exempt;
6. OPEN is illegal in a layer holding a losing leg whose size is at ``leg_cap``; and OPEN on a
   layer that is already open is illegal (with the guard off it adds size: the spiral).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from thetagym.book.actions import N_LAYER_ACTIONS, BalancerAction, LayerAction
from thetagym.book.view import es_equivalent_delta
from thetagym.market.path import MarketPath

if TYPE_CHECKING:
    from thetagym.book.engine import Book


@dataclass(frozen=True)
class Legality:
    """The guard's answer at one bar. ``legal`` is ``(num_envs, n_layers + 1, 8)`` (the last
    part uses its first 4 columns); the rest feeds the actions that were legal."""

    legal: np.ndarray
    opposite_wing: np.ndarray
    deep_short_option: np.ndarray
    near_expiry_day: np.ndarray
    out_expiry_day: np.ndarray
    counter_direction: np.ndarray


def legal_choices(book: Book, market: MarketPath, bars: np.ndarray) -> Legality:
    """Legal choices of every env at bars ``bars`` (the book must be marked there)."""
    config, layout = book.config, book.layout
    rows = np.arange(book.num_envs)
    quantity = book.quantity
    marks = book.marks
    layers = config.layers
    gross = np.abs(quantity)
    index = market.index[rows, bars]

    # Expiries: OPEN, ROLL_CLOSER (no later than the near target) and ROLL_OUT (later).
    day = market.day_of_bar(bars)[:, None]
    option_structure = layout.is_structure & layout.is_option
    open_expiry = book.next_expiry_day(market, rows, layout.schedule, day + layout.open_days)
    current_day = market.day_of_bar(book.expiry_bar)
    near = book.next_expiry_day(market, rows, layout.schedule, day + layout.near_days)
    near_expiry_day = np.where((near >= 0) & (near < current_day), near, current_day)
    out_expiry_day = book.next_expiry_day(
        market, rows, layout.schedule, np.maximum(day + layout.open_days, current_day + 1)
    )
    held_options = option_structure & (quantity != 0)
    short_delta = np.where(held_options & (quantity < 0), np.abs(marks.delta), 0.0)
    deep = short_delta >= config.assignment_min_delta
    deep &= layout.is_es

    # Counter-trades: direction in the counter instrument's units, and the move since opening.
    reference = book.reference
    etp_price = np.where(
        book.etp_inverse_layer,
        market.inverse_vix[rows, bars][:, None],
        market.vxx[rows, bars][:, None],
    )
    current = np.where(book.is_etp_layer, etp_price, index[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        move = np.where(reference > 0, current / reference - 1.0, 0.0)
    etp_sign = np.where(book.etp_inverse_layer, 1.0, -1.0)
    exposure = np.where(book.is_etp_layer, etp_sign, book.layer_bias)
    direction = np.where(exposure != 0, -exposure, np.sign(move))
    counter_held = quantity[:, layout.counter_slot]
    limits = book.layer_limits
    counter_size = limits["counter_size"]
    counter_new = counter_held + direction * counter_size
    counter_growth = np.abs(counter_new) - np.abs(counter_held)

    # Every per-layer sum the rules need, in one product with the layer map.
    by_slot = [
        gross,
        gross * layout.is_structure,
        es_equivalent_delta(config, layout, quantity, marks, index),
        option_structure & (open_expiry < 0),
        held_options & (out_expiry_day < 0),
        (short_delta > np.abs(layout.delta_target)) & held_options,
        deep,
    ]
    guard = config.guard
    if guard.enabled:
        # Rule 5 and 6 inputs: linear margin estimates per contract and losing legs at their cap.
        scan = config.margin.scan_range
        vix_scale = abs(config.vix_beta)
        price = np.where(
            layout.is_es,
            index[:, None],
            np.where(
                layout.is_etp,
                etp_price[:, layout.layer],
                market.vix[rows, bars][:, None],
            ),
        )
        unit_risk = layout.multiplier * price * scan * np.where(layout.is_es, 1.0, vix_scale)
        unit_risk = unit_risk * np.where(layout.is_option, np.abs(layout.delta_target), 1.0)
        losing = (quantity * (marks.price - book.entry_price) < 0) & (
            gross >= limits["leg_cap"][layout.layer]
        )
        by_slot += [unit_risk * layout.standard_size * layout.is_structure, losing]
    sums = layout.per_layer_many(by_slot)
    layer_gross = sums[:, 0]
    book_gross = layer_gross.sum(axis=1)
    structure_open = sums[:, 1] > 0
    has_legs = layer_gross > 0
    net_delta = sums[:, 2].sum(axis=1)
    open_ok = sums[:, 3] == 0
    out_ok = sums[:, 4] == 0
    threatened = sums[:, 5] > 0
    has_deep = sums[:, 6] > 0

    legal = np.zeros((book.num_envs, book.n_layers + 1, N_LAYER_ACTIONS), dtype=bool)
    part = legal[:, : book.n_layers]
    part[..., LayerAction.HOLD] = True
    rollable = book.has_options & structure_open
    part[..., LayerAction.ROLL_CLOSER] = rollable
    part[..., LayerAction.ROLL_OUT] = rollable & out_ok
    part[..., LayerAction.ACCEPT_ASSIGNMENT] = has_deep
    part[..., LayerAction.CLOSE] = has_legs
    part[..., LayerAction.OPEN] = open_ok
    part[..., LayerAction.OPEN_COUNTER] = has_legs & (direction != 0)
    part[..., LayerAction.CLOSE_COUNTER] = counter_held != 0
    balancer = legal[:, book.n_layers]
    balancer[:, BalancerAction.HOLD] = True
    hedge_slot = -1
    hedge_new = np.zeros((book.num_envs, 2))
    if book.hedge_layer >= 0:
        hedge = layers[book.hedge_layer]
        hedge_slot = int(layout.extra_slot[book.hedge_layer])
        held = quantity[:, hedge_slot]
        hedge_new = held[:, None] + np.array([hedge.balancer_step, -hedge.balancer_step])
        balancer[:, BalancerAction.SHIFT_BULL] = True
        balancer[:, BalancerAction.SHIFT_BEAR] = True
        balancer[:, BalancerAction.FLATTEN] = has_legs[:, book.hedge_layer]

    opposite_wing = np.zeros((book.num_envs, book.n_layers), dtype=bool)
    if guard.enabled:
        max_contracts = limits["max_contracts"]
        open_size = limits["open_size"]
        counter_max = limits["counter_max"]
        equity = book.equity()
        headroom = guard.margin_cap * equity - book.margin_requirement
        open_estimate = sums[:, 7]
        capped_loser = sums[:, 8] > 0
        counter_estimate = unit_risk[:, layout.counter_slot] * np.maximum(counter_growth, 0.0)

        # OPEN: rules 1, 3, 5, 6 and "not already open".
        fits = (layer_gross + open_size <= max_contracts) & (
            book_gross[:, None] + open_size <= guard.book_max_contracts
        )
        band = guard.delta_band * guard.delta_budget
        opposite_wing = ((net_delta > band)[:, None] & book.sells_calls) | (
            (net_delta < -band)[:, None] & book.sells_puts
        )
        part[..., LayerAction.OPEN] &= (
            fits & ~opposite_wing & (open_estimate <= headroom[:, None]) & ~capped_loser & ~structure_open
        )
        # Rolls: rule 5 unless they roll a threatened leg.
        roll_margin = (headroom[:, None] >= 0) | threatened
        part[..., LayerAction.ROLL_CLOSER] &= roll_margin
        part[..., LayerAction.ROLL_OUT] &= roll_margin
        # Counter-trades: rules 1, 4 and 5.
        triggered = direction * move >= limits["counter_trigger"]
        counter_fits = (
            (np.abs(counter_new) <= counter_max)
            & (layer_gross + counter_growth <= max_contracts)
            & (book_gross[:, None] + counter_growth <= guard.book_max_contracts)
        )
        part[..., LayerAction.OPEN_COUNTER] &= (
            triggered & counter_fits & (counter_estimate <= headroom[:, None])
        )
        # Balancer: rules 1 and 5 for steps that grow the hedge.
        if hedge_slot >= 0:
            hedge = layers[book.hedge_layer]
            held = quantity[:, hedge_slot]
            growth = np.abs(hedge_new) - np.abs(held)[:, None]
            fits_hedge = (
                (np.abs(hedge_new) <= hedge.balancer_max)
                & (layer_gross[:, [book.hedge_layer]] + growth <= hedge.max_contracts)
                & (book_gross[:, None] + growth <= guard.book_max_contracts)
                & (growth * unit_risk[:, [hedge_slot]] <= headroom[:, None])
            )
            balancer[:, BalancerAction.SHIFT_BULL] &= fits_hedge[:, 0] | (growth[:, 0] <= 0)
            balancer[:, BalancerAction.SHIFT_BEAR] &= fits_hedge[:, 1] | (growth[:, 1] <= 0)
    return Legality(
        legal=legal,
        opposite_wing=opposite_wing,
        deep_short_option=deep,
        near_expiry_day=near_expiry_day,
        out_expiry_day=out_expiry_day,
        counter_direction=direction,
    )
