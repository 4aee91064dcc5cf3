"""Trading calendar and expiry schedules of ES futures and options on them.

Trading days are business days (no exchange holidays). A bar index counts bar ends from the start
of a path: bar ``k`` ends on trading day ``(k - 1) // bars_per_day``; the close of trading day
``d`` is bar ``(d + 1) * bars_per_day``. Expiries settle at the close of their day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.measures import TRADING_DAYS_PER_YEAR as TRADING_DAYS_PER_YEAR

QUARTERLY_MONTHS = (3, 6, 9, 12)


def trading_days(start: np.datetime64 | str, n_days: int) -> np.ndarray:
    """The ``n_days`` business days from ``start`` on (``start`` itself if it is one).

    >>> trading_days("2024-01-05", 3).astype(str).tolist()
    ['2024-01-05', '2024-01-08', '2024-01-09']
    """
    first = np.busday_offset(np.asarray(start, dtype="datetime64[D]"), 0, roll="forward")
    return np.busday_offset(first, np.arange(n_days), roll="forward")


def third_fridays(dates: np.ndarray) -> np.ndarray:
    """The third Friday of each month that ``dates`` touches, sorted, as datetime64[D]."""
    months = np.unique(dates.astype("datetime64[M]"))
    first_days = months.astype("datetime64[D]")
    return np.busday_offset(first_days, 2, roll="forward", weekmask="Fri")


@dataclass(frozen=True)
class ExpiryCalendar:
    """Expiry days of one path's date range, as trading-day indices into ``dates``.

    ``weekly`` holds every Friday, ``monthly`` the third Friday of each month, ``quarterly`` the
    third Friday of March, June, September and December (the ES futures and quarterly options).
    A Friday that is no trading day of the range is left out.
    """

    dates: np.ndarray
    weekly: np.ndarray
    monthly: np.ndarray
    quarterly: np.ndarray

    @classmethod
    def from_dates(cls, dates: np.ndarray) -> ExpiryCalendar:
        """Build the calendar of a sorted array of trading dates (datetime64[D]).

        >>> calendar = ExpiryCalendar.from_dates(trading_days("2024-03-01", 30))
        >>> calendar.dates[calendar.quarterly].astype(str).tolist()
        ['2024-03-15']
        >>> len(calendar.weekly), len(calendar.monthly)
        (6, 1)
        """
        dates = np.asarray(dates, dtype="datetime64[D]")
        weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
        weekly = np.flatnonzero(weekday == 4)
        fridays = third_fridays(dates)
        monthly = np.flatnonzero(np.isin(dates, fridays))
        month_of_year = dates.astype("datetime64[M]").astype(int) % 12 + 1
        quarterly = monthly[np.isin(month_of_year[monthly], QUARTERLY_MONTHS)]
        return cls(dates=dates, weekly=weekly, monthly=monthly, quarterly=quarterly)

    def next_expiry(self, schedule: str, day: int | np.ndarray, min_days: int = 0) -> np.ndarray:
        """Index of the first expiry of ``schedule`` at least ``min_days`` after ``day``, or -1.

        ``schedule`` is "weekly", "monthly" or "quarterly".
        """
        days = getattr(self, schedule)
        position = np.searchsorted(days, np.asarray(day) + min_days, side="left")
        found = position < len(days)
        return np.where(found, days[np.minimum(position, len(days) - 1)] if len(days) else -1, -1)
