"""Daily closes for historical replay: reading and checking CSV files into a :class:`History`.

Daily S&P 500 and VIX closes (VIX3M optional) are read from CSV files in any of three layouts,
detected from the header (case-insensitive):

- Cboe, as in ``VIX_History.csv``: ``DATE,OPEN,HIGH,LOW,CLOSE`` with US dates (``01/02/1990``);
- Yahoo Finance: ``Date,Open,High,Low,Close,Adj Close,Volume`` with ISO dates;
- lower-case ISO, as in the project's shared data: ``date,open,high,low,close``.

Only the date and close columns are read and checked; anything wrong with them raises one
:class:`ReplayDataError` naming the file, the line and column, and the value. A :class:`History`
holds the aligned closes and the daily indicators over them; :func:`shared_data_dir` finds the
project's shared data folder. :mod:`thetagym.market.replay` builds paths from a History.
"""

from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from thetagym.config import ConfigError
from thetagym.market.indicators import macd, realised_volatility, rsi

__all__ = [
    "History",
    "ReplayDataError",
    "load_history",
    "read_closes",
    "shared_data_dir",
]

_FORMATS_HINT = (
    "Cboe DATE,OPEN,HIGH,LOW,CLOSE (US dates), Yahoo Date,Open,High,Low,Close,Adj Close,Volume, "
    "or date,open,high,low,close (ISO dates)"
)
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}$"
_US_DATE = r"^\d{1,2}/\d{1,2}/\d{4}$"
_HEADER_SEARCH_LINES = 20


class ReplayDataError(ConfigError):
    """Historical data that cannot be replayed, with the file, line, column and value at fault."""


@dataclass(frozen=True, eq=False)
class History:
    """Aligned daily closes, oldest first.

    ``dates`` datetime64[D] ``(n,)``; ``index_close`` S&P 500 and ``vix_close`` VIX closes
    (points) ``(n,)``; ``vix3m_close`` VIX3M closes ``(n,)`` with NaN on days its file does not
    cover, or None without a VIX3M file; ``source`` names the files for messages. Daily
    indicators over the whole history are computed once, on construction.
    """

    dates: np.ndarray
    index_close: np.ndarray
    vix_close: np.ndarray
    vix3m_close: np.ndarray | None = None
    source: str = "history"
    _daily: dict[str, np.ndarray] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        dates = np.asarray(self.dates, dtype="datetime64[D]")
        index_close = np.asarray(self.index_close, dtype=np.float64)
        vix_close = np.asarray(self.vix_close, dtype=np.float64)
        n = dates.shape[0]
        if dates.ndim != 1 or n < 2:
            raise ReplayDataError(f"{self.source}: need at least two dates, got shape {dates.shape}")
        if np.any(np.diff(dates) <= np.timedelta64(0, "D")):
            bad = int(np.flatnonzero(np.diff(dates) <= np.timedelta64(0, "D"))[0]) + 1
            raise ReplayDataError(
                f"{self.source}: dates must strictly ascend; date {dates[bad]} at position {bad} "
                f"follows {dates[bad - 1]}"
            )
        arrays = {"index_close": index_close, "vix_close": vix_close}
        if self.vix3m_close is not None:
            arrays["vix3m_close"] = np.asarray(self.vix3m_close, dtype=np.float64)
        for name, values in arrays.items():
            if values.shape != (n,):
                raise ReplayDataError(f"{self.source}: {name} has shape {values.shape}, expected ({n},)")
            checked = values[~np.isnan(values)] if name == "vix3m_close" else values
            if not np.all(np.isfinite(checked)) or np.any(checked <= 0):
                bad = int(np.flatnonzero(~(np.isfinite(values) & (values > 0)))[0])
                raise ReplayDataError(
                    f"{self.source}: {name} must be positive and finite; {float(values[bad])} on {dates[bad]}"
                )
        for name, values in (("dates", dates), *arrays.items()):
            values.setflags(write=False)
            object.__setattr__(self, name, values)
        closes = np.stack([index_close, vix_close])
        rsi_values, macd_values = rsi(closes), macd(closes)
        daily = {
            "realised_volatility": realised_volatility(index_close[None, :])[0],
            "index_rsi": rsi_values[0],
            "index_macd": macd_values[0],
            "vix_rsi": rsi_values[1],
            "vix_macd": macd_values[1],
        }
        object.__setattr__(self, "_daily", daily)

    def __len__(self) -> int:
        return int(self.dates.shape[0])

    def daily(self, name: str) -> np.ndarray:
        """A daily indicator over the whole history: ``realised_volatility``, ``index_rsi``,
        ``index_macd``, ``vix_rsi`` or ``vix_macd`` (see :class:`MarketPath`)."""
        return self._daily[name]


def load_history(
    index_csv: str | os.PathLike[str],
    vix_csv: str | os.PathLike[str],
    vix3m_csv: str | os.PathLike[str] | None = None,
) -> History:
    """Read index and VIX closes (and VIX3M closes when given) and keep the dates both have.

    VIX3M is joined onto those dates; days it lacks hold NaN and replay derives them.

    Raises :class:`ReplayDataError` for a missing file, missing columns, blank, NaN, non-numeric
    or non-positive closes, blank or unreadable dates, repeated or descending dates, and index
    and VIX files without a date in common.
    """
    index_dates, index_close = read_closes(index_csv)
    vix_dates, vix_close = read_closes(vix_csv)
    common, in_index, in_vix = np.intersect1d(index_dates, vix_dates, assume_unique=True, return_indices=True)
    names = f"{Path(index_csv).name} + {Path(vix_csv).name}"
    if common.shape[0] < 2:
        raise ReplayDataError(
            f"{index_csv} and {vix_csv}: {'no dates' if common.shape[0] == 0 else 'only one date'} "
            f"in common; the index covers {_span(index_dates)}, the VIX {_span(vix_dates)}"
        )
    vix3m = None
    if vix3m_csv is not None:
        vix3m_dates, vix3m_close = read_closes(vix3m_csv)
        vix3m = np.full(common.shape, np.nan)
        _, in_common, in_vix3m = np.intersect1d(common, vix3m_dates, assume_unique=True, return_indices=True)
        vix3m[in_common] = vix3m_close[in_vix3m]
        names += f" + {Path(vix3m_csv).name}"
    return History(common, index_close[in_index], vix_close[in_vix], vix3m, source=names)


def read_closes(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Dates (datetime64[D]) and closes (float64) of one CSV file in Cboe, Yahoo or ISO layout.

    Lines of text before the header (as in some Cboe downloads) and blank lines are skipped;
    line numbers in errors count every line of the file from 1.
    """
    file = Path(path)
    if not file.is_file():
        what = "is a directory, not a CSV file" if file.is_dir() else "file not found"
        raise ReplayDataError(f"{file}: {what}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayDataError(f"{file}: cannot read the file as UTF-8 text ({error})") from None
    lines = text.splitlines()
    content = [number for number, line in enumerate(lines) if line.strip()]
    if not content:
        raise ReplayDataError(f"{file}: the file is empty; need a header with {_FORMATS_HINT}")
    header_at = next(
        (n for n in content[:_HEADER_SEARCH_LINES] if "date" in _fields(lines[n])),
        content[0],
    )
    columns = [c.strip() for c in lines[header_at].split(",")]
    lower = [c.lower() for c in columns]
    missing = [name for name in ("date", "close") if name not in lower]
    if missing:
        raise ReplayDataError(
            f"{file}: line {header_at + 1}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; found {', '.join(repr(c) for c in columns)}; "
            f"need a date and a close column: {_FORMATS_HINT}"
        )
    date_column, close_column = columns[lower.index("date")], columns[lower.index("close")]
    line_numbers = np.array([n + 1 for n in content if n > header_at], dtype=np.int64)
    body = "\n".join(lines[n] for n in content if n >= header_at)
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            usecols=[date_column, close_column],
        )
    except (ValueError, pd.errors.ParserError) as error:
        raise ReplayDataError(
            f"{file}: cannot parse as CSV (lines counted from the header on line {header_at + 1}): {error}"
        ) from None
    if len(frame) == 0:
        raise ReplayDataError(f"{file}: no data rows after the header on line {header_at + 1}")
    raw_dates = frame[date_column].fillna("").str.strip().to_numpy(dtype=str)
    raw_closes = frame[close_column].fillna("").str.strip().to_numpy(dtype=str)

    def fail(row: int, column: str, problem: str) -> ReplayDataError:
        return ReplayDataError(f"{file}: line {line_numbers[row]}, column {column!r}: {problem}")

    blank = np.flatnonzero(raw_dates == "")
    if blank.size:
        raise fail(int(blank[0]), date_column, "blank date ''")
    dates = _parse_dates(raw_dates)
    if dates is None:
        raise fail(
            0, date_column, f"cannot read date {str(raw_dates[0])!r}; expected YYYY-MM-DD or MM/DD/YYYY"
        )
    unread = np.flatnonzero(np.isnat(dates))
    if unread.size:
        row = int(unread[0])
        raise fail(
            row,
            date_column,
            f"cannot read date {str(raw_dates[row])!r} in the layout of {str(raw_dates[0])!r}",
        )
    steps = np.diff(dates)
    repeated = np.flatnonzero(steps == np.timedelta64(0, "D"))
    if repeated.size:
        row = int(repeated[0]) + 1
        raise fail(
            row, date_column, f"duplicate date {str(raw_dates[row])!r} (also on line {line_numbers[row - 1]})"
        )
    backwards = np.flatnonzero(steps < np.timedelta64(0, "D"))
    if backwards.size:
        row = int(backwards[0]) + 1
        raise fail(
            row,
            date_column,
            f"date {str(raw_dates[row])!r} comes before {str(raw_dates[row - 1])!r} on line "
            f"{line_numbers[row - 1]}; dates must be sorted oldest first",
        )
    closes = pd.to_numeric(pd.Series(raw_closes), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(closes) & (closes > 0)))
    if bad.size:
        row = int(bad[0])
        value, number = str(raw_closes[row]), closes[row]
        if value == "":
            problem = "blank value ''"
        elif value.lower() == "nan":
            problem = f"NaN value {value!r}"
        elif np.isnan(number):
            problem = f"non-numeric value {value!r}"
        elif not np.isfinite(number):
            problem = f"non-finite value {value!r}"
        else:
            problem = f"non-positive price {value!r}"
        raise fail(row, close_column, problem)
    return dates, closes


def _fields(line: str) -> list[str]:
    return [field.strip().strip('"').lower() for field in line.split(",")]


def _parse_dates(raw: np.ndarray) -> np.ndarray | None:
    """Parse in the layout of the first date (ISO or US); NaT where a value does not fit it."""
    series = pd.Series(raw)
    if series.iloc[0:1].str.fullmatch(_ISO_DATE).all():
        layout = "%Y-%m-%d"
        fits = series.str.fullmatch(_ISO_DATE)
    elif series.iloc[0:1].str.fullmatch(_US_DATE).all():
        layout = "%m/%d/%Y"
        fits = series.str.fullmatch(_US_DATE)
    else:
        return None
    parsed = pd.to_datetime(series.where(fits), format=layout, errors="coerce")
    return np.asarray(parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"))


def _span(dates: np.ndarray) -> str:
    return f"{dates[0]} to {dates[-1]}" if dates.shape[0] else "no dates"


def shared_data_dir() -> Path | None:
    """The folder of the shared daily CSV files: ``$THETAGYM_DATA`` if set, else ``../shared/data``
    next to the project's root (or the working directory's); None when there is none."""
    candidates = []
    if os.environ.get("THETAGYM_DATA"):
        candidates.append(Path(os.environ["THETAGYM_DATA"]).expanduser())
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "data")
    candidates.append(Path.cwd().parent / "shared" / "data")
    for candidate in candidates:
        if (candidate / "spx_daily.csv").is_file() and (candidate / "vix_daily.csv").is_file():
            return candidate
    return None
