"""The compiled step: parallel chunks equal one thread, envs are independent of their batch, and
the attribution of a futures roll reads the contract held over the step."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from thetagym.book import Book, BookConfig, LayerAction, engine
from thetagym.config import build
from thetagym.market.path import MarketPath

from .conftest import flat_market


def _random_steps(book: Book, market: MarketPath, seed: int, n_steps: int) -> list[object]:
    rng = np.random.default_rng(seed)
    rows = np.arange(book.num_envs)
    book.reset(rows, market, np.zeros_like(rows))
    results = []
    for bar in range(n_steps):
        results.append(book.action_masks(market, np.full(book.num_envs, bar)))
        actions = rng.integers(0, book.action_nvec, size=(book.num_envs, len(book.action_nvec)))
        actions *= rng.random(actions.shape) < 0.2
        results.append(book.step(actions, market, np.full(book.num_envs, bar)))
    return results


def test_parallel_chunks_step_and_mask_exactly_as_one_thread(
    default_config: BookConfig, calm_market: MarketPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = calm_market.take(np.arange(40) % calm_market.n_paths)
    monkeypatch.setattr(engine, "PARALLEL_MIN_ENVS", 10**6)
    serial = _random_steps(Book(default_config, 40), market, seed=5, n_steps=30)
    monkeypatch.setattr(engine, "PARALLEL_MIN_ENVS", 1)
    parallel = _random_steps(Book(default_config, 40), market, seed=5, n_steps=30)
    for one, other in zip(serial, parallel, strict=True):
        if isinstance(one, np.ndarray):  # action masks
            np.testing.assert_array_equal(one, other)
            continue
        for field in dataclasses.fields(one):  # type: ignore[arg-type]
            np.testing.assert_array_equal(getattr(one, field.name), getattr(other, field.name), field.name)


def test_an_env_steps_the_same_alone_as_in_a_batch(
    default_config: BookConfig, calm_market: MarketPath
) -> None:
    batch = _random_steps(Book(default_config, 3), calm_market, seed=8, n_steps=40)[1::2]
    rng = np.random.default_rng(8)
    alone = Book(default_config, 1)
    market = calm_market.take(np.array([1]))
    alone.reset(np.array([0]), market, np.array([0]))
    for bar, batch_result in enumerate(batch):
        actions = rng.integers(0, alone.action_nvec, size=(3, len(alone.action_nvec)))
        actions *= rng.random(actions.shape) < 0.2
        result = alone.step(actions[1:2], market, np.array([bar]))
        np.testing.assert_array_equal(result.equity, batch_result.equity[1:2])  # type: ignore[attr-defined]
        np.testing.assert_array_equal(result.attribution, batch_result.attribution[1:2])  # type: ignore[attr-defined]


def test_futures_roll_is_attributed_on_the_contract_held_over_the_step() -> None:
    """Env 0 rolls its futures while env 1 (flat) does not: the futures layer's P&L over the roll
    step is its delta times the move of the expiring contract, plus the roll's costs."""
    market = flat_market(n_paths=2, n_days=60)  # from 2024-03-01: the March contract expires on day 10
    market.index[:] = 5000.0 + 2.0 * np.arange(market.index.shape[1])  # a steady rise, no carry
    config = build(BookConfig, {"layers": [{"name": "fut", "kind": "futures", "bias": 1, "contracts": 2}]})
    book = Book(config, 2)
    book.reset(np.arange(2), market, np.zeros(2, dtype=int))
    close_env_1 = np.array([[0, 0], [LayerAction.CLOSE, 0]])
    book.step(close_env_1, market, np.array([0, 0]))
    hold = np.zeros((2, 2), dtype=int)
    march = int(book.expiry_bar[0, 0])
    for bar in range(1, march):
        result = book.step(hold, market, np.full(2, bar))
        futures = result.attribution[0, 0]
        assert futures[1] == pytest.approx(2 * 50 * 2.0)  # delta: 2 contracts x $50 x 2 points
        assert abs(futures[6]) < 1e-6  # no residual on a linear leg
        np.testing.assert_allclose(futures.sum(), result.pnl[0], atol=1e-6)
        if book.expiry_bar[0, 0] != march:
            assert futures[4] < 0  # the roll's costs
            break
    else:
        pytest.fail("the futures did not roll")


def test_cached_kernels_are_dropped_when_a_kernel_source_changes(tmp_path: Path) -> None:
    from thetagym.book.compiled.jit import drop_stale_cache

    cached = [tmp_path / "step._step-250.py311.nbi", tmp_path / "step._step-250.py311.1.nbc"]
    for path in cached:
        path.write_bytes(b"compiled")
    (tmp_path / "kernel-sources.sha256").write_text("the digest of older sources")
    assert drop_stale_cache(tmp_path)
    assert not any(path.exists() for path in cached)
    for path in cached:
        path.write_bytes(b"compiled again")
    assert not drop_stale_cache(tmp_path)  # same sources: the new cache stays
    assert all(path.exists() for path in cached)


def test_step_results_and_views_hold_every_field(default_config: BookConfig, calm_market: MarketPath) -> None:
    book = Book(default_config, 3)
    result = _random_steps(book, calm_market, seed=2, n_steps=2)[-1]
    for record in (result, book.view()):
        names = {field.name for field in dataclasses.fields(record)}  # type: ignore[arg-type]
        assert set(vars(record)) == names
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.equity = None  # type: ignore[misc,union-attr]
