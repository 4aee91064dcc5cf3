"""SPAN-style margin: the 16 scenarios, a hand-checked one-leg book, and the margin call."""

from __future__ import annotations

import numpy as np

from thetagym.book import Book, BookConfig
from thetagym.book.margin import scenario_table
from thetagym.config import build
from thetagym.pricing.black76 import black76_price

from .conftest import flat_market

PUT = {"name": "puts", "kind": "put_wing", "bias": 1, "contracts": 4, "max_contracts": 12}


def test_sixteen_scenarios_follow_span() -> None:
    config = build(BookConfig, {"layers": [PUT]})
    moves, vols, weights = scenario_table(config)
    assert moves.shape == vols.shape == weights.shape == (16,)
    scan = config.margin.scan_range
    np.testing.assert_allclose(
        sorted(set(np.round(moves[:14] / scan, 9))), [-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1], atol=1e-8
    )
    np.testing.assert_allclose(moves[14:], [2 * scan, -2 * scan])
    np.testing.assert_allclose(vols[14:], 1.0)
    np.testing.assert_allclose(weights, [1.0] * 14 + [0.35] * 2)
    assert set(np.round(vols[:14], 6)) == {0.75, 1.25}


def test_one_short_put_by_hand() -> None:
    market = flat_market()
    config = build(BookConfig, {"layers": [PUT]})
    book = Book(config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    strike = book.strike[0, 0]
    tau = book.marks.time_to_expiry[0, 0]
    sigma = book.marks.volatility[0, 0]
    base = black76_price(5000.0, strike, tau, sigma, False)
    worst = 0.0
    for move, vol, weight in zip(*scenario_table(config), strict=True):
        scenario = black76_price(5000.0 * (1 + move), strike, tau, sigma * vol, False)
        worst = max(worst, weight * 4 * 50 * (scenario - base))  # short 4 puts lose when the put gains
    expected = max(worst, 4 * config.margin.short_option_minimum)
    np.testing.assert_allclose(book.margin_requirement[0], expected, rtol=1e-9)
    assert expected > 4 * config.margin.short_option_minimum  # the scan risk binds, not the minimum


def test_equity_below_margin_liquidates() -> None:
    market = flat_market()
    config = build(BookConfig, {"capital": 30_000.0, "layers": [{**PUT, "target_delta": 0.45}]})
    book = Book(config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    assert book.margin_requirement[0] > book.equity()[0]
    result = book.step(np.zeros((1, 2), dtype=int), market, np.array([0]))
    assert result.margin_call[0]
    assert np.all(book.quantity == 0)
    assert result.attribution[0, :, 4].sum() < 0  # liquidated at bid/ask
    assert result.margin_requirement[0] == 0
