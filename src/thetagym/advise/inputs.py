"""What an advice is computed from: positions, a market snapshot and option quotes, and the seam
where a broker plugs in.

A :class:`BrokerAdapter` is anything that hands over today's :class:`Position` rows and one
:class:`MarketSnapshot` (optionally with :class:`OptionQuote` rows); :class:`thetagym.advise.csv_adapter.CsvBroker`
reads them from CSV files. Every value keeps the place it came from (:class:`Source`), so that a
value the book cannot take is reported as one line naming the file, line, column and value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from thetagym.config import ConfigError

INSTRUMENTS = (
    "es_future",
    "es_call",
    "es_put",
    "vix_future",
    "vix_call",
    "vix_put",
    "vxx",
    "inverse_vix",
    "cash",
)
"""Instrument kinds a positions file may name: ES futures and options on them, VIX futures and
options, shares of a VXX-like ETP (long VIX) and of an inverse VIX ETP, and the account's cash."""
UNMODELLED = ("vix_future", "vix_put")
"""Instruments a broker holds that no layer of a thetagym book can carry."""


@dataclass(frozen=True)
class Source:
    """Where a value came from: ``file``, 1-based ``line`` (0: the file as a whole), ``column``."""

    file: str
    line: int = 0
    column: str = ""

    def error(self, value: object, problem: str) -> InputError:
        """An :class:`InputError` for ``value`` found here: ``problem`` says what is wrong with it."""
        where = f"{self.file}" + (f" line {self.line}" if self.line else "")
        column = f" column {self.column!r}" if self.column else ""
        return InputError(f"{where}{column}: {value!r} {problem}")


class InputError(ConfigError):
    """A positions, market or quotes input the advice cannot use; the message is one line."""


@dataclass(frozen=True)
class Position:
    """One position of the account.

    ``instrument`` one of :data:`INSTRUMENTS`; ``expiry`` the expiry date (None for ETP shares and
    cash); ``strike`` index or VIX points (options; 0 otherwise); ``quantity`` signed contracts
    (ETPs: shares; cash: USD); ``average_price`` points per contract (ETPs: USD per share);
    ``layer`` the book layer it belongs to ("" when untagged); ``open_index`` the index level
    when its layer was opened or last rolled, and ``open_underlying`` the layer's underlying (the
    index, or the ETP's price) when the layer was opened (None when not given; see
    :mod:`thetagym.advise.placement`).
    """

    instrument: str
    expiry: dt.date | None
    strike: float
    quantity: float
    average_price: float
    layer: str = ""
    open_index: float | None = None
    open_underlying: float | None = None
    source: Source = field(default_factory=lambda: Source("positions"))


@dataclass(frozen=True)
class OptionQuote:
    """A quoted ES option: ``expiry``, ``strike`` (points), ``is_call`` and either the implied
    volatility ``implied_volatility`` (decimal per year) or ``bid`` and ``ask`` (points)."""

    expiry: dt.date
    strike: float
    is_call: bool
    bid: float | None
    ask: float | None
    implied_volatility: float | None
    source: Source


@dataclass(frozen=True)
class MarketSnapshot:
    """The market at one moment.

    ``timestamp`` the snapshot's date and time (exchange time); ``index`` the S&P 500 level or
    ``es`` the front ES future (points; one of the two); ``vix`` and ``vix3m`` (points); ``rate``
    the risk-free rate (per year, continuously compounded, decimal). ``extra`` holds optional
    state by name (ETP prices ``vxx`` and ``inverse_vix`` in USD; the indicators and surface
    state listed in :data:`thetagym.advise.snapshot.OPTIONAL_STATE`). ``quotes`` are option
    quotes that calibrate the surface.
    """

    timestamp: dt.datetime
    index: float | None
    es: float | None
    vix: float
    vix3m: float
    rate: float
    extra: dict[str, float] = field(default_factory=dict)
    quotes: tuple[OptionQuote, ...] = ()
    source: Source = field(default_factory=lambda: Source("market"))


@runtime_checkable
class BrokerAdapter(Protocol):
    """Where a broker plugs in: today's positions and market, in thetagym's terms.

    An adapter raises :class:`InputError` (one line naming the place and the value) for anything
    it cannot read; the advice checks the rest against the book config.
    """

    def positions(self) -> list[Position]:
        """Every position of the account, cash included if the broker reports it."""
        ...

    def market(self) -> MarketSnapshot:
        """The market snapshot the advice is computed on."""
        ...
