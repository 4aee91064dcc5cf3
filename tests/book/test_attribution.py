"""The attribution columns add up to the P&L, per step and per layer."""

from __future__ import annotations

import numpy as np

from thetagym.book import ATTRIBUTION, Book, BookConfig
from thetagym.market.params import MarketConfig
from thetagym.market.path import MarketPath
from thetagym.market.simulator import simulate

from .conftest import flat_market

RESIDUAL, ASSIGNMENT = ATTRIBUTION.index("residual"), ATTRIBUTION.index("assignment")


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


def test_assignment_column_holds_what_an_assigned_legs_expansion_misses(default_config: BookConfig) -> None:
    """Short options left to expire in a falling market are assigned into the future; on those
    steps the ``assignment`` column is filled and the residual is as small a share of the P&L as
    on other steps (the move of an expiring option to its intrinsic value is not a residual)."""
    market = simulate(MarketConfig(), "trend_down", 90, seeds=list(range(24)))
    book = Book(default_config, market.n_paths)
    rows = np.arange(book.num_envs)
    book.reset(rows, market, np.zeros_like(rows))
    hold = np.zeros((book.num_envs, book.n_layers + 1), dtype=np.int64)
    residual, assignment, pnl, assigned = [], [], [], []
    for bar in range(market.n_bars - 1):
        result = book.step(hold, market, np.full(book.num_envs, bar))
        np.testing.assert_allclose(result.attribution.sum(axis=(1, 2)), result.pnl, atol=1e-6)
        residual.append(np.abs(result.attribution[..., RESIDUAL]).sum(axis=1))
        assignment.append(result.attribution[..., ASSIGNMENT].sum(axis=1))
        pnl.append(np.abs(result.pnl))
        assigned.append(result.assignments > 0)
    on = np.concatenate(assigned)
    residual_share = np.concatenate(residual) / np.maximum(np.concatenate(pnl), 1.0)
    assert on.sum() >= 3
    assert np.all(np.concatenate(assignment)[~on] == 0.0)
    assert np.count_nonzero(np.concatenate(assignment)[on]) == on.sum()
    assert residual_share[on].mean() <= 1.5 * residual_share[~on].mean()
