"""A batch of market paths: every series the book and the environment read, as arrays.

Bars are counted from the start of a path. Element 0 of every per-bar array is the state at the
previous close; element ``k`` (1 <= k <= n_bars) is the state at the end of bar ``k``, which lies on
trading day ``(k - 1) // bars_per_day``. The close of trading day ``d`` is element
``(d + 1) * bars_per_day``; expiries settle there.

Per-bar arrays have shape ``(n_paths, n_bars + 1)``; per-day arrays ``(n_paths, n_days)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from thetagym.market.calendar import TRADING_DAYS_PER_YEAR, ExpiryCalendar
from thetagym.market.surface import SurfaceState

EXPIRY_SCHEDULES = ("weekly", "monthly", "quarterly")

PER_BAR_FIELDS = (
    "index",
    "variance",
    "implied_variance",
    "skew",
    "vix",
    "vix3m",
    "vxx",
    "inverse_vix",
    "realised_volatility",
    "index_rsi",
    "index_macd",
    "vix_rsi",
    "vix_macd",
    "long_implied_variance",
)
PER_PATH_FIELDS = ("implied_mean_reversion", "jump_variance", "curvature")


@dataclass
class MarketPath:
    """``n_paths`` market paths of ``n_days`` trading days, ``bars_per_day`` bars a day.

    Per-bar series (``(n_paths, n_bars + 1)``):
    ``index`` S&P 500 level (points); ``variance`` real-world instantaneous variance (per year);
    ``implied_variance`` risk-neutral instantaneous variance (per year) and ``skew`` the smile's
    skew, the moving parts of the surface; ``vix`` and ``vix3m`` (points); ``vxx`` a VXX-like ETP
    and ``inverse_vix`` a daily-reset inverse VIX ETP (USD per share);
    ``realised_volatility`` trailing 21-day close-to-close volatility (per year, decimal);
    ``index_rsi`` and ``vix_rsi`` 14-day RSI scaled to [-1, 1] (``(RSI - 50) / 50``);
    ``index_macd`` and ``vix_macd`` MACD(12, 26) line minus its 9-day signal, over the price;
    ``long_implied_variance`` the long-run level of the risk-neutral variance (per year), which
    sets the surface's term structure (a simulated path repeats one number; replay follows VIX3M).
    Indicators at bar ``k`` use only data up to bar ``k``.

    Per-path constants (``(n_paths,)``): the surface's ``implied_mean_reversion``,
    ``jump_variance`` and ``curvature``; ``scenario`` codes into ``scenario_names``.

    Per-day arrays (``(n_paths, n_days)``): ``dates`` (datetime64[D]) and, for each expiry
    schedule, ``next_expiry[schedule]``: the day index of the first expiry on or after each day,
    or -1 when the path ends first. ``rate`` and ``carry`` are one number or per day.
    """

    bars_per_day: int
    dates: np.ndarray
    index: np.ndarray
    variance: np.ndarray
    implied_variance: np.ndarray
    skew: np.ndarray
    vix: np.ndarray
    vix3m: np.ndarray
    vxx: np.ndarray
    inverse_vix: np.ndarray
    realised_volatility: np.ndarray
    index_rsi: np.ndarray
    index_macd: np.ndarray
    vix_rsi: np.ndarray
    vix_macd: np.ndarray
    long_implied_variance: np.ndarray
    implied_mean_reversion: np.ndarray
    jump_variance: np.ndarray
    curvature: np.ndarray
    scenario: np.ndarray
    scenario_names: tuple[str, ...]
    next_expiry: dict[str, np.ndarray]
    rate: float | np.ndarray = 0.04
    """Risk-free rate, continuously compounded per year: one number (a simulation) or a per-day
    series ``(n_paths, n_days)`` (replay: the T-bill rate of each day). Day ``d``'s rate discounts
    option prices on that day and is the rate the book's cash earns over that day
    (:meth:`daily_rate`)."""
    carry: float | np.ndarray = 0.025
    """Cost of carry of the index, the rate minus the dividend yield (per year), the ES forward's
    growth ``F = S exp(carry T)``; one number or per day like ``rate`` (:meth:`daily_carry`)."""
    vol_of_implied_variance: float = 0.45
    """Vol-of-variance of ``implied_variance`` under the pricing measure (per sqrt(year)); sets the
    convexity of VIX futures and the volatility of VIX options (``thetagym.market.vix``)."""

    @property
    def n_paths(self) -> int:
        return int(self.index.shape[0])

    @property
    def n_bars(self) -> int:
        return int(self.index.shape[1] - 1)

    @property
    def n_days(self) -> int:
        return int(self.dates.shape[1])

    @property
    def bars_per_year(self) -> float:
        return float(TRADING_DAYS_PER_YEAR * self.bars_per_day)

    def day_of_bar(self, bar: np.ndarray | int) -> np.ndarray:
        """Trading day index of bar ``bar`` (bar 0, the previous close, counts as day 0)."""
        return np.maximum(np.asarray(bar) - 1, 0) // self.bars_per_day

    def close_bar(self, day: np.ndarray | int) -> np.ndarray:
        """Bar index of the close of trading day ``day``."""
        return (np.asarray(day) + 1) * self.bars_per_day

    def time_to_bar(self, bar: np.ndarray, target_bar: np.ndarray) -> np.ndarray:
        """Years of trading time from ``bar`` to ``target_bar`` (never negative)."""
        return np.maximum(np.asarray(target_bar) - np.asarray(bar), 0) / self.bars_per_year

    def surface_at(self, rows: np.ndarray, bars: np.ndarray) -> SurfaceState:
        """The surface of paths ``rows`` at bars ``bars`` with fields shaped ``(len(rows), 1)``."""
        rows = np.asarray(rows)
        return SurfaceState(
            spot_variance=self.implied_variance[rows, bars][:, None],
            long_variance=self.long_implied_variance[rows, bars][:, None],
            mean_reversion=self.implied_mean_reversion[rows][:, None],
            jump_variance=self.jump_variance[rows][:, None],
            skew=self.skew[rows, bars][:, None],
            curvature=self.curvature[rows][:, None],
        )

    def daily_rate(self) -> np.ndarray:
        """The rate of every day, ``(n_paths, n_days)`` (per year; a read-only broadcast view)."""
        return np.broadcast_to(np.asarray(self.rate, dtype=np.float64), self.dates.shape)

    def daily_carry(self) -> np.ndarray:
        """The cost of carry of every day, ``(n_paths, n_days)`` (per year; a read-only view)."""
        return np.broadcast_to(np.asarray(self.carry, dtype=np.float64), self.dates.shape)

    def es_future(self, rows: np.ndarray, bars: np.ndarray, time_to_expiry: np.ndarray) -> np.ndarray:
        """ES future price (points) for maturities ``time_to_expiry`` (years, ``(len(rows), k)``),
        carried at the cost of carry of the day of ``bars``."""
        rows = np.asarray(rows)
        carry = self.daily_carry()[rows, self.day_of_bar(bars)]
        return self.index[rows, bars][:, None] * np.exp(np.reshape(carry, (-1, 1)) * time_to_expiry)

    def take(self, rows: np.ndarray) -> MarketPath:
        """A new batch holding copies of paths ``rows``."""
        rows = np.asarray(rows)
        changes = {name: getattr(self, name)[rows].copy() for name in _ROW_FIELDS}
        changes["next_expiry"] = {k: v[rows].copy() for k, v in self.next_expiry.items()}
        for name in _DAILY_FIELDS:
            if np.ndim(getattr(self, name)) == 2:
                changes[name] = getattr(self, name)[rows].copy()
        return dataclasses.replace(self, **changes)

    def assign(self, rows: np.ndarray, other: MarketPath) -> None:
        """Overwrite paths ``rows`` with the paths of ``other`` (same shape, in order)."""
        if other.index.shape[1:] != self.index.shape[1:] or other.dates.shape[1:] != self.dates.shape[1:]:
            raise ValueError(
                f"path length mismatch: {other.n_bars} bars, {other.n_days} days "
                f"into {self.n_bars} bars, {self.n_days} days"
            )
        if other.scenario_names != self.scenario_names:
            raise ValueError(f"scenario names differ: {other.scenario_names} vs {self.scenario_names}")
        for name in _ROW_FIELDS:
            getattr(self, name)[rows] = getattr(other, name)
        for key, value in other.next_expiry.items():
            self.next_expiry[key][rows] = value
        for name in _DAILY_FIELDS:  # a number stays a number while the paths agree on it
            mine, theirs = getattr(self, name), getattr(other, name)
            if np.ndim(mine) == 0 and np.ndim(theirs) == 0 and float(mine) == float(theirs):
                continue
            if np.ndim(mine) == 0:
                mine = np.full(self.dates.shape, float(mine))
                setattr(self, name, mine)
            mine[rows] = np.broadcast_to(np.asarray(theirs, dtype=np.float64), other.dates.shape)

    def validate(self) -> None:
        """Check shapes and that prices are finite and positive; raise ValueError otherwise."""
        shape = (self.n_paths, self.n_days * self.bars_per_day + 1)
        for name in PER_BAR_FIELDS:
            array = getattr(self, name)
            if array.shape != shape:
                raise ValueError(f"MarketPath.{name} has shape {array.shape}, expected {shape}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"MarketPath.{name} holds NaN or inf")
        for name in ("index", "vix", "vix3m", "vxx", "inverse_vix"):
            if np.any(getattr(self, name) <= 0):
                raise ValueError(f"MarketPath.{name} holds a non-positive price")
        for name in (*PER_PATH_FIELDS, "scenario"):
            if getattr(self, name).shape != (self.n_paths,):
                raise ValueError(f"MarketPath.{name} must have shape ({self.n_paths},)")
        for name in _DAILY_FIELDS:
            value = np.asarray(getattr(self, name))
            if value.ndim not in (0, 2) or (value.ndim == 2 and value.shape != self.dates.shape):
                raise ValueError(
                    f"MarketPath.{name} must be one number or per day {self.dates.shape}, got {value.shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(f"MarketPath.{name} holds NaN or inf")


_ROW_FIELDS = ("dates", *PER_BAR_FIELDS, *PER_PATH_FIELDS, "scenario")
_DAILY_FIELDS = ("rate", "carry")
"""Fields that are one number or a per-day ``(n_paths, n_days)`` series."""


def next_expiry_table(dates: np.ndarray) -> dict[str, np.ndarray]:
    """For a ``(n_paths, n_days)`` array of dates: per schedule, the next expiry day on or after
    each day (an index into the same row), or -1 when the row ends first."""
    dates = np.atleast_2d(dates)
    tables = {name: np.full(dates.shape, -1, dtype=np.int64) for name in EXPIRY_SCHEDULES}
    for row, row_dates in enumerate(dates):
        calendar = ExpiryCalendar.from_dates(row_dates)
        days = np.arange(row_dates.shape[0])
        for name in EXPIRY_SCHEDULES:
            tables[name][row] = calendar.next_expiry(name, days)
    return tables
