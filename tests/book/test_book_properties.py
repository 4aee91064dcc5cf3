"""Seeded random actions over every scenario: finite numbers, attribution adds up, caps hold,
equity is cash plus mark-to-market, and unmasked agents are blocked rather than obeyed."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.book import Book, BookConfig
from thetagym.market.params import MarketConfig
from thetagym.market.scenarios import ScenarioBook
from thetagym.market.simulator import simulate

from .conftest import CONFIGS

SCENARIOS = ScenarioBook.builtin().names


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("masked", [True, False])
def test_random_actions_keep_the_invariants(default_config: BookConfig, scenario: str, masked: bool) -> None:
    market = simulate(MarketConfig(), scenario, 45, seeds=[11, 12, 13])
    _run(default_config, market, masked, seed=hash((scenario, masked)) % 1000, steps=80)


def test_ladder_and_large_books() -> None:
    from thetagym.config import load

    market = simulate(MarketConfig(), "whipsaw", 45, seeds=[5, 6])
    for name in ("alvh_condor_ladder.yaml", "large_book.yaml"):
        _run(load(BookConfig, CONFIGS / name), market, masked=True, seed=1, steps=40)


def _run(config: BookConfig, market, masked: bool, seed: int, steps: int) -> None:
    n = market.n_paths
    book = Book(config, n)
    book.reset(np.arange(n), market, np.zeros(n, dtype=int))
    rng = np.random.default_rng(seed)
    caps = np.array([layer.max_contracts for layer in config.layers])
    offsets = np.cumsum(book.action_nvec)[:-1]
    for bar in range(min(steps, market.n_bars - 1)):
        bars = np.full(n, bar)
        masks = book.action_masks(market, bars)
        if masked:
            weights = masks * rng.random(masks.shape)
            actions = np.stack([part.argmax(axis=1) for part in np.split(weights, offsets, axis=1)], axis=1)
        else:
            actions = rng.integers(0, book.action_nvec, size=(n, book.action_nvec.size))
        result = book.step(actions, market, bars)
        for name in ("equity", "cash", "pnl", "attribution", "margin_requirement", "theta_accrued"):
            assert np.all(np.isfinite(getattr(result, name))), name
        np.testing.assert_allclose(result.attribution.sum(axis=(1, 2)), result.pnl, atol=1e-6)
        mark_to_market = (book.quantity * book.marks.price) @ book.layout.multiplier
        np.testing.assert_allclose(result.equity, book.cash + mark_to_market, rtol=1e-12)
        assert np.all(result.layer_contracts <= caps)
        assert np.all(result.gross_contracts <= config.guard.book_max_contracts)
        if masked:
            assert np.all(result.blocked == 0)
        chosen_legal = np.take_along_axis(masks, (actions + np.r_[0, offsets])[:, :], axis=1)
        np.testing.assert_array_equal(result.blocked, (~chosen_legal).sum(axis=1))
