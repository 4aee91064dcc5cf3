"""Trading calendar and expiry schedules (weekly, monthly, quarterly) and the expiry tables."""

from __future__ import annotations

import numpy as np

from thetagym.market.calendar import ExpiryCalendar, third_fridays, trading_days
from thetagym.market.path import next_expiry_table


def test_trading_days_skip_weekends() -> None:
    days = trading_days("2024-03-08", 3).astype(str).tolist()
    assert days == ["2024-03-08", "2024-03-11", "2024-03-12"]
    assert trading_days("2024-03-09", 1).astype(str).tolist() == ["2024-03-11"]


def test_third_fridays_of_2024() -> None:
    dates = trading_days("2024-01-02", 252)
    fridays = third_fridays(dates).astype(str).tolist()
    assert fridays[:3] == ["2024-01-19", "2024-02-16", "2024-03-15"]


def test_schedules_nest_quarterly_in_monthly_in_weekly() -> None:
    calendar = ExpiryCalendar.from_dates(trading_days("2024-01-02", 260))
    assert set(calendar.quarterly) <= set(calendar.monthly) <= set(calendar.weekly)
    months = calendar.dates[calendar.quarterly].astype("datetime64[M]").astype(int) % 12 + 1
    assert months.tolist() == [3, 6, 9, 12]
    assert len(calendar.monthly) == 12


def test_next_expiry_is_on_or_after_the_day_and_minus_one_past_the_end() -> None:
    dates = trading_days("2024-01-02", 30)
    table = next_expiry_table(dates[None, :])
    weekly = table["weekly"][0]
    days = np.arange(30)
    found = weekly >= 0
    assert np.all(weekly[found] >= days[found])
    assert weekly[-1] == -1 or dates[weekly[-1]] >= dates[-1]
    assert table["quarterly"][0, 0] == -1  # no March expiry within 30 days from Jan 2
    assert dates[table["monthly"][0, 0]].astype(str) == "2024-01-19"


def test_min_days_skips_near_expiries() -> None:
    calendar = ExpiryCalendar.from_dates(trading_days("2024-01-02", 60))
    first = calendar.next_expiry("weekly", 0)
    later = calendar.next_expiry("weekly", 0, min_days=int(first) + 1)
    assert later > first
