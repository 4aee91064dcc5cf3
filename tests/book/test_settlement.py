"""Expiry settlement, assignment into the ES future, accepted assignment and the futures roll."""

from __future__ import annotations

import numpy as np

from thetagym.book import Book, BookConfig, LayerAction
from thetagym.config import build

from .conftest import flat_market

PUT_WING = {"name": "puts", "kind": "put_wing", "bias": 1, "contracts": 4, "max_contracts": 12}


def put_book(**layer: object) -> Book:
    return Book(build(BookConfig, {"layers": [{**PUT_WING, **layer}]}), 1)


def restrike(book: Book, strike: float, expiry_bar: int) -> None:
    """Move the put to ``strike`` / ``expiry_bar`` and force a re-mark."""
    book.strike[0, 0] = strike
    book.expiry_bar[0, 0] = expiry_bar
    book.mark_bar[:] = -1


def test_in_the_money_put_is_assigned_into_the_future_at_the_strike() -> None:
    market = flat_market()
    book = put_book()
    book.reset(np.array([0]), market, np.array([0]))
    restrike(book, 5300.0, 2)
    hold = np.zeros((1, 2), dtype=int)
    book.action_masks(market, np.array([1]))
    before = book.equity()
    result = book.step(hold, market, np.array([1]))
    assigned = book.layout.extra_slot[0]
    assert book.quantity[0, 0] == 0
    assert book.quantity[0, assigned] == 4  # short puts deliver long futures
    assert book.entry_price[0, assigned] == 5300.0
    assert result.assignments[0] == 1
    # equity after = capital-side cash + (F - K) * 50 * 4: the cash difference equals intrinsic.
    np.testing.assert_allclose(result.equity, before + result.pnl)
    np.testing.assert_allclose(book.equity(), before + result.pnl)
    np.testing.assert_allclose(book.quantity[0, assigned] * (5000.0 - 5300.0) * 50, -60_000.0)


def test_out_of_the_money_put_expires_worthless() -> None:
    market = flat_market()
    book = put_book()
    book.reset(np.array([0]), market, np.array([0]))
    restrike(book, 4500.0, 2)
    cash = book.cash.copy()
    result = book.step(np.zeros((1, 2), dtype=int), market, np.array([1]))
    assert np.all(book.quantity[0] == 0)
    np.testing.assert_allclose(book.cash, cash)
    assert result.assignments[0] == 0


def test_accept_assignment_needs_a_deep_in_the_money_short_option() -> None:
    market = flat_market()
    book = put_book()
    book.reset(np.array([0]), market, np.array([0]))
    masks = book.action_masks(market, np.array([0]))
    assert not masks[0, LayerAction.ACCEPT_ASSIGNMENT]
    restrike(book, 5600.0, 40)
    masks = book.action_masks(market, np.array([0]))
    assert masks[0, LayerAction.ACCEPT_ASSIGNMENT]
    actions = np.array([[LayerAction.ACCEPT_ASSIGNMENT, 0]])
    result = book.step(actions, market, np.array([0]))
    assert result.assignments[0] == 1 and book.quantity[0, 0] == 0
    assert book.quantity[0, book.layout.extra_slot[0]] == 4
    assert abs(result.pnl[0]) < 1.0  # converted at the mark in a flat market


def test_futures_roll_to_the_next_quarter_before_expiry() -> None:
    market = flat_market(n_days=60)  # from 2024-03-01: the March contract expires on day 10
    config = build(BookConfig, {"layers": [{"name": "fut", "kind": "futures", "bias": 1, "contracts": 2}]})
    book = Book(config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    march = market.close_bar(10)
    assert book.expiry_bar[0, 0] == march
    hold = np.zeros((1, 2), dtype=int)
    total_costs = 0.0
    for bar in range(march):
        result = book.step(hold, market, np.array([bar]))
        total_costs += result.attribution[0, :, 4].sum()
    assert book.expiry_bar[0, 0] > march
    assert book.quantity[0, 0] == 2
    assert total_costs < 0  # rolled at bid/ask plus fees
