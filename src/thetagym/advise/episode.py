"""A broker over a simulated book: the positions and market of an env's book at one bar.

:class:`EpisodeBroker` is the second :class:`~thetagym.advise.inputs.BrokerAdapter`: it reads a
:class:`thetagym.book.Book` row and its market path the way a broker export would describe them,
with the market's full state so that the advice sees exactly what the env saw. It makes the
example files, the benchmark's books and the tests that hold the advice to the env; and
:func:`write_positions` / :func:`write_market` write what it reads as the CSV adapter's files.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thetagym.advise.csv_adapter import POSITION_COLUMNS
from thetagym.advise.inputs import MarketSnapshot, Position, Source
from thetagym.advise.snapshot import OPTIONAL_STATE, SESSION_MINUTES, SESSION_OPEN
from thetagym.book import Book
from thetagym.env.config import EnvConfig
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.market.path import PER_BAR_FIELDS, PER_PATH_FIELDS, MarketPath
from thetagym.policies import Policy, PolicyContext
from thetagym.pricing.instruments import InstrumentKind

INSTRUMENT_OF_KIND = {
    InstrumentKind.ES_CALL: "es_call",
    InstrumentKind.ES_PUT: "es_put",
    InstrumentKind.ES_FUTURE: "es_future",
    InstrumentKind.VIX_CALL: "vix_call",
}
OPTION_KINDS = (InstrumentKind.ES_CALL, InstrumentKind.ES_PUT, InstrumentKind.VIX_CALL)
PER_BAR_STATE = tuple(name for name in OPTIONAL_STATE if name in PER_BAR_FIELDS)
"""The snapshot's optional state read from a path's per-bar series (ETPs, indicators, surface)."""


class EpisodeBroker:
    """Positions of row ``row`` of ``book`` and the market of path ``row`` at ``bar``.

    Every position is tagged with its layer. ``open_index`` (per layer, index points; None: not
    given) says where a rule agent's memory puts each layer's opening; the guard's references are
    the book's own.
    """

    def __init__(
        self, book: Book, market: MarketPath, row: int, bar: int, open_index: np.ndarray | None = None
    ) -> None:
        self.book = book
        self.path = market
        self.row = row
        self.bar = bar
        self.open_index = open_index

    def positions(self) -> list[Position]:
        book, row, layout = self.book, self.row, self.book.layout
        names = [layer.name for layer in book.config.layers]
        dates = self.path.dates[self.row]
        bpd = self.path.bars_per_day
        quantity = np.asarray(book.quantity)[row]
        positions = []
        for slot in np.flatnonzero(quantity != 0.0):
            kind = int(layout.kind[slot])
            layer = int(layout.layer[slot])
            if kind == InstrumentKind.ETP_SHARE:
                instrument, expiry = ("inverse_vix" if layout.etp_inverse[slot] else "vxx"), None
                shares = book.config.etp_lot_shares
            else:
                instrument = INSTRUMENT_OF_KIND[InstrumentKind(kind)]
                expiry_day = int(np.asarray(book.expiry_bar)[row, slot]) // bpd - 1
                expiry = np.busday_offset(dates[0], expiry_day).astype(dt.date)
                shares = 1
            open_index = None if self.open_index is None else float(self.open_index[layer])
            positions.append(
                Position(
                    instrument=instrument,
                    expiry=expiry,
                    strike=float(np.asarray(book.strike)[row, slot]) if kind in OPTION_KINDS else 0.0,
                    quantity=float(quantity[slot]) * shares,
                    average_price=float(np.asarray(book.entry_price)[row, slot]),
                    layer=names[layer],
                    open_index=open_index,
                    open_underlying=float(book.reference[row, layer]),
                    source=Source("episode", int(slot) + 1),
                )
            )
        positions.append(Position("cash", None, 0.0, self._broker_cash(), 0.0, source=Source("episode")))
        return positions

    def _broker_cash(self) -> float:
        """The book's cash as a broker reports it: futures marked to market, not at notional."""
        book, row = self.book, self.row
        futures = np.asarray(book.layout.kind) == InstrumentKind.ES_FUTURE
        quantity = np.asarray(book.quantity)[row]
        price = np.asarray(book.marks.price)[row, : book.layout.n_slots]
        notional = float((quantity * book.layout.multiplier * price)[futures].sum())
        return float(book.cash[row]) + notional

    def market(self) -> MarketSnapshot:
        path, row, bar = self.path, self.row, self.bar
        bpd = path.bars_per_day
        day = int(path.day_of_bar(bar))
        completed = 0 if bar == 0 else (bar - 1) % bpd + 1
        minutes = SESSION_OPEN.hour * 60 + SESSION_OPEN.minute + completed * SESSION_MINUTES / bpd
        time = (dt.datetime(2000, 1, 1) + dt.timedelta(minutes=minutes)).time()
        extra = {name: float(getattr(path, name)[row, bar]) for name in PER_BAR_STATE}
        extra.update({name: float(getattr(path, name)[row]) for name in PER_PATH_FIELDS})
        extra["previous_index"] = float(path.index[row, max(bar - 1, 0)])
        extra["carry"] = float(path.daily_carry()[row, day])
        extra["vol_of_implied_variance"] = float(path.vol_of_implied_variance)
        date = path.dates[row, day].astype(dt.date)
        return MarketSnapshot(
            timestamp=dt.datetime.combine(date, time),
            index=float(path.index[row, bar]),
            es=None,
            vix=float(path.vix[row, bar]),
            vix3m=float(path.vix3m[row, bar]),
            rate=float(path.daily_rate()[row, day]),
            extra=extra,
            source=Source("episode"),
        )


@dataclass(frozen=True)
class EpisodeStep:
    """One step of :func:`agent_episode`: the ``env`` before the step, the ``actions`` the agent
    chose there and a ``broker`` of the book at that bar."""

    env: ShortPremiumEnv
    actions: np.ndarray
    broker: EpisodeBroker


def agent_episode(config: EnvConfig, policy: Policy, seed: int, steps: int) -> Iterator[EpisodeStep]:
    """Run ``policy`` in one env of ``config`` seeded with ``seed`` for up to ``steps`` steps,
    yielding each step before it is taken. A rule agent's memory gives the broker each layer's
    ``open_index`` (the index level its index move is measured from)."""
    env = ShortPremiumEnv(config)
    observation, _ = env.reset(seed=seed)
    policy.reset(np.arange(1))
    layers = [layer.name for layer in config.book.layers]
    kinds = [layer.kind for layer in config.book.layers]
    core = env.core
    for _ in range(steps):
        assert core.market is not None
        context = PolicyContext(core.book.view(), env.observation_names, layers, kinds, {})
        actions = np.asarray(policy.act(observation[None], env.action_masks()[None], context))[0]
        memory = getattr(policy, "memory", None)
        bar = int(core.bars[0])
        index = float(core.market.index[0, bar])
        open_index = None if memory is None else index * np.exp(-memory.index_move()[0])
        yield EpisodeStep(env, actions, EpisodeBroker(core.book, core.market, 0, bar, open_index))
        observation, _, terminated, truncated, _ = env.step(actions)
        if terminated or truncated:
            return


def write_positions(positions: list[Position], path: Path, header: str = "") -> Path:
    """Write ``positions`` as the CSV adapter reads them (full float precision)."""
    optional = [
        name
        for name in ("open_index", "open_underlying")
        if any(getattr(p, name) is not None for p in positions)
    ]
    columns = (*POSITION_COLUMNS, "layer", *optional)
    with path.open("w", newline="", encoding="utf-8") as handle:
        if header:
            handle.write("".join(f"# {line}\n" for line in header.splitlines()))
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for p in positions:
            writer.writerow(
                [
                    p.instrument,
                    p.expiry.isoformat() if p.expiry else "",
                    _number(p.strike) if p.strike else "",
                    _number(p.quantity),
                    _number(p.average_price) if p.instrument != "cash" else "",
                    p.layer,
                    *("" if getattr(p, name) is None else _number(getattr(p, name)) for name in optional),
                ]
            )
    return path


def write_market(
    snapshot: MarketSnapshot, path: Path, header: str = "", state: tuple[str, ...] = OPTIONAL_STATE
) -> Path:
    """Write ``snapshot`` as the CSV adapter reads it, with the optional columns ``state`` it holds."""
    extra = [name for name in state if name in snapshot.extra]
    columns = [
        "date",
        "time",
        "index" if snapshot.index is not None else "es",
        "vix",
        "vix3m",
        "rate",
        *extra,
    ]
    price = snapshot.index if snapshot.index is not None else snapshot.es
    values = [
        snapshot.timestamp.date().isoformat(),
        snapshot.timestamp.time().isoformat(),
        _number(float(price or 0.0)),
        _number(snapshot.vix),
        _number(snapshot.vix3m),
        _number(snapshot.rate),
        *(_number(snapshot.extra[name]) for name in extra),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        if header:
            handle.write("".join(f"# {line}\n" for line in header.splitlines()))
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerow(values)
    return path


def _number(value: float) -> str:
    return repr(float(value)) if value != round(value) else str(round(value))
