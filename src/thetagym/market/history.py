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
    "daily_rates",
    "has_shared_data",
    "load_history",
    "load_shared_history",
    "read_closes",
    "read_daily",
    "read_monthly_rates",
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
    cover, or None without a VIX3M file; ``source`` names the files for messages.
    ``index_range``, ``vix_range`` and ``vix3m_range`` are each day's open, high and low
    ``(n, 3)`` (NaN rows where unknown; None without such columns), from which replay builds the
    bars inside a day; ``rate`` is the risk-free rate on each day (per year, continuously
    compounded, ``(n,)``), or None for the market config's constant rate. Daily indicators over
    the whole history are computed once, on construction.
    """

    dates: np.ndarray
    index_close: np.ndarray
    vix_close: np.ndarray
    vix3m_close: np.ndarray | None = None
    source: str = "history"
    index_range: np.ndarray | None = None
    vix_range: np.ndarray | None = None
    vix3m_range: np.ndarray | None = None
    rate: np.ndarray | None = None
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
        for name in ("index_range", "vix_range", "vix3m_range"):
            ranges = getattr(self, name)
            if ranges is not None:
                arrays[name] = np.asarray(ranges, dtype=np.float64)
                if arrays[name].shape != (n, 3):
                    raise ReplayDataError(
                        f"{self.source}: {name} has shape {arrays[name].shape}, expected ({n}, 3)"
                    )
        if self.rate is not None:
            arrays["rate"] = np.asarray(self.rate, dtype=np.float64)
            if arrays["rate"].shape != (n,) or not np.all(np.isfinite(arrays["rate"])):
                raise ReplayDataError(f"{self.source}: rate must be {n} finite values, one a day")
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
    rates_csv: str | os.PathLike[str] | None = None,
) -> History:
    """Read index and VIX closes (and VIX3M closes when given) and keep the dates both have.

    VIX3M is joined onto those dates; days it lacks hold NaN and replay derives them. Opens,
    highs and lows are kept where the files have them. ``rates_csv`` is a monthly 3-month
    T-bill file (:func:`read_monthly_rates`); each day gets the rate known on it.

    Raises :class:`ReplayDataError` for a missing file, missing columns, blank, NaN, non-numeric
    or non-positive closes, blank or unreadable dates, repeated or descending dates, and index
    and VIX files without a date in common.
    """
    index_dates, index_close, index_range = read_daily(index_csv)
    vix_dates, vix_close, vix_range = read_daily(vix_csv)
    common, in_index, in_vix = np.intersect1d(index_dates, vix_dates, assume_unique=True, return_indices=True)
    names = f"{Path(index_csv).name} + {Path(vix_csv).name}"
    if common.shape[0] < 2:
        raise ReplayDataError(
            f"{index_csv} and {vix_csv}: {'no dates' if common.shape[0] == 0 else 'only one date'} "
            f"in common; the index covers {_span(index_dates)}, the VIX {_span(vix_dates)}"
        )
    vix3m = vix3m_range = rate = None
    if vix3m_csv is not None:
        vix3m_dates, vix3m_close, vix3m_ranges = read_daily(vix3m_csv)
        vix3m = np.full(common.shape, np.nan)
        _, in_common, in_vix3m = np.intersect1d(common, vix3m_dates, assume_unique=True, return_indices=True)
        vix3m[in_common] = vix3m_close[in_vix3m]
        if vix3m_ranges is not None:
            vix3m_range = np.full((common.shape[0], 3), np.nan)
            vix3m_range[in_common] = vix3m_ranges[in_vix3m]
        names += f" + {Path(vix3m_csv).name}"
    if rates_csv is not None:
        rate = daily_rates(common, *read_monthly_rates(rates_csv), source=str(rates_csv))
        names += f" + {Path(rates_csv).name}"
    return History(
        common,
        index_close[in_index],
        vix_close[in_vix],
        vix3m,
        source=names,
        index_range=None if index_range is None else index_range[in_index],
        vix_range=None if vix_range is None else vix_range[in_vix],
        vix3m_range=vix3m_range,
        rate=rate,
    )


def load_shared_history(rates: bool = True) -> History:
    """The shared data folder's S&P 500, VIX and VIX3M files (and the T-bill rate unless
    ``rates`` is False): :func:`load_history` on the files in :func:`shared_data_dir`."""
    folder = shared_data_dir()
    vix3m = folder / "vix3m_daily.csv"
    tbill = folder / "tbill_3m_monthly.csv"
    return load_history(
        folder / "spx_daily.csv",
        folder / "vix_daily.csv",
        vix3m if vix3m.is_file() else None,
        tbill if rates and tbill.is_file() else None,
    )


T_BILL_DAYS = 91
"""Days to maturity of a 3-month T-bill, for converting its discount rate."""


def read_monthly_rates(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """First days of months (datetime64[D]) and 3-month T-bill rates (per year, continuously
    compounded) from a monthly file: ``date,rate_pct`` as in the shared data, or FRED's own
    download (``observation_date,TB3MS`` or ``DATE,TB3MS``), rates in percent on the discount
    basis. A discount rate ``d`` prices a 91-day bill at ``1 - d * 91 / 360``, so the
    continuously compounded rate is ``-log(1 - d * 91 / 360) * 365 / 91`` (5.00% -> 5.10%).

    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "tb3ms.csv"
    >>> rows = ["observation_date,TB3MS", "2023-01-01,4.54", "2023-02-01,4.65"]
    >>> _ = file.write_text(chr(10).join(rows))
    >>> months, rates = read_monthly_rates(file)
    >>> str(months[1]), round(float(rates[0]), 5)
    ('2023-02-01', 0.0463)
    """
    file = Path(path)
    if not file.is_file():
        raise ReplayDataError(
            f"{file}: file not found (a monthly T-bill file: date,rate_pct or FRED's TB3MS)"
        )
    frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    lower = {c.strip().lower(): c for c in frame.columns}
    date_column = next((lower[n] for n in ("date", "observation_date") if n in lower), None)
    rate_column = next((lower[n] for n in ("rate_pct", "tb3ms") if n in lower), None)
    if date_column is None or rate_column is None or len(frame) == 0:
        raise ReplayDataError(
            f"{file}: need columns date,rate_pct (or FRED's observation_date,TB3MS) and at least one row; "
            f"found {', '.join(repr(c) for c in frame.columns)}"
        )
    months = _parse_dates(frame[date_column].str.strip().to_numpy(dtype=str))
    percent = pd.to_numeric(frame[rate_column].str.strip(), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(percent) | ~(percent < 100.0)) if months is not None else np.array([0])
    if (
        months is None
        or np.any(np.isnat(months))
        or bad.size
        or np.any(np.diff(months) <= np.timedelta64(0, "D"))
    ):
        row = int(bad[0]) if bad.size else 0
        raise ReplayDataError(
            f"{file}: line {row + 2}: need ascending ISO dates and rates in percent; "
            f"got {frame[date_column].iloc[row]!r}, {frame[rate_column].iloc[row]!r}"
        )
    rates = -np.log1p(-percent / 100.0 * T_BILL_DAYS / 360.0) * 365.0 / T_BILL_DAYS
    return months, rates


def daily_rates(
    dates: np.ndarray, months: np.ndarray, rates: np.ndarray, source: str = "rates"
) -> np.ndarray:
    """The rate known on each of ``dates``: a month's average is published after the month ends,
    so a day takes the average of the latest month before its own (a step function changing on
    the first trading day of each month). Days in the file's first month take that month's
    value (no earlier one exists); days before it raise.

    >>> months = np.array(["2023-01-01", "2023-02-01"], dtype="datetime64[D]")
    >>> daily_rates(np.array(["2023-02-15", "2023-03-01"], dtype="datetime64[D]"), months, np.array([0.04, 0.05]))
    array([0.04, 0.05])
    """
    month_of = np.asarray(dates, dtype="datetime64[M]")
    known = np.asarray(month_of - np.timedelta64(1, "M"), dtype="datetime64[D]")
    position = np.searchsorted(months, known, side="right") - 1
    if np.any(position < 0) and np.any(months[0] > month_of[position < 0].astype("datetime64[D]")):
        day = dates[int(np.flatnonzero(position < 0)[0])]
        raise ReplayDataError(f"{source}: no rate for {day}: the file starts on {months[0]}")
    position = np.maximum(position, 0)
    return np.asarray(rates[position], dtype=np.float64)


def read_closes(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Dates (datetime64[D]) and closes (float64) of one CSV file in Cboe, Yahoo or ISO layout.

    Lines of text before the header (as in some Cboe downloads) and blank lines are skipped;
    line numbers in errors count every line of the file from 1.
    """
    dates, closes, _ = read_daily(path)
    return dates, closes


def read_daily(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Dates, closes and, when the file has open, high and low columns, ``(n, 3)`` opens, highs
    and lows (NaN where a row's value is blank, non-numeric or inconsistent with its close:
    replay then treats the day as having no intraday data). Closes are checked as in
    :func:`read_closes`."""
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
    range_columns = [columns[lower.index(name)] for name in ("open", "high", "low") if name in lower]
    if len(range_columns) < 3:
        range_columns = []
    line_numbers = np.array([n + 1 for n in content if n > header_at], dtype=np.int64)
    body = "\n".join(lines[n] for n in content if n >= header_at)
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            usecols=[date_column, close_column, *range_columns],
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
    if not range_columns:
        return dates, closes, None
    ranges = np.stack(
        [
            pd.to_numeric(frame[c].fillna("").str.strip(), errors="coerce").to_numpy(np.float64)
            for c in range_columns
        ],
        axis=1,
    )
    consistent = (
        np.all(ranges > 0, axis=1)
        & (ranges[:, 1] >= np.maximum(ranges[:, 0], closes))
        & (ranges[:, 2] <= np.minimum(ranges[:, 0], closes))
    )
    ranges[~consistent] = np.nan
    return dates, closes, ranges


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


DATA_FILES = {
    "spx_daily.csv": "S&P 500 daily open, high, low, close",
    "vix_daily.csv": "Cboe VIX daily open, high, low, close",
    "vix3m_daily.csv": "Cboe VIX3M daily (optional)",
    "tbill_3m_monthly.csv": "3-month T-bill rate, monthly, FRED TB3MS (optional)",
}
"""The files of the historical data folder (``docs/market.md#historical-data``); the first two are needed."""


def _data_candidates() -> list[Path]:
    if os.environ.get("THETAGYM_DATA"):
        return [Path(os.environ["THETAGYM_DATA"]).expanduser()]
    return [
        Path(__file__).resolve().parents[3].parent / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
    ]


def _has_required(folder: Path) -> bool:
    return all((folder / name).is_file() for name in list(DATA_FILES)[:2])


def shared_data_dir() -> Path:
    """The folder of the shared daily CSV files: ``$THETAGYM_DATA`` when set, else
    ``../shared/data`` next to the project's root (or the working directory's).

    Raises :class:`ReplayDataError` naming ``THETAGYM_DATA`` and the expected files when the
    folder or its two required files are missing.
    """
    candidates = _data_candidates()
    for candidate in candidates:
        if _has_required(candidate):
            return candidate
    where = (
        f"THETAGYM_DATA={os.environ['THETAGYM_DATA']} has"
        if os.environ.get("THETAGYM_DATA")
        else f"THETAGYM_DATA is not set and {' or '.join(str(c) for c in candidates)} has"
    )
    expected = "; ".join(f"{name} ({what})" for name, what in DATA_FILES.items())
    raise ReplayDataError(
        f"no historical data folder: {where} no spx_daily.csv and vix_daily.csv. Set THETAGYM_DATA to a "
        f"folder holding {expected}, in date,open,high,low,close layout (Cboe and Yahoo downloads also "
        "work; docs/market.md#historical-data lists the sources)"
    )


def has_shared_data() -> bool:
    """Whether :func:`shared_data_dir` finds the folder (for tests that skip without it)."""
    return any(_has_required(candidate) for candidate in _data_candidates())
