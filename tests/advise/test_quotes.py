"""Option quotes calibrate the surface: quotes made by a known surface give that surface back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tests.advise.conftest import EXAMPLES, LARGE_ENV, make_advisor
from thetagym.advise import CsvBroker
from thetagym.advise.inputs import OptionQuote, Source
from thetagym.advise.quotes import calibrate_surface, implied_from_price
from thetagym.advise.snapshot import bar_years, snapshot_state
from thetagym.env.config import load_env_config
from thetagym.market.calendar import ExpiryCalendar, trading_days
from thetagym.market.surface import SurfaceState, implied_volatility
from thetagym.pricing.black76 import black76_price

DATE = dt.date(2026, 12, 3)
BAR, BARS_PER_DAY = 2, 4


def test_implied_volatility_inverts_black76() -> None:
    vols = np.array([0.08, 0.2, 0.65, 1.4])
    forward, strike, years = np.full(4, 6000.0), np.array([5400.0, 6000.0, 6300.0, 5000.0]), np.full(4, 0.1)
    is_call = np.array([False, True, True, False])
    prices = black76_price(forward, strike, years, vols, is_call, 0.04)
    assert implied_from_price(prices, forward, strike, years, is_call, 0.04) == pytest.approx(vols, rel=1e-9)
    assert np.isnan(
        implied_from_price(np.array([1e6]), forward[:1], strike[:1], years[:1], is_call[:1], 0.04)
    )[0]


@pytest.mark.parametrize("as_prices", [False, True])
def test_quotes_of_a_known_surface_give_it_back(as_prices: bool) -> None:
    market = load_env_config(LARGE_ENV).market
    snapshot = CsvBroker(Path(), EXAMPLES / "market_snapshot.csv").market()
    state = snapshot_state(snapshot, market, 0.25)
    truth = dataclasses.replace(state, implied_variance=0.05, long_implied_variance=0.03, skew=0.4)
    calendar = ExpiryCalendar.from_dates(trading_days(np.datetime64(DATE, "D"), 200))
    quotes = []
    for day in calendar.weekly[:3].tolist() + calendar.monthly[1:3].tolist():
        years = bar_years((day + 1) * BARS_PER_DAY - BAR, BARS_PER_DAY)
        quarter = int(calendar.next_expiry("quarterly", day))
        forward = state.index * np.exp(
            state.carry * bar_years((quarter + 1) * BARS_PER_DAY - BAR, BARS_PER_DAY)
        )
        for strike in (0.9 * forward, 0.97 * forward, forward, 1.04 * forward):
            surface = SurfaceState(
                *map(
                    np.asarray,
                    (0.05, 0.03, state.implied_mean_reversion, state.jump_variance, 0.4, state.curvature),
                )
            )
            vol = float(implied_volatility(surface, np.asarray(np.log(strike / forward)), np.asarray(years)))
            is_call = strike >= forward
            price = float(black76_price(forward, strike, years, vol, is_call, state.rate))
            quotes.append(
                OptionQuote(
                    expiry=calendar.dates[day].astype(dt.date),
                    strike=strike,
                    is_call=is_call,
                    bid=price * 0.99 if as_prices else None,
                    ask=price * 1.01 if as_prices else None,
                    implied_volatility=None if as_prices else vol,
                    source=Source("quotes.csv", len(quotes) + 2),
                )
            )
    fitted, note = calibrate_surface(state, tuple(quotes), calendar, BAR, BARS_PER_DAY)
    assert (fitted.implied_variance, fitted.long_implied_variance, fitted.skew) == pytest.approx(
        (truth.implied_variance, truth.long_implied_variance, truth.skew), rel=1e-5
    )
    assert note.startswith(f"surface calibrated to {len(quotes)} option quotes: RMS error 0.00 vol points")


def test_the_example_quotes_reach_the_advice(tmp_path: Path) -> None:
    broker = CsvBroker(
        EXAMPLES / "book_positions.csv", EXAMPLES / "market_snapshot.csv", EXAMPLES / "option_quotes.csv"
    )
    advice = make_advisor(env=LARGE_ENV).advise(broker)
    assert len(advice.notes) == 1 and "12 option quotes" in advice.notes[0]


def test_a_quote_no_volatility_reaches_is_refused(tmp_path: Path) -> None:
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("expiry,strike,right,bid,ask\n2026-12-18,6500,put,1.0,1.2\n", encoding="utf-8")
    broker = CsvBroker(EXAMPLES / "book_positions.csv", EXAMPLES / "market_snapshot.csv", quotes)
    with pytest.raises(
        ValueError, match=r"quotes.csv line 2 column 'bid': 1.1 is a mid price no volatility gives"
    ):
        make_advisor(env=LARGE_ENV).advise(broker)
