"""Today's book in, guard-checked actions and a risk report out.

:meth:`Advisor.advise` places the broker's positions in the book's slots
(:mod:`~thetagym.advise.placement`), turns the snapshot into a flat market path
(:mod:`~thetagym.advise.snapshot`) and loads both into a :class:`thetagym.book.Book`: the
book's own code marks every leg, computes the Greeks, the SPAN-style margin and the guard's masks.
The agent sees the observation the env would build of that state and acts twice in one batch: once
under the guard (what it would do: the advice) and once with only the physically impossible
ruled out (what it wants), whose refusal is explained rule by rule
(:mod:`~thetagym.advise.verdicts`). The advised action is then stepped on a copy of the book, one
bar later on an unchanged market: the book after the action.

Rows of the main book: 0 today (the advice), 1 today again (the agent's wish), then one per
historical shock and one per index move of the margin-call search.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thetagym.advise.inputs import BrokerAdapter, MarketSnapshot, Position
from thetagym.advise.placement import Placement, place_positions
from thetagym.advise.quotes import calibrate_surface
from thetagym.advise.snapshot import (
    SnapshotState,
    bar_years,
    check_trading_day,
    market_path,
    missing_price_error,
    shocked,
    snapshot_bar,
    snapshot_state,
)
from thetagym.advise.stress import (
    HISTORICAL_SHOCKS,
    INDEX_GRID,
    ScenarioLoss,
    margin_call_distance,
    margin_scenarios,
)
from thetagym.advise.verdicts import Verdicts, guard_off, relaxed, verdicts
from thetagym.book import BalancerAction, Book, BookConfig, BookView, LayerAction
from thetagym.book.attribution import COSTS
from thetagym.book.engine import NEVER_EXPIRES
from thetagym.book.margin import scenario_table
from thetagym.env.config import EnvConfig
from thetagym.env.observation import ObservationBuilder, market_features, observation_names
from thetagym.market.calendar import ExpiryCalendar, trading_days
from thetagym.market.path import MarketPath
from thetagym.policies import Policy, PolicyContext
from thetagym.policies.rules.memory import LayerMemory
from thetagym.pricing.instruments import MULTIPLIER, InstrumentKind

ES_MULTIPLIER = float(MULTIPLIER[InstrumentKind.ES_FUTURE])
ONE_PERCENT = 0.01
QUARTER_DAYS = 63
"""Trading days of a quarter: room past the last expiry for the ES future it exercises into."""
TODAY, WISH, FIRST_SHOCK = 0, 1, 2
LAYER_ACTION_NAMES = tuple(action.name.lower() for action in LayerAction)
BALANCER_ACTION_NAMES = tuple(action.name.lower() for action in BalancerAction)
BALANCER = "balancer"


@dataclass(frozen=True)
class LegRow:
    """One position as the book holds it: ``quantity`` in the file's units (ETPs: shares),
    ``mark`` the book's mid (points; ETPs USD per share), ``delta`` per contract (decimal) and the
    unrealised P&L (USD) against the average price."""

    layer: str
    role: str
    instrument: str
    expiry: str
    strike: float
    quantity: float
    average_price: float
    mark: float
    delta: float
    unrealised_pnl: float
    line: int


@dataclass(frozen=True)
class LayerRisk:
    """Greeks and size of a layer (or the book: ``name`` "total").

    ``delta`` ES-equivalent contracts; ``delta_usd`` USD per 1% index rise; ``gamma_usd`` USD of a
    1% move from gamma alone; ``vega_usd`` USD per vol point; ``theta_usd`` USD per trading day;
    ``contracts`` and ``counter_contracts`` gross (ETPs in lots); ``unrealised_pnl`` USD.
    """

    name: str
    kind: str
    contracts: float
    counter_contracts: float
    max_contracts: float
    delta: float
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    theta_usd: float
    unrealised_pnl: float


@dataclass(frozen=True)
class PartAdvice:
    """The agent's choice for one layer (or the balancer): what it ``wants`` with only the
    impossible ruled out, the guard's ``verdict`` on that ("allowed" or why not) and the rules that
    block it, the ``advised`` choice under the guard, every legal choice and every refused one."""

    part: str
    wants: str
    verdict: str
    blocking_rules: tuple[int, ...]
    advised: str
    legal: tuple[str, ...]
    refused: dict[str, str]
    """Every choice that is possible but refused, with the reason."""


@dataclass(frozen=True)
class BookState:
    """A book's money and risk: equity, cash, margin requirement (USD) and use (over equity)."""

    equity: float
    cash: float
    margin_requirement: float
    margin_use: float
    layers: tuple[LayerRisk, ...]
    legs: tuple[LegRow, ...]


@dataclass(frozen=True)
class Advice:
    """Everything ``thetagym advise`` reports; :meth:`as_dict` is its JSON form."""

    agent: str
    book_config: str
    timestamp: str
    bar: int
    market: dict[str, float]
    today: BookState
    margin_cap: float
    margin_call_index_fall: float | None
    margin_call_index_rise: float | None
    stress: tuple[ScenarioLoss, ...]
    actions: tuple[PartAdvice, ...]
    after: BookState
    after_costs: float
    breaches: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types (no NaN: a missing number is None)."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


class Advisor:
    """Advice for books of one env config with one agent; keeps its books between calls.

    ``config`` the env config (its book, market settings and observation clip); ``policy`` the
    agent; ``agent_name`` and ``config_name`` label the report.
    """

    def __init__(self, config: EnvConfig, policy: Policy, agent_name: str, config_name: str) -> None:
        self.config = config
        self.book_config = config.book
        self.policy = policy
        self.agent_name = agent_name
        self.config_name = config_name
        self.bars_per_day = config.bars_per_day
        self.layer_names = [layer.name for layer in self.book_config.layers]
        self.layer_kinds = [layer.kind for layer in self.book_config.layers]
        caps = [layer.max_contracts for layer in self.book_config.layers]
        self.observations = ObservationBuilder(caps, self.book_config.capital, config.observation_clip)
        self.observation_names = observation_names(config)
        self._books: dict[tuple[str, int], Book] = {}
        self._variants: dict[str, BookConfig] = {
            "off": guard_off(self.book_config),
            "relaxed": relaxed(self.book_config),
            **{f"only-{k}": relaxed(self.book_config, keep=k) for k in (1, 3, 4, 5, 6)},
        }
        self.reach_days = max(
            layer.max_days + (layer.rungs - 1) * layer.rung_spacing_days for layer in self.book_config.layers
        )

    # ------------------------------------------------------------------------------ the advice
    def advise(self, broker: BrokerAdapter) -> Advice:
        """The advice on the broker's positions and market."""
        return self.advise_on(broker.positions(), broker.market())

    def advise_on(self, positions: list[Position], snapshot: MarketSnapshot) -> Advice:
        """The advice on ``positions`` in the market ``snapshot``."""
        config, bpd = self.book_config, self.bars_per_day
        date = snapshot.timestamp.date()
        check_trading_day(date, snapshot.source)
        bar = snapshot_bar(snapshot.timestamp.time(), bpd)
        main = self._book("main", FIRST_SHOCK + len(HISTORICAL_SHOCKS) + len(INDEX_GRID))
        placement = place_positions(positions, config, main.layout, date, bar >= bpd, self.config_name)
        last_expiry = max((leg.expiry_day for leg in placement.legs), default=0)
        n_days = max(last_expiry, self.reach_days) + 2 * QUARTER_DAYS
        state, notes = self._state(snapshot, date, bar, n_days, placement)
        states = [state, state]
        states += [
            shocked(state, s.index_move, s.vix_move, s.vix3m_move, self.config.market)
            for s in HISTORICAL_SHOCKS
        ]
        states += [dataclasses.replace(state, index=state.index * (1.0 + move)) for move in INDEX_GRID]
        market = market_path(states, date, bar, n_days, bpd)
        today_market = market.take(np.array([TODAY]))
        rows = np.arange(main.num_envs)
        bars = np.full(main.num_envs, bar, dtype=np.int64)
        self._load(main, rows, placement, market, state)
        if placement.cash is not None and any(
            leg.position.instrument == "es_future" for leg in placement.legs
        ):
            # The broker's cash holds futures marked to market; the book holds them at notional.
            main.cash[:] = placement.cash - self._futures_notional(main, today_market, bar)
        guarded = main.action_masks(market, bars)
        view = main.view()
        masks = {name: self._variant_masks(name, main, today_market, bar) for name in self._variants}
        n_layers = len(self.layer_names)
        today_masks = _parts(guarded[TODAY], n_layers)
        restricted = self._restricted(placement, view)
        judged = verdicts(
            today_masks,
            masks["off"],
            masks["relaxed"],
            {k: masks[f"only-{k}"] for k in (1, 3, 4, 5, 6)},
            restricted,
        )
        advised, wanted = self._act(view, today_market, bar, judged, placement, state)
        after, costs = self._after(main, today_market, bar, advised)
        equity = np.asarray(view.equity)
        excess = equity - np.asarray(view.margin_requirement)
        grid = slice(FIRST_SHOCK + len(HISTORICAL_SHOCKS), None)
        fall, rise = margin_call_distance(np.array(INDEX_GRID), excess[grid])
        today = self._book_state(main, view, TODAY, placement, state.index)
        breaches = tuple(b.message for b in placement.breaches)
        if today.margin_use > config.guard.margin_cap:
            breaches += (
                f"margin use {today.margin_use:.1%} is over guard.margin_cap {config.guard.margin_cap:.0%}",
            )
        if excess[TODAY] <= 0.0:
            breaches += (
                "equity is below the margin requirement: the book would be liquidated (a margin call)",
            )
        return Advice(
            agent=self.agent_name,
            book_config=self.config_name,
            timestamp=snapshot.timestamp.isoformat(timespec="minutes"),
            bar=bar,
            market={
                "index": state.index,
                "vix": state.vix,
                "vix3m": state.vix3m,
                "rate": state.rate,
                "atm_volatility_1m": _atm_volatility(state),
            },
            today=today,
            margin_cap=config.guard.margin_cap,
            margin_call_index_fall=fall,
            margin_call_index_rise=rise,
            stress=self._stress(main, view, market),
            actions=self._part_advice(judged, advised, wanted),
            after=after,
            after_costs=costs,
            breaches=breaches,
            notes=notes,
        )

    # ------------------------------------------------------------------------------ the state
    def _state(
        self, snapshot: MarketSnapshot, date: dt.date, bar: int, n_days: int, placement: Placement
    ) -> tuple[SnapshotState, tuple[str, ...]]:
        bpd = self.bars_per_day
        calendar = ExpiryCalendar.from_dates(trading_days(np.datetime64(date, "D"), n_days))
        front_day = int(calendar.next_expiry("quarterly", self.book_config.futures_roll_days + 1))
        front_years = bar_years((front_day + 1) * bpd - bar, bpd)
        state = snapshot_state(snapshot, self.config.market, front_years)
        for name in ("vxx", "inverse_vix"):
            if name not in snapshot.extra and any(leg.position.instrument == name for leg in placement.legs):
                raise missing_price_error(snapshot.source, name)
        notes: tuple[str, ...] = ()
        if snapshot.quotes:
            state, note = calibrate_surface(state, snapshot.quotes, calendar, bar, bpd)
            notes += (note,)
        return state, notes

    def _book(self, name: str, rows: int) -> Book:
        key = (name, rows)
        if key not in self._books:
            config = self.book_config if name in ("main", "after") else self._variants[name]
            self._books[key] = Book(config, rows)
        return self._books[key]

    def _load(
        self,
        book: Book,
        rows: np.ndarray,
        placement: Placement,
        market: MarketPath,
        state: SnapshotState,
    ) -> None:
        """Write the placed legs, cash and layer references into ``rows`` of ``book``."""
        legs = book.legs
        for array in (legs.quantity, legs.strike, legs.expiry_bar, legs.underlying_bar, legs.entry_price):
            array[rows] = 0
        quarterly = market.next_expiry["quarterly"][0]
        bpd = self.bars_per_day
        cost = 0.0
        for leg in placement.legs:
            slot, position = leg.slot, leg.position
            if leg.expiry_day < 0:
                expiry_bar = underlying_bar = NEVER_EXPIRES
            else:
                expiry_bar = underlying_bar = (leg.expiry_day + 1) * bpd
                if position.instrument in ("es_call", "es_put"):
                    quarter = int(quarterly[leg.expiry_day])
                    underlying_bar = (quarter + 1) * bpd if quarter >= 0 else expiry_bar + QUARTER_DAYS * bpd
            legs.quantity[rows, slot] = leg.quantity
            legs.strike[rows, slot] = position.strike
            legs.expiry_bar[rows, slot] = expiry_bar
            legs.underlying_bar[rows, slot] = underlying_bar
            legs.entry_price[rows, slot] = position.average_price
            cost += leg.quantity * float(book.layout.multiplier[slot]) * position.average_price
        book.cash[rows] = placement.cash if placement.cash is not None else self.book_config.capital - cost
        book.reference[rows] = self._references(placement, state, book.layout.counter_slot)
        book.mark_bar[rows] = -1

    def _references(self, placement: Placement, state: SnapshotState, counter_slot: np.ndarray) -> np.ndarray:
        """Each layer's counter-trade reference: ``open_underlying``, else the index at
        ``open_index`` (ETP layers: their shares' average price), else today's underlying."""
        references = np.empty(len(self.layer_names))
        for layer, spec in enumerate(self.book_config.layers):
            if spec.kind == "vix_etp":
                today = state.inverse_vix if spec.etp == "inverse_vix" else state.vxx
                held = [
                    leg for leg in placement.legs if leg.layer == layer and leg.slot != counter_slot[layer]
                ]
                fallback = held[0].position.average_price if held else today
            else:
                given = placement.open_index[layer]
                fallback = state.index if np.isnan(given) else given
            chosen = placement.open_underlying[layer]
            references[layer] = fallback if np.isnan(chosen) else chosen
        return references

    def _futures_notional(self, main: Book, market: MarketPath, bar: int) -> float:
        """USD notional of the ES futures of row 0 of ``main`` at the book's marks (marked on a
        one-row copy)."""
        probe = self._book("after", 1)
        _copy_row(main, probe)
        probe.action_masks(market, np.array([bar]))
        futures = main.layout.kind == InstrumentKind.ES_FUTURE
        held = (
            np.asarray(probe.quantity)[0]
            * main.layout.multiplier
            * np.asarray(probe.marks.price)[0, : main.layout.n_slots]
        )
        return float(held[futures].sum())

    def _variant_masks(self, name: str, main: Book, market: MarketPath, bar: int) -> np.ndarray:
        """Masks ``(n_parts, 8)`` of today's book under the variant config ``name``."""
        book = self._book(name, 1)
        _copy_row(main, book)
        masks = book.action_masks(market, np.array([bar]))
        return _parts(masks[0], len(self.layer_names))

    def _restricted(self, placement: Placement, view: BookView) -> np.ndarray:
        """Parts held to risk-reducing choices: layers over a cap; every part when the book is
        over its cap or its margin use is over the margin cap."""
        n_layers = len(self.layer_names)
        restricted = np.zeros(n_layers + 1, dtype=bool)
        for breach in placement.breaches:
            if breach.layer < 0:
                restricted[:] = True
            else:
                restricted[breach.layer] = True
        equity = float(np.asarray(view.equity)[TODAY])
        if float(np.asarray(view.margin_requirement)[TODAY]) > self.book_config.guard.margin_cap * max(
            equity, 1.0
        ):
            restricted[:] = True
        return restricted

    # ------------------------------------------------------------------------------ the agent
    def _act(
        self,
        view: BookView,
        market: MarketPath,
        bar: int,
        judged: Verdicts,
        placement: Placement,
        state: SnapshotState,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The agent's choices ``(n_parts,)`` under the guard and with only the impossible ruled out."""
        pair = _rows(view, [TODAY, WISH])
        bars = np.full(2, bar, dtype=np.int64)
        features = np.repeat(market_features(market), 2, axis=0)
        index = np.repeat(market.index, 2, axis=0)
        observation = self.observations.build_at(pair, np.zeros(2), index, features, bars)
        masks = np.stack([_flat(judged.legal), _flat(judged.possible)])
        context = PolicyContext(pair, self.observation_names, self.layer_names, self.layer_kinds, {})
        self.policy.reset(np.arange(2))
        memory = getattr(self.policy, "memory", None)
        if isinstance(memory, LayerMemory):
            self._prime(memory, observation, masks, context, placement, state)
        actions = np.asarray(self.policy.act(observation, masks, context))
        return actions[0], actions[1]

    def _prime(
        self,
        memory: LayerMemory,
        observation: np.ndarray,
        masks: np.ndarray,
        context: PolicyContext,
        placement: Placement,
        state: SnapshotState,
    ) -> None:
        """Give a rule agent's memory the index move since each layer opened (``open_index``):
        one act lets the agent note which layers are open, in its own terms; then each opening is
        moved back to the index level given."""
        self.policy.act(observation, masks, context)
        bar_return = memory.log_index.copy()
        moves = np.where(np.isnan(placement.open_index), 0.0, np.log(state.index / placement.open_index))
        memory.log_index = memory.log_index - bar_return
        given = ~np.isnan(placement.open_index)
        memory.open_log_index = np.where(
            given[None, :], bar_return[:, None] - moves[None, :], memory.open_log_index
        )

    # ------------------------------------------------------------------------------ results
    def _after(
        self, main: Book, market: MarketPath, bar: int, advised: np.ndarray
    ) -> tuple[BookState, float]:
        """The book after the advised action, marked one bar later on the unchanged market, and
        the action's costs (USD: spread and fees)."""
        book = self._book("after", 1)
        _copy_row(main, book)
        result = book.step(advised[None, :], market, np.array([bar]))
        view = book.view()
        costs = -float(np.asarray(result.attribution)[0, :, COSTS].sum())
        index = float(market.index[0, bar + 1])
        return self._book_state(book, view, 0, None, index), costs

    def _book_state(
        self, book: Book, view: BookView, row: int, placement: Placement | None, index: float
    ) -> BookState:
        equity = float(np.asarray(view.equity)[row])
        requirement = float(np.asarray(view.margin_requirement)[row])
        layers = []
        for layer, spec in enumerate(self.book_config.layers):
            layers.append(_risk(spec.name, spec.kind, view, row, layer, index, float(spec.max_contracts)))
        layers.append(
            _risk("total", "book", view, row, None, index, float(self.book_config.guard.book_max_contracts))
        )
        return BookState(
            equity=equity,
            cash=float(np.asarray(view.cash)[row]),
            margin_requirement=requirement,
            margin_use=requirement / max(equity, 1.0),
            layers=tuple(layers),
            legs=self._legs(book, row, placement),
        )

    def _legs(self, book: Book, row: int, placement: Placement | None) -> tuple[LegRow, ...]:
        """Every held slot of ``row``, described by its position (when placed) or its contract."""
        layout = book.layout
        n = layout.n_slots
        quantity = np.asarray(book.quantity)[row]
        held = np.flatnonzero(quantity != 0.0)
        columns = (
            quantity[held],
            np.asarray(book.marks.price)[row, :n][held],
            np.asarray(book.marks.delta)[row, :n][held],
            np.asarray(book.entry_price)[row][held],
            np.asarray(book.strike)[row][held],
            layout.multiplier[held],
            layout.layer[held],
            layout.kind[held],
            layout.role[held],
            layout.etp_inverse[held],
        )
        lines = {leg.slot: leg.position for leg in placement.legs} if placement is not None else {}
        lot = float(self.book_config.etp_lot_shares)
        rows = []
        for slot, q, mark, delta, entry, strike, multiplier, layer, kind, role, inverse in zip(
            held.tolist(), *(column.tolist() for column in columns), strict=True
        ):
            position = lines.get(slot)
            rows.append(
                LegRow(
                    layer=self.layer_names[layer],
                    role=_ROLES[role],
                    instrument=position.instrument if position is not None else _instrument(kind, inverse),
                    expiry=position.expiry.isoformat() if position is not None and position.expiry else "",
                    strike=strike,
                    quantity=q * (lot if kind == InstrumentKind.ETP_SHARE else 1.0),
                    average_price=entry,
                    mark=mark,
                    delta=delta,
                    unrealised_pnl=q * multiplier * (mark - entry),
                    line=position.source.line if position is not None else 0,
                )
            )
        return tuple(rows)

    def _stress(self, main: Book, view: BookView, market: MarketPath) -> tuple[ScenarioLoss, ...]:
        """The margin scenarios of today's book, then the historical shocks re-marked by the book."""
        moves, volatility_factor, weight = scenario_table(self.book_config)
        marks = main.marks
        pnl = margin_scenarios(
            np.asarray(main.quantity)[TODAY],
            np.asarray(main.strike)[TODAY],
            main.layout.kind,
            main.layout.multiplier,
            np.asarray(marks.underlying)[TODAY],
            np.asarray(marks.volatility)[TODAY],
            np.asarray(marks.time_to_expiry)[TODAY],
            np.asarray(marks.price)[TODAY],
            float(market.daily_rate()[0, 0]),
            np.asarray(main.tables.underlying_factor),
            volatility_factor,
        )
        rows = []
        for scenario in range(len(moves)):
            vol = volatility_factor[scenario] - 1.0
            label = "unchanged" if vol == 0.0 else f"{vol:+.0%} relative"
            extreme = f" (extreme, counts {weight[scenario]:.0%})" if weight[scenario] != 1.0 else ""
            rows.append(
                ScenarioLoss(
                    f"margin scenario {scenario + 1}{extreme}",
                    float(moves[scenario]),
                    label,
                    float(pnl[scenario]),
                )
            )
        equity = np.asarray(view.equity)
        requirement = np.asarray(view.margin_requirement)
        for offset, shock in enumerate(HISTORICAL_SHOCKS):
            row = FIRST_SHOCK + offset
            rows.append(
                ScenarioLoss(
                    f"{shock.name} ({shock.start} to {shock.end} close)",
                    shock.index_move,
                    f"VIX {shock.vix_move:+.0%}, VIX3M {shock.vix3m_move:+.0%}",
                    float(equity[row] - equity[TODAY]),
                    float(requirement[row] / max(equity[row], 1.0)),
                )
            )
        return tuple(rows)

    def _part_advice(
        self, judged: Verdicts, advised: np.ndarray, wanted: np.ndarray
    ) -> tuple[PartAdvice, ...]:
        parts = []
        n_layers = len(self.layer_names)
        legal, possible = judged.legal.tolist(), judged.possible.tolist()
        for part in range(n_layers + 1):
            names = LAYER_ACTION_NAMES if part < n_layers else BALANCER_ACTION_NAMES
            want, chosen = int(wanted[part]), int(advised[part])
            parts.append(
                PartAdvice(
                    part=self.layer_names[part] if part < n_layers else BALANCER,
                    wants=names[want],
                    verdict=judged.reason(part, want) or "allowed",
                    blocking_rules=judged.blocking_rules(part, want),
                    advised=names[chosen] if legal[part][chosen] else names[0],
                    legal=tuple(names[c] for c in range(len(names)) if legal[part][c]),
                    refused={
                        names[c]: judged.reason(part, c)
                        for c in range(len(names))
                        if possible[part][c] and not legal[part][c]
                    },
                )
            )
        return tuple(parts)


_ROLES = ("structure", "counter-trade", "assigned", "balancer")


def _instrument(kind: int, inverse: bool) -> str:
    if kind == InstrumentKind.ETP_SHARE:
        return "inverse_vix" if inverse else "vxx"
    return InstrumentKind(kind).name.lower()


def _risk(
    name: str, kind: str, view: BookView, row: int, layer: int | None, index: float, cap: float
) -> LayerRisk:
    if layer is None:
        delta, gamma = float(view.net_delta[row]), float(view.net_gamma[row])
        vega, theta = float(view.net_vega[row]), float(view.net_theta[row])
        contracts = float(np.asarray(view.contracts)[row].sum())
        counter = float(np.asarray(view.counter_contracts)[row].sum())
        pnl = float(np.asarray(view.unrealised_pnl)[row].sum())
    else:
        delta, gamma = float(view.delta[row, layer]), float(view.gamma[row, layer])
        vega, theta = float(view.vega[row, layer]), float(view.theta[row, layer])
        contracts, counter = float(view.contracts[row, layer]), float(view.counter_contracts[row, layer])
        pnl = float(view.unrealised_pnl[row, layer])
    move = ONE_PERCENT * index
    return LayerRisk(
        name=name,
        kind=kind,
        contracts=contracts,
        counter_contracts=counter,
        max_contracts=cap,
        delta=delta,
        delta_usd=delta * ES_MULTIPLIER * move,
        gamma_usd=0.5 * gamma * ES_MULTIPLIER * move * move,
        vega_usd=vega,
        theta_usd=theta,
        unrealised_pnl=pnl,
    )


def _atm_volatility(state: SnapshotState) -> float:
    from thetagym.market.surface import SurfaceState, atm_variance

    surface = SurfaceState(
        *map(
            np.asarray,
            (
                state.implied_variance,
                state.long_implied_variance,
                state.implied_mean_reversion,
                state.jump_variance,
                state.skew,
                state.curvature,
            ),
        )
    )
    return float(np.sqrt(atm_variance(surface, np.asarray(21.0 / 252.0))))


def _parts(flat: np.ndarray, n_layers: int) -> np.ndarray:
    """Flat masks of one env into ``(n_layers + 1, 8)`` (the balancer's last 4 columns False)."""
    width = len(LayerAction)
    parts = np.zeros((n_layers + 1, width), dtype=bool)
    parts[:n_layers] = np.asarray(flat[: n_layers * width]).reshape(n_layers, width)
    parts[n_layers, : len(BalancerAction)] = flat[n_layers * width :]
    return parts


def _flat(parts: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_parts`: MaskablePPO's flat layout."""
    return np.concatenate([parts[:-1].reshape(-1), parts[-1, : len(BalancerAction)]])


def _rows(view: BookView, rows: Sequence[int]) -> BookView:
    """A :class:`BookView` of some rows of ``view``."""
    picked = list(rows)
    return BookView(
        **{f.name: np.asarray(getattr(view, f.name))[picked] for f in dataclasses.fields(BookView)}
    )


def _copy_row(source: Book, target: Book) -> None:
    """Copy row 0 of ``source``'s state (legs, cash, references) into row 0 of ``target``, unmarked."""
    for name in ("quantity", "strike", "expiry_bar", "underlying_bar", "entry_price"):
        getattr(target.legs, name)[0] = getattr(source.legs, name)[TODAY]
    target.cash[0] = source.cash[TODAY]
    target.reference[0] = source.reference[TODAY]
    target.mark_bar[0] = -1
