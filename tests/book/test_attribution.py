"""The attribution columns add up to the P&L, per step and per layer."""

from __future__ import annotations

import numpy as np

from thetagym.book import ATTRIBUTION, Book, BookConfig
from thetagym.market.path import MarketPath

from .conftest import flat_market


def test_columns_add_up_to_pnl(default_config: BookConfig, calm_market: MarketPath) -> None:
    book = Book(default_config, calm_market.n_paths)
    rows = np.arange(book.num_envs)
    book.reset(rows, calm_market, np.zeros_like(rows))
    rng = np.random.default_rng(3)
    for bar in range(60):
        bars = np.full(book.num_envs, bar)
        masks = book.action_masks(calm_market, bars)
        actions = _random_legal(rng, masks, book.action_nvec)
        result = book.step(actions, calm_market, bars)
        assert result.attribution.shape == (book.num_envs, len(default_config.layers), len(ATTRIBUTION))
        np.testing.assert_allclose(result.attribution.sum(axis=(1, 2)), result.pnl, atol=1e-6)


def test_flat_market_pnl_is_theta(default_config: BookConfig) -> None:
    market = flat_market()
    book = Book(default_config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    result = book.step(np.zeros((1, 6), dtype=int), market, np.array([0]))
    theta = result.attribution[0, :, 0].sum()
    assert theta > 0  # short options earn decay
    np.testing.assert_allclose(theta, result.theta_accrued[0])
    assert abs(result.attribution[0, :, 1:4].sum()) < 1e-9  # nothing moved
    assert abs(result.pnl[0] - theta) < 0.25 * theta  # second-order residual only


def _random_legal(rng: np.random.Generator, masks: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    parts = np.split(masks, np.cumsum(nvec)[:-1], axis=1)
    choices = []
    for part in parts:
        weights = part * rng.random(part.shape)
        choices.append(np.argmax(weights, axis=1))
    return np.stack(choices, axis=1)
