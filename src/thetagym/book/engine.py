"""The book: leg arrays over ``(num_envs, max_legs)``, cash, trading, settlement and margin.

Accounting: every leg is held at its price, futures at notional (buying one ES future pays its
price times $50 in cash), so ``equity = cash + sum(quantity * multiplier * mid)`` holds for every
instrument. Trades pay the bid or ask (:mod:`thetagym.pricing.spreads`) plus fees; the distance
from mid plus fees is the step's ``costs``. See :meth:`Book.step` for the order of events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.book.actions import N_BALANCER_ACTIONS, N_LAYER_ACTIONS, BalancerAction, LayerAction, Orders
from thetagym.book.attribution import ATTRIBUTION, attribute
from thetagym.book.config import BookConfig
from thetagym.book.guard import Legality, legal_choices
from thetagym.book.margin import Margin
from thetagym.book.positions import SCHEDULES, Legs, SlotLayout
from thetagym.book.valuation import Marks, Valuation, years_between
from thetagym.book.view import BookView, build_view, static_legs
from thetagym.market.path import MarketPath
from thetagym.pricing.instruments import InstrumentKind

NEVER_EXPIRES = 2**40
"""Expiry bar of legs that never expire (ETP shares)."""
_FALLBACK_QUARTER_DAYS = 63
_IS_ROLL = np.isin(np.arange(N_LAYER_ACTIONS), (LayerAction.ROLL_CLOSER, LayerAction.ROLL_OUT))
"""True for the layer actions that roll, indexed by action code."""


@dataclass(frozen=True)
class StepResult:
    """What one step did, arrays over ``num_envs`` (and layers). USD unless stated.

    ``attribution`` is ``(num_envs, n_layers, 7)`` with columns :data:`ATTRIBUTION`; summed over
    layers and columns it equals ``pnl``. ``executed`` holds the actions actually done (illegal
    choices replaced by HOLD, counted in ``blocked``; ``adds_blocked`` counts blocked OPENs of the
    opposite wing while the book was out of delta balance).
    """

    equity: np.ndarray
    cash: np.ndarray
    pnl: np.ndarray
    theta_accrued: np.ndarray
    attribution: np.ndarray
    blocked: np.ndarray
    executed: np.ndarray
    margin_requirement: np.ndarray
    margin_call: np.ndarray
    gross_contracts: np.ndarray
    layer_contracts: np.ndarray
    rolls: np.ndarray
    assignments: np.ndarray
    counter_trades: np.ndarray
    adds_blocked: np.ndarray


class Book:
    """A batch of ``num_envs`` independent books sharing one :class:`BookConfig`.

    Market path row ``i`` belongs to env ``i``. ``action_nvec`` is ``[8] * n_layers + [4]``.
    """

    def __init__(self, config: BookConfig, num_envs: int) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.config = config
        self.num_envs = num_envs
        self.layout = SlotLayout.from_config(config)
        self.valuation = Valuation(config, self.layout)
        self.margin = Margin(config, self.layout)
        layers = config.layers
        self.n_layers = len(layers)
        self.action_nvec = np.array([N_LAYER_ACTIONS] * self.n_layers + [N_BALANCER_ACTIONS], dtype=np.int64)
        kinds = [layer.kind for layer in layers]
        self.hedge_layer = kinds.index("hedge") if "hedge" in kinds else -1
        self.layer_bias = np.array([layer.bias for layer in layers], dtype=float)
        self.is_etp_layer = np.array([kind == "vix_etp" for kind in kinds])
        self.has_es_options = np.array([kind in ("call_wing", "put_wing", "condor") for kind in kinds])
        self.has_options = self.has_es_options | (np.array(kinds) == "hedge")
        self.sells_calls = np.array([kind in ("call_wing", "condor") for kind in kinds])
        self.sells_puts = np.array([kind in ("put_wing", "condor") for kind in kinds])
        self.open_at_reset = np.array([layer.open_at_reset for layer in layers])
        self.etp_inverse_layer = np.array([layer.etp == "inverse_vix" for layer in layers])
        self.layer_limits = {
            name: np.array([getattr(layer, name) for layer in layers], dtype=float)
            for name in ("max_contracts", "open_size", "counter_size", "counter_max", "counter_trigger")
        }
        self.layer_limits["leg_cap"] = np.array(
            [layer.leg_cap or layer.contracts for layer in layers], dtype=float
        )
        slots = self.layout.n_slots
        self.legs = Legs.empty(num_envs, config.max_legs)
        self.cash = np.full(num_envs, config.capital)
        self.reference = np.zeros((num_envs, self.n_layers))
        self.margin_requirement = np.zeros(num_envs)
        self.marks = Marks(*(np.zeros((num_envs, slots)) for _ in range(8)))
        self.mark_bar = np.full(num_envs, -1, dtype=np.int64)
        self.mark_index = np.ones(num_envs)
        self._rows = np.arange(num_envs)
        self._legality: tuple[np.ndarray, Legality] | None = None
        self._static_legs = static_legs(self.layout, self.legs.quantity.shape)
        self._expiry_stack = np.zeros((0, len(SCHEDULES), 0), dtype=np.int64)
        self._expiry_market: MarketPath | None = None

    # ----------------------------------------------------------------------------- state access
    @property
    def quantity(self) -> np.ndarray:
        """Signed contracts of the layout's slots, ``(num_envs, n_slots)`` (a writable view)."""
        return self.legs.quantity[:, : self.layout.n_slots]

    @property
    def strike(self) -> np.ndarray:
        return self.legs.strike[:, : self.layout.n_slots]

    @property
    def expiry_bar(self) -> np.ndarray:
        return self.legs.expiry_bar[:, : self.layout.n_slots]

    @property
    def underlying_bar(self) -> np.ndarray:
        return self.legs.underlying_bar[:, : self.layout.n_slots]

    @property
    def entry_price(self) -> np.ndarray:
        return self.legs.entry_price[:, : self.layout.n_slots]

    def equity(self) -> np.ndarray:
        """Cash plus mark-to-market at mid, USD, ``(num_envs,)``."""
        return np.asarray(self.cash + self.market_value(self.quantity, self.marks.price))

    def market_value(self, quantity: np.ndarray, price: np.ndarray) -> np.ndarray:
        return np.asarray((quantity * price) @ self.layout.multiplier)

    def view(self) -> BookView:
        """Read-only aggregates at the last marked bar."""
        bars = self.mark_bar
        legs = {
            name: getattr(self.legs, name) for name in ("strike", "expiry_bar", "quantity", "entry_price")
        }
        return build_view(
            self.config,
            self.layout,
            legs,
            self.marks,
            self.mark_index,
            self._bars_per_day,
            bars,
            self.cash.copy(),
            self.equity(),
            self.margin_requirement.copy(),
            self._static_legs,
        )

    _bars_per_day = 1

    # ---------------------------------------------------------------------------------- reset
    def reset(self, rows: np.ndarray, market: MarketPath, bars: np.ndarray) -> None:
        """Clear envs ``rows`` and open each ``open_at_reset`` layer's structure at bars ``bars``
        at mid (no costs); cash starts at ``capital``."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        bars = np.broadcast_to(np.asarray(bars, dtype=np.int64), rows.shape).copy()
        self._bars_per_day = market.bars_per_day
        if self._expiry_market is market:
            self._expiry_stack[rows] = np.stack(
                [market.next_expiry[name][rows] for name in SCHEDULES], axis=1
            )
        self.legs.clear(rows)
        self.cash[rows] = self.config.capital
        self.reference[rows] = 0.0
        self.marks.put(rows, self._mark(market, rows, bars))
        self.mark_bar[rows] = bars
        opening = self.open_at_reset[None, :] & np.ones((rows.size, 1), dtype=bool)
        orders = self._open_orders(market, rows, bars, opening)
        self._set_reference(market, rows, bars, opening)
        self._execute(market, rows, bars, orders, self.marks.take(rows), charge=False)
        self.margin_requirement[rows] = self._requirement(market, rows)
        self._legality = None

    # ------------------------------------------------------------------------------------ masks
    def action_masks(self, market: MarketPath, bars: np.ndarray) -> np.ndarray:
        """Legal actions, ``(num_envs, sum(action_nvec))`` bool, parts concatenated (MaskablePPO)."""
        legal, _ = self._legal(market, np.asarray(bars, dtype=np.int64))
        layer_part = legal[:, : self.n_layers, :].reshape(self.num_envs, -1)
        balancer_part = legal[:, self.n_layers, :N_BALANCER_ACTIONS]
        return np.concatenate((layer_part, balancer_part), axis=1)

    def _legal(self, market: MarketPath, bars: np.ndarray) -> tuple[np.ndarray, Legality]:
        self._ensure_marked(market, bars)
        if self._legality is not None and np.array_equal(self._legality[0], bars):
            return self._legality[1].legal, self._legality[1]
        legality = legal_choices(self, market, bars)
        self._legality = (bars.copy(), legality)
        return legality.legal, legality

    def _ensure_marked(self, market: MarketPath, bars: np.ndarray) -> None:
        self._bars_per_day = market.bars_per_day
        stale = self.mark_bar != bars
        if stale.any():
            rows = self._rows[stale]
            self.marks.put(rows, self._mark(market, rows, bars[stale]))
            self.mark_bar[rows] = bars[stale]
            self.margin_requirement[rows] = self._requirement(market, rows)
            self._legality = None

    # ------------------------------------------------------------------------------------- step
    def step(self, actions: np.ndarray, market: MarketPath, bars: np.ndarray) -> StepResult:
        """Apply ``actions`` (``(num_envs, n_layers + 1)`` ints) and advance one bar.

        Order of events: the guard replaces illegal choices by HOLD; accepted assignments convert
        deep in-the-money short options into futures; the other actions trade at bar ``bars``
        (bid/ask plus fees); the book is marked at ``bars + 1`` (one Greeks call) and the step is
        attributed; legs expiring at that bar settle (in-the-money ES options into the future,
        the rest at their mark); ES futures near expiry roll to the next quarter at bid/ask; SPAN
        margin is computed, and equity below it liquidates the env at bid/ask (``margin_call``).
        """
        rows = self._rows
        bars = np.asarray(bars, dtype=np.int64).reshape(-1)
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs, self.n_layers + 1)
        executed, blocked, adds_blocked, legality = self._choose(market, bars, actions)
        marks = self.marks
        equity_before = self.equity()
        layer_choice = executed[:, : self.n_layers]
        balancer_choice = executed[:, self.n_layers]

        assignments = np.zeros(self.num_envs, dtype=np.int64)
        accept = layer_choice == LayerAction.ACCEPT_ASSIGNMENT
        if accept.any():
            assert legality is not None
            deep = legality.deep_short_option & accept[:, self.layout.layer]
            assignments += deep.sum(axis=1)
            self._assign(market, rows, bars, deep, marks)
        costs = np.zeros((self.num_envs, self.n_layers))
        start = marks
        if legality is not None and executed.any():
            orders = self._action_orders(market, bars, layer_choice, balancer_choice, legality)
            layer_costs, start = self._execute(market, rows, bars, orders, marks, charge=True)
            costs += layer_costs
        rolls = _IS_ROLL[layer_choice].sum(axis=1)
        counter_trades = (layer_choice == LayerAction.OPEN_COUNTER).sum(axis=1)

        next_bars = bars + 1
        held = self.quantity.copy()
        end = self._mark(market, rows, next_bars)
        self.marks = end
        self.mark_bar = next_bars.copy()
        assignments += self._settle(market, rows, next_bars)
        costs += self._roll_futures(market, rows, next_bars)
        requirement = self._requirement(market, rows)
        equity = self.equity()
        margin_call = equity < requirement
        if margin_call.any():
            called = rows[margin_call]
            orders = Orders.hold(self.quantity[called])
            orders.target[:] = 0.0
            liquidation, _ = self._execute(
                market, called, next_bars[called], orders, self.marks.take(called), True
            )
            costs[called] += liquidation
            requirement[called] = 0.0
            equity = self.equity()
        self.margin_requirement = requirement
        self._legality = None
        pnl = equity - equity_before
        bar_years = 1.0 / market.bars_per_year
        attribution = attribute(self.layout, held, start, end, bar_years, costs, np.zeros_like(costs), pnl)
        gross = np.abs(self.quantity)
        layer_contracts = self.layout.per_layer(gross)
        return StepResult(
            equity=equity,
            cash=self.cash.copy(),
            pnl=pnl,
            theta_accrued=attribution[:, :, 0].sum(axis=1),
            attribution=attribution,
            blocked=blocked,
            executed=executed,
            margin_requirement=requirement.copy(),
            margin_call=margin_call,
            gross_contracts=layer_contracts.sum(axis=1),
            layer_contracts=layer_contracts,
            rolls=rolls,
            assignments=assignments,
            counter_trades=counter_trades,
            adds_blocked=adds_blocked,
        )

    def _choose(
        self, market: MarketPath, bars: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Legality | None]:
        """(executed actions, blocked choices, blocked OPENs of the opposite wing, the guard's
        answer) of one step; marks the book at ``bars`` first. When every action is HOLD (always
        legal) the guard is not asked and its answer is None."""
        if not actions.any():
            self._ensure_marked(market, bars)
            none = np.zeros(self.num_envs, dtype=np.int64)
            return actions.copy(), none, none.copy(), None
        legal, legality = self._legal(market, bars)
        chosen_legal = np.take_along_axis(legal, actions[:, :, None], axis=2)[:, :, 0]
        executed = np.where(chosen_legal, actions, 0)
        blocked = (~chosen_legal).sum(axis=1)
        opens = actions[:, : self.n_layers] == LayerAction.OPEN
        adds_blocked = (opens & legality.opposite_wing & ~chosen_legal[:, : self.n_layers]).sum(axis=1)
        return executed, blocked, adds_blocked, legality

    # ------------------------------------------------------------------------------ primitives
    def _mark(self, market: MarketPath, rows: np.ndarray, bars: np.ndarray) -> Marks:
        self.mark_index[rows] = market.index[rows, bars]
        return self.valuation.mark(
            market, rows, bars, self.strike[rows], self.expiry_bar[rows], self.underlying_bar[rows]
        )

    def _requirement(self, market: MarketPath, rows: np.ndarray) -> np.ndarray:
        marks = self.marks if rows.size == self.num_envs else self.marks.take(rows)
        return self.margin.requirement(marks, self.quantity[rows], self.strike[rows], market.rate)

    def _front_future(self, market: MarketPath, rows: np.ndarray, bars: np.ndarray) -> np.ndarray:
        """Expiry bar of the front ES future: the first quarterly expiry more than
        ``futures_roll_days`` trading days away (beyond the path: a quarter from now)."""
        day = market.day_of_bar(bars)
        ahead = np.minimum(day + self.config.futures_roll_days + 1, market.n_days - 1)
        expiry = market.next_expiry["quarterly"][rows, ahead]
        valid = (expiry >= 0) & (expiry >= day + self.config.futures_roll_days + 1)
        return np.asarray(
            np.where(valid, market.close_bar(expiry), market.close_bar(day + _FALLBACK_QUARTER_DAYS))
        )

    def next_expiry_day(
        self, market: MarketPath, rows: np.ndarray, schedule: np.ndarray, from_day: np.ndarray
    ) -> np.ndarray:
        """First expiry day of each slot's ``schedule`` on or after ``from_day`` (``(n, n_slots)``),
        or -1 when the path ends first."""
        inside = from_day < market.n_days
        day = np.minimum(from_day, market.n_days - 1)
        result = self._expiry_table(market)[rows[:, None], schedule, day]
        return np.where(inside, result, -1)

    def _expiry_table(self, market: MarketPath) -> np.ndarray:
        """``market.next_expiry`` stacked by schedule code, ``(n_paths, 3, n_days)``, so a look-up
        over slots of mixed schedules is one gather. Kept per market object; :meth:`reset` copies
        the rows of the paths it starts on (paths change only there)."""
        table = self._expiry_stack
        if self._expiry_market is not market or table.shape != (
            market.n_paths,
            len(SCHEDULES),
            market.n_days,
        ):
            table = np.stack([market.next_expiry[name] for name in SCHEDULES], axis=1)
            self._expiry_stack, self._expiry_market = table, market
        return table

    def _contracts(
        self, market: MarketPath, rows: np.ndarray, bars: np.ndarray, expiry_day: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(strike, expiry bar, underlying bar, underlying price or None) of the standard contract
        of every slot expiring on ``expiry_day`` (options); futures take the front quarter, ETP
        shares never expire. The underlying price is computed only for books with options."""
        layout = self.layout
        option_expiry = market.close_bar(np.maximum(expiry_day, 0))
        quarter_day = market.next_expiry["quarterly"][
            rows[:, None], np.clip(expiry_day, 0, market.n_days - 1)
        ]
        quarter_bar = np.where(
            quarter_day >= 0,
            market.close_bar(quarter_day),
            option_expiry + _FALLBACK_QUARTER_DAYS * market.bars_per_day,
        )
        front = self._front_future(market, rows, bars)[:, None]
        expiry_bar = np.where(layout.is_option, option_expiry, np.where(layout.is_etp, NEVER_EXPIRES, front))
        underlying_bar = np.where(layout.is_option & layout.is_es, quarter_bar, expiry_bar)
        if layout.is_option.any():
            forward = self.valuation.underlying(market, rows, bars, expiry_bar, underlying_bar)
            tau = years_between(market, bars, expiry_bar)
            strike = self.valuation.strike_for_delta(market, rows, bars, forward, tau)
        else:
            strike, forward = np.zeros(expiry_bar.shape), None
        return strike, expiry_bar, underlying_bar, forward

    def _execute(
        self,
        market: MarketPath,
        rows: np.ndarray,
        bars: np.ndarray,
        orders: Orders,
        marks: Marks,
        charge: bool,
    ) -> tuple[np.ndarray, Marks]:
        """Trade envs ``rows`` to ``orders`` at ``marks`` (bars ``bars``) paying bid/ask and fees
        if ``charge``. Returns the costs per layer (USD, <= 0) and the marks of the held contracts."""
        layout = self.layout
        quantity = self.quantity[rows]
        strike = self.strike[rows]
        restrike = orders.restrike & (orders.target != 0)
        old_trade = np.where(restrike, -quantity, orders.target - quantity)
        new_trade = np.where(restrike, orders.target, 0.0)
        cash_flow = (old_trade * marks.price) @ layout.multiplier
        cost = np.zeros(quantity.shape)
        if charge:
            cost += np.abs(old_trade) * (
                self.valuation.trade_cost(marks, strike, old_trade) * layout.multiplier + layout.fee
            )
        held = marks
        new_price = marks.price
        restriking = np.flatnonzero(restrike.any(axis=1))
        if restriking.size:
            # New contracts are priced only in the envs that restrike (every step is row-wise).
            sub, sub_rows, sub_bars = restrike[restriking], rows[restriking], bars[restriking]
            new_strike, new_expiry, new_underlying, forward = self._contracts(
                market, sub_rows, sub_bars, orders.expiry_day[restriking]
            )
            fresh = self.valuation.mark(
                market, sub_rows, sub_bars, new_strike, new_expiry, new_underlying, forward
            )
            sub_trade = new_trade[restriking]
            cash_flow[restriking] += (sub_trade * fresh.price) @ layout.multiplier
            if charge:
                cost[restriking] += np.abs(sub_trade) * (
                    self.valuation.trade_cost(fresh, new_strike, sub_trade) * layout.multiplier + layout.fee
                )
            targets = rows[restriking]
            self.strike[targets] = np.where(sub, new_strike, strike[restriking])
            self.expiry_bar[targets] = np.where(sub, new_expiry, self.expiry_bar[targets])
            self.underlying_bar[targets] = np.where(sub, new_underlying, self.underlying_bar[targets])
            held = marks.copy()
            held.put(restriking, marks.take(restriking).where(sub, fresh))
            new_price = held.price
        self.entry_price[rows] = _average_entry(
            quantity, self.entry_price[rows], orders.target, new_price, restrike
        )
        self.quantity[rows] = orders.target
        self.cash[rows] -= cash_flow + cost.sum(axis=1)
        if rows.size == self.num_envs:
            self.marks = held
        else:
            self.marks.put(rows, held)
        return -layout.per_layer(cost), held

    def _assign(
        self, market: MarketPath, rows: np.ndarray, bars: np.ndarray, mask: np.ndarray, marks: Marks
    ) -> None:
        """Convert masked ES option legs into the front ES future in their layer's assigned slot.

        Equity-neutral: the option leaves at its mark and the future enters at its mid; at expiry
        the mark is the intrinsic value, so this is assignment at the strike. The future's entry
        price is the strike carried to the front contract (``K + F_front - F_option``).
        """
        layout = self.layout
        quantity = self.quantity[rows]
        futures = np.where(mask, quantity * np.where(layout.is_call, 1.0, -1.0), 0.0)
        front_bar = self._front_future(market, rows, bars)
        front = market.es_future(rows, bars, market.time_to_bar(bars, front_bar)[:, None])[:, 0]
        option_value = (np.where(mask, quantity, 0.0) * marks.price) @ layout.multiplier
        layers = np.flatnonzero(self.has_es_options)
        slots = layout.extra_slot[layers]
        received = layout.per_layer(futures)[:, layers]
        basis = layout.per_layer(futures * (self.strike[rows] - marks.underlying))[:, layers]
        held = quantity[:, slots]
        held_price = marks.price[:, slots]
        # Switch any futures already in the slot to the front contract at mid (equity-neutral).
        switch = (held != 0) & (self.expiry_bar[rows][:, slots] != front_bar[:, None])
        switched_entry = self.entry_price[rows][:, slots] + np.where(switch, front[:, None] - held_price, 0.0)
        multiplier = layout.multiplier[slots]
        cash = option_value - ((received * front[:, None]) * multiplier).sum(axis=1)
        cash += ((np.where(switch, held, 0.0) * (held_price - front[:, None])) * multiplier).sum(axis=1)
        total = held + received
        with np.errstate(divide="ignore", invalid="ignore"):
            received_entry = np.where(received != 0, front[:, None] + basis / received, 0.0)
            merged = np.where(total != 0, (held * switched_entry + received * received_entry) / total, 0.0)
        entry = np.where(
            held * received >= 0,
            merged,
            np.where(np.abs(held) > np.abs(received), switched_entry, received_entry),
        )
        self.cash[rows] += cash
        new_quantity = np.where(mask, 0.0, quantity)
        new_quantity[:, slots] = total
        expiry = self.expiry_bar[rows]
        expiry[:, slots] = np.where(total != 0, front_bar[:, None], expiry[:, slots])
        entries = self.entry_price[rows]
        entries[:, slots] = np.where(total != 0, entry, 0.0)
        self.quantity[rows] = new_quantity
        self.expiry_bar[rows] = expiry
        self.underlying_bar[rows] = np.where(
            np.isin(np.arange(layout.n_slots), slots), expiry, self.underlying_bar[rows]
        )
        self.entry_price[rows] = entries
        moved = np.zeros(new_quantity.shape, dtype=bool)
        moved[:, slots] = True
        future_marks = self.valuation.mark(
            market, rows, bars, self.strike[rows], self.expiry_bar[rows], self.underlying_bar[rows]
        )
        if rows.size == self.num_envs:
            self.marks = marks.where(moved, future_marks)
        else:
            self.marks.put(rows, marks.where(moved, future_marks))

    def _settle(self, market: MarketPath, rows: np.ndarray, bars: np.ndarray) -> np.ndarray:
        """Settle legs expiring at ``bars``; returns the number of legs assigned per env."""
        layout = self.layout
        expiring = (self.expiry_bar <= bars[:, None]) & (self.quantity != 0)
        if not expiring.any():
            return np.zeros(self.num_envs, dtype=np.int64)
        marks = self.marks
        in_the_money = np.where(
            layout.is_call, marks.underlying > self.strike, marks.underlying < self.strike
        )
        assigned = expiring & layout.is_option & layout.is_es & in_the_money
        cash_settled = expiring & ~assigned
        self.cash += (np.where(cash_settled, self.quantity, 0.0) * marks.price) @ layout.multiplier
        self.quantity[cash_settled] = 0.0
        self.entry_price[cash_settled] = 0.0
        if assigned.any():
            self._assign(market, rows, bars, assigned, self.marks)
        return np.asarray(assigned.sum(axis=1))

    def _roll_futures(self, market: MarketPath, rows: np.ndarray, bars: np.ndarray) -> np.ndarray:
        """Roll ES futures within ``futures_roll_days`` of expiry into the next quarter, same size."""
        layout = self.layout
        window = self.config.futures_roll_days * market.bars_per_day
        is_future = layout.kind == InstrumentKind.ES_FUTURE
        due = is_future & (self.quantity != 0) & (self.expiry_bar - bars[:, None] <= window)
        if not due.any():
            return np.zeros((self.num_envs, self.n_layers))
        envs = rows[due.any(axis=1)]
        orders = Orders.hold(self.quantity[envs])
        orders.restrike = due[envs]
        costs = np.zeros((self.num_envs, self.n_layers))
        costs[envs], _ = self._execute(market, envs, bars[envs], orders, self.marks.take(envs), charge=True)
        return costs

    # ---------------------------------------------------------------------------- action orders
    def _set_reference(
        self, market: MarketPath, rows: np.ndarray, bars: np.ndarray, opened: np.ndarray
    ) -> None:
        """Remember the underlying (index, or the layer's ETP) when layers open."""
        index = market.index[rows, bars][:, None]
        etp_price = np.where(
            self.etp_inverse_layer,
            market.inverse_vix[rows, bars][:, None],
            market.vxx[rows, bars][:, None],
        )
        price = np.where(self.is_etp_layer, etp_price, index)
        self.reference[rows] = np.where(opened, price, self.reference[rows])

    def _open_orders(
        self, market: MarketPath, rows: np.ndarray, bars: np.ndarray, opening: np.ndarray
    ) -> Orders:
        """OPEN on the ``(n, n_layers)`` mask: a closed structure restrikes at the standard
        contract; an open one (guard off) adds its standard size to the contracts it holds."""
        layout = self.layout
        quantity = self.quantity[rows]
        orders = Orders.hold(quantity)
        slot_open = opening[:, layout.layer] & layout.is_structure
        layer_is_open = layout.per_layer(np.abs(quantity) * layout.is_structure) > 0
        fresh = slot_open & ~layer_is_open[:, layout.layer]
        orders.target = np.where(slot_open, quantity + layout.sign * layout.standard_size, quantity)
        orders.restrike = fresh
        day = market.day_of_bar(bars)[:, None]
        orders.expiry_day = self.next_expiry_day(market, rows, layout.schedule, day + layout.open_days)
        return orders

    def _action_orders(
        self,
        market: MarketPath,
        bars: np.ndarray,
        layer_choice: np.ndarray,
        balancer_choice: np.ndarray,
        legality: Legality,
    ) -> Orders:
        layout = self.layout
        rows = self._rows
        quantity = self.quantity
        by_slot = layer_choice[:, layout.layer]
        structure = layout.is_structure
        opening = layer_choice == LayerAction.OPEN
        orders = self._open_orders(market, rows, bars, opening) if opening.any() else Orders.hold(quantity)
        if opening.any():
            self._set_reference(market, rows, bars, opening)
        target, restrike, expiry_day = orders.target, orders.restrike, orders.expiry_day
        rolling = structure & (quantity != 0)
        closer = rolling & (by_slot == LayerAction.ROLL_CLOSER)
        out = rolling & (by_slot == LayerAction.ROLL_OUT)
        if closer.any() or out.any():
            restrike |= closer | out
            expiry_day[:] = np.where(closer, legality.near_expiry_day, expiry_day)
            expiry_day[:] = np.where(out, legality.out_expiry_day, expiry_day)
        target[:] = np.where(by_slot == LayerAction.CLOSE, 0.0, target)
        counter = layout.counter_slot
        target[:, counter] = np.where(layer_choice == LayerAction.CLOSE_COUNTER, 0.0, target[:, counter])
        adding = layer_choice == LayerAction.OPEN_COUNTER
        sizes = self.layer_limits["counter_size"]
        target[:, counter] += np.where(adding, legality.counter_direction * sizes, 0.0)
        restrike[:, counter] |= adding & (quantity[:, counter] == 0)
        if self.hedge_layer >= 0:
            hedge = self.config.layers[self.hedge_layer]
            slot = layout.extra_slot[self.hedge_layer]
            step = np.select(
                (balancer_choice == BalancerAction.SHIFT_BULL, balancer_choice == BalancerAction.SHIFT_BEAR),
                (hedge.balancer_step, -hedge.balancer_step),
                0.0,
            )
            target[:, slot] += step
            restrike[:, slot] |= (step != 0) & (quantity[:, slot] == 0)
            flatten = (balancer_choice == BalancerAction.FLATTEN)[:, None] & (
                layout.layer == self.hedge_layer
            )
            target[:] = np.where(flatten, 0.0, target)
        return orders


def _average_entry(
    quantity: np.ndarray, entry: np.ndarray, target: np.ndarray, price: np.ndarray, restrike: np.ndarray
) -> np.ndarray:
    """Average cost after trading ``quantity`` to ``target`` at ``price`` (a new contract when
    ``restrike``): adding keeps a quantity-weighted average, reducing keeps the entry, flipping or
    opening starts at ``price``."""
    grows = (quantity * (target - quantity) > 0) & (np.abs(target) > np.abs(quantity))
    with np.errstate(divide="ignore", invalid="ignore"):
        averaged = np.where(grows, (quantity * entry + (target - quantity) * price) / target, entry)
    starts = restrike | (quantity == 0) | (quantity * target < 0)
    return np.asarray(np.where(target == 0, 0.0, np.where(starts, price, averaged)))


__all__ = ["ATTRIBUTION", "Book", "StepResult"]
