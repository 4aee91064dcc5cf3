"""The first broker adapter: positions, market snapshot and option quotes from CSV files.

Positions (one row per position; ``#`` lines and blank lines are skipped; column names are
case-insensitive)::

    instrument,expiry,strike,quantity,average_price,layer
    es_put,2026-12-18,5600,-4,12.5,put_wing
    es_future,2027-03-19,,1,6010.25,
    vxx,,,-2000,41.20,vix_etp
    cash,,,1250000,,

``instrument`` is one of :data:`~thetagym.advise.inputs.INSTRUMENTS`; ``expiry`` an ISO date
(``YYYY-MM-DD`` or ``YYYYMMDD``; empty for ETP shares and cash); ``strike`` in points (options
only); ``quantity`` signed (contracts; ETP shares; cash in USD); ``average_price`` in points (ETPs:
USD per share). Optional: ``layer`` (the book layer; empty: mapped by the book's rules),
``open_index`` and ``open_underlying`` (see :class:`~thetagym.advise.inputs.Position`).

Market snapshot (one row): ``date``, ``time`` (``HH:MM``, exchange time; optional, default the
16:00 close), ``index`` or ``es``, ``vix``, ``vix3m``, ``rate`` (decimal per year), and any of
:data:`~thetagym.advise.snapshot.OPTIONAL_STATE`. Quotes (optional file): ``expiry``, ``strike``,
``right`` (``call``/``put`` or ``C``/``P``) and ``iv`` (decimal) or ``bid`` and ``ask`` (points).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from thetagym.advise.inputs import (
    INSTRUMENTS,
    InputError,
    MarketSnapshot,
    OptionQuote,
    Position,
    Source,
)
from thetagym.advise.snapshot import OPTIONAL_STATE
from thetagym.config import suggest

POSITION_COLUMNS = ("instrument", "expiry", "strike", "quantity", "average_price")
POSITION_OPTIONAL = ("layer", "open_index", "open_underlying")
MARKET_COLUMNS = ("date", "vix", "vix3m", "rate")
MARKET_OPTIONAL = ("time", "index", "es", *OPTIONAL_STATE)
QUOTE_COLUMNS = ("expiry", "strike", "right")
QUOTE_OPTIONAL = ("iv", "bid", "ask")
CLOSE_TIME = dt.time(16, 0)
EXPIRING = ("es_future", "es_call", "es_put", "vix_future", "vix_call", "vix_put")
OPTIONS = ("es_call", "es_put", "vix_call", "vix_put")
MAX_RATE = 1.0
"""Largest plausible rate as a decimal: 4.3 is read as a mistaken percent."""


class CsvBroker:
    """A :class:`~thetagym.advise.inputs.BrokerAdapter` over a positions CSV, a market CSV and,
    optionally, an option quotes CSV."""

    def __init__(self, positions_path: Path, market_path: Path, quotes_path: Path | None = None) -> None:
        self.positions_path = Path(positions_path)
        self.market_path = Path(market_path)
        self.quotes_path = None if quotes_path is None else Path(quotes_path)

    def positions(self) -> list[Position]:
        rows = _read(self.positions_path, POSITION_COLUMNS, POSITION_OPTIONAL)
        return [_position(row, source) for row, source in rows]

    def market(self) -> MarketSnapshot:
        rows = list(_read(self.market_path, MARKET_COLUMNS, MARKET_OPTIONAL))
        whole = Source(str(self.market_path))
        if len(rows) != 1:
            raise whole.error(len(rows), "data rows: a market snapshot is one row under the header")
        row, source = rows[0]
        where = _Row(row, source)
        index, es = where.number("index", optional=True), where.number("es", optional=True)
        if (index is None) == (es is None):
            raise source.error(
                row.get("index", "") or row.get("es", ""), "- give exactly one of 'index' and 'es'"
            )
        rate = where.number("rate", low=-MAX_RATE, high=MAX_RATE, hint="(a decimal: 0.043 for 4.3%)")
        quotes = () if self.quotes_path is None else tuple(self._quotes())
        extra = {}
        for name in OPTIONAL_STATE:
            value = where.number(name, optional=True)
            if value is not None:
                extra[name] = value
        return MarketSnapshot(
            timestamp=dt.datetime.combine(where.date("date"), where.time("time")),
            index=_positive(index, where, "index"),
            es=_positive(es, where, "es"),
            vix=where.number("vix", low=1e-6),
            vix3m=where.number("vix3m", low=1e-6),
            rate=rate,
            extra=extra,
            quotes=quotes,
            source=Source(str(self.market_path)),
        )

    def _quotes(self) -> Iterator[OptionQuote]:
        assert self.quotes_path is not None
        for row, source in _read(self.quotes_path, QUOTE_COLUMNS, QUOTE_OPTIONAL):
            where = _Row(row, source)
            right = row["right"].strip().lower()
            if right not in ("call", "put", "c", "p"):
                raise _at(source, "right").error(row["right"], "is not a right: use call or put (C or P)")
            iv = where.number("iv", optional=True, low=1e-6, high=10.0)
            bid, ask = (
                where.number("bid", optional=True, low=0.0),
                where.number("ask", optional=True, low=0.0),
            )
            if iv is None and (bid is None or ask is None):
                raise _at(source, "iv").error(row.get("iv", ""), "- give 'iv', or 'bid' and 'ask'")
            if bid is not None and ask is not None and ask < bid:
                raise _at(source, "ask").error(ask, f"is below the bid {bid}")
            yield OptionQuote(
                expiry=where.date("expiry"),
                strike=where.number("strike", low=1e-9),
                is_call=right in ("call", "c"),
                bid=bid,
                ask=ask,
                implied_volatility=iv,
                source=source,
            )


def _position(row: dict[str, str], source: Source) -> Position:
    where = _Row(row, source)
    instrument = row["instrument"].strip().lower()
    if instrument not in INSTRUMENTS:
        raise _at(source, "instrument").error(
            row["instrument"],
            f"is not an instrument{suggest(instrument, INSTRUMENTS)}; known: {', '.join(INSTRUMENTS)}",
        )
    quantity = where.number("quantity")
    if instrument == "cash":
        return Position("cash", None, 0.0, quantity, 0.0, source=source)
    if quantity == 0.0 or quantity != round(quantity):
        raise _at(source, "quantity").error(
            row["quantity"], "is not a nonzero whole number of contracts or shares"
        )
    expiry = where.date("expiry") if instrument in EXPIRING else None
    strike = where.number("strike", low=1e-9) if instrument in OPTIONS else 0.0
    return Position(
        instrument=instrument,
        expiry=expiry,
        strike=strike,
        quantity=quantity,
        average_price=where.number("average_price", low=0.0),
        layer=row.get("layer", "").strip(),
        open_index=where.number("open_index", optional=True, low=1e-9),
        open_underlying=where.number("open_underlying", optional=True, low=1e-9),
        source=source,
    )


def _positive(value: float | None, where: _Row, column: str) -> float | None:
    if value is not None and value <= 0.0:
        raise _at(where.source, column).error(value, "is not a positive price")
    return value


class _Row:
    """One data row with typed readers that raise one-line errors naming the cell."""

    def __init__(self, row: dict[str, str], source: Source) -> None:
        self.row = row
        self.source = source

    def text(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    def number(
        self,
        column: str,
        *,
        optional: bool = False,
        low: float | None = None,
        high: float | None = None,
        hint: str = "",
    ) -> float:
        raw = self.text(column)
        if not raw:
            if optional:
                return None  # type: ignore[return-value]
            raise _at(self.source, column).error(raw, f"is empty: {column} is required")
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            raise _at(self.source, column).error(raw, "is not a number") from None
        if not math.isfinite(value):
            raise _at(self.source, column).error(raw, "is not a finite number")
        if low is not None and value < low:
            raise _at(self.source, column).error(raw, f"is below {low:g} {hint}".rstrip())
        if high is not None and value > high:
            raise _at(self.source, column).error(raw, f"is above {high:g} {hint}".rstrip())
        return value

    def date(self, column: str) -> dt.date:
        raw = self.text(column)
        for layout in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(raw, layout).date()
            except ValueError:
                continue
        raise _at(self.source, column).error(raw, "is not a date: use YYYY-MM-DD")

    def time(self, column: str) -> dt.time:
        raw = self.text(column)
        if not raw:
            return CLOSE_TIME
        for layout in ("%H:%M", "%H:%M:%S"):
            try:
                return dt.datetime.strptime(raw, layout).time()
            except ValueError:
                continue
        raise _at(self.source, column).error(raw, "is not a time: use HH:MM (exchange time)")


def _at(source: Source, column: str) -> Source:
    return Source(source.file, source.line, column)


def _read(
    path: Path, required: Sequence[str], optional: Sequence[str]
) -> Iterator[tuple[dict[str, str], Source]]:
    """Rows of ``path`` as ``{column: text}`` with their :class:`Source`; the header must hold every
    ``required`` column and nothing outside ``required`` and ``optional``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{path}: is empty; the first line must be the header ({', '.join(required)})")
    header_line, header_text = lines[0]
    header = [name.strip().lower() for name in next(csv.reader([header_text]))]
    known = (*required, *optional)
    for position, name in enumerate(header):
        if name not in known:
            raise Source(str(path), header_line, name).error(
                name, f"is not a column{suggest(name, known)}; columns: {', '.join(known)}"
            )
        if name in header[:position]:
            raise Source(str(path), header_line, name).error(name, "is a column named twice")
    for name in required:
        if name not in header:
            raise Source(str(path), header_line, name).error(
                header_text.strip(), f"is a header without the column {name!r}"
            )
    for number, line in lines[1:]:
        cells = next(csv.reader([line]))
        if len(cells) > len(header):
            raise Source(str(path), number).error(line, f"has {len(cells)} fields for {len(header)} columns")
        cells += [""] * (len(header) - len(cells))
        yield dict(zip(header, cells, strict=True)), Source(str(path), number)
