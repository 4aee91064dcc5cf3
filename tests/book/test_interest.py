"""Interest on cash and collateral: at each day's close the cash balance (futures marked to market)
earns the day's rate over 1/252 of a year; equity includes it, the attribution books it, and the
step reports the rate credited (for excess returns)."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.book import ATTRIBUTION, Book, BookConfig, LayerAction
from thetagym.book.attribution import INTEREST
from thetagym.config import build
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
from thetagym.market.path import MarketPath

from .conftest import flat_market

CAPITAL = 1_000_000.0
HOLD = np.zeros((1, 2), dtype=np.int64)


def put_book(open_at_reset: bool = False, **layer: object) -> Book:
    config = {"name": "puts", "kind": "put_wing", "bias": 1, "contracts": 4, "max_contracts": 12}
    config.update(open_at_reset=open_at_reset, **layer)
    return Book(build(BookConfig, {"capital": CAPITAL, "layers": [config]}), 1)


def market_at(rate: float | np.ndarray, dividend_yield: float = 0.0, bars_per_day: int = 2) -> MarketPath:
    market = flat_market(bars_per_day=bars_per_day)
    market.rate = rate
    market.carry = np.asarray(rate) - dividend_yield if np.ndim(rate) else float(rate) - dividend_yield
    return market


def step(book: Book, market: MarketPath, bar: int, action: int = 0):  # type: ignore[no-untyped-def]
    actions = HOLD.copy()
    actions[0, 0] = action
    return book.step(actions, market, np.array([bar]))


def test_cash_earns_rate_over_252_at_each_close_and_nothing_in_between() -> None:
    market = market_at(0.04)
    book = put_book()
    book.reset(np.array([0]), market, np.array([0]))
    cash = CAPITAL
    for bar in range(6):  # two bars a day: bars 2, 4, 6 are closes
        result = step(book, market, bar)
        closes = (bar + 1) % 2 == 0
        expected = cash * 0.04 / 252.0 if closes else 0.0  # hand-computed: 1e6 * 0.04 / 252 = 158.73
        assert result.interest[0] == pytest.approx(expected, rel=1e-12)
        cash += expected
        assert result.cash[0] == pytest.approx(cash, rel=1e-12)
        assert result.equity[0] == pytest.approx(cash, rel=1e-12)  # equity includes the interest
        assert result.cash_rate[0] == 0.04
    assert cash - CAPITAL == pytest.approx(158.730158730 + 158.755355 + 158.780555, abs=1e-3)


def test_premium_received_is_collateral_that_earns_interest() -> None:
    market = market_at(0.04)
    book = put_book()
    book.reset(np.array([0]), market, np.array([0]))
    opened = step(book, market, 0, LayerAction.OPEN)  # sells 4 puts at bar 0; bar 1 is not a close
    assert opened.interest[0] == 0.0
    premium_cash = float(book.cash[0])
    assert premium_cash > CAPITAL  # the premium, less costs, adds to cash
    closed = step(book, market, 1)
    assert closed.interest[0] == pytest.approx(premium_cash * 0.04 / TRADING_DAYS_PER_YEAR, rel=1e-12)
    assert closed.attribution[0, 0, INTEREST] == closed.interest[0]
    assert closed.attribution[0].sum() == pytest.approx(closed.pnl[0], abs=1e-6)


def test_a_zero_rate_credits_nothing() -> None:
    market = market_at(0.0)
    book = put_book(open_at_reset=True)
    book.reset(np.array([0]), market, np.array([0]))
    for bar in range(8):
        result = step(book, market, bar)
        assert result.interest[0] == 0.0
        assert result.cash_rate[0] == 0.0
        assert np.all(result.attribution[:, :, INTEREST] == 0.0)


def test_the_rate_of_each_day_is_the_one_credited() -> None:
    rates = np.linspace(0.01, 0.08, 60)[None, :]  # a per-day series, as replay gives
    market = market_at(rates)
    book = put_book()
    book.reset(np.array([0]), market, np.array([0]))
    cash = CAPITAL
    for day in range(5):
        step(book, market, 2 * day)
        result = step(book, market, 2 * day + 1)  # ends at the close of `day`
        assert result.cash_rate[0] == rates[0, day]
        assert result.interest[0] == pytest.approx(cash * rates[0, day] / 252.0, rel=1e-12)
        cash += result.interest[0]


def test_options_are_discounted_at_the_rate_of_the_day() -> None:
    from thetagym.pricing.black76 import black76_price

    market = market_at(0.05, dividend_yield=0.02)
    book = put_book(open_at_reset=True)
    book.reset(np.array([0]), market, np.array([0]))
    marks = book.marks
    tau = float(marks.time_to_expiry[0, 0])
    forward = float(marks.underlying[0, 0])
    carried = 5000.0 * np.exp(0.03 * (book.underlying_bar[0, 0] - 0) / (252 * 2))
    assert forward == pytest.approx(carried, rel=1e-12)  # F = S exp((r - q) T) to the quarterly future
    price = black76_price(forward, book.strike[0, 0], tau, float(marks.volatility[0, 0]), False, rate=0.05)
    assert float(marks.price[0, 0]) == pytest.approx(float(price), rel=1e-10)


def test_futures_are_not_financed_only_their_gains_are_cash() -> None:
    """A long future held at notional would otherwise pay interest on -F x 50 of 'cash'."""
    market = market_at(0.04)
    config = {"name": "es", "kind": "futures", "bias": 1, "contracts": 2, "max_contracts": 4}
    book = Book(build(BookConfig, {"capital": CAPITAL, "layers": [config]}), 1)
    book.reset(np.array([0]), market, np.array([0]))
    assert book.cash[0] < CAPITAL - 400_000.0  # the book paid the futures' price in cash
    step(book, market, 0)
    result = step(book, market, 1)
    balance = result.equity[0] - result.interest[0]  # cash plus the futures' value: about the capital
    assert balance == pytest.approx(CAPITAL, rel=1e-3)
    assert result.interest[0] == pytest.approx(balance * 0.04 / 252.0, rel=1e-12)


def test_attribution_has_an_interest_column_and_adds_up(default_config: BookConfig) -> None:
    from thetagym.market.params import MarketConfig
    from thetagym.market.simulator import simulate

    market = simulate(MarketConfig(), "calm", 30, seeds=[5, 6])
    assert market.rate == 0.04
    book = Book(default_config, 2)
    book.reset(np.arange(2), market, np.zeros(2, dtype=np.int64))
    credited = np.zeros(2)
    for bar in range(3 * market.bars_per_day):
        result = book.step(np.zeros((2, book.n_layers + 1), dtype=np.int64), market, np.full(2, bar))
        assert "interest" in ATTRIBUTION
        np.testing.assert_allclose(result.attribution.sum(axis=(1, 2)), result.pnl, atol=1e-6)
        np.testing.assert_array_equal(result.attribution[:, 0, INTEREST], result.interest)
        credited += result.interest
    assert np.all(credited > 0)
