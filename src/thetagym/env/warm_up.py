"""Compile the disk-cached kernels once, in one process.

Numba compiles a kernel on its first call and caches it on disk. Processes that start together on
a cold cache (test workers, evaluation workers) would all compile and write the same cache entries
at the same moment, which numba does not guard against; a parent that calls
:func:`compile_kernels` before starting them leaves them only loading.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.engine import PARALLEL_MIN_ENVS
from thetagym.env.observation import MARKET_FEATURES
from thetagym.env.vector import ShortPremiumVectorEnv


def compile_kernels(parallel: bool = True, book: bool = True) -> None:
    """Compile, or load from the disk cache, the cached kernels: the pricing and market kernels
    (compiled on import), the env's serial entry point and the book's aggregates (what one env
    needs) by resetting, masking and stepping a vector env of one env; with ``parallel``, the
    env's parallel entry point too (a vector env large enough to split over threads); with
    ``book``, the book's own entry points (a :class:`~thetagym.book.Book` stepped alone) and the
    observation of a view made outside the env."""
    for num_envs in (1, 2 * PARALLEL_MIN_ENVS) if parallel else (1,):
        envs = ShortPremiumVectorEnv(num_envs)
        envs.reset(seed=0)
        envs.action_masks()
        hold = np.zeros((num_envs, len(envs.core.action_nvec)), dtype=np.int64)
        envs.step(hold)
        core = envs.core
        assert core.market is not None
        core.book.equity()
        if book:
            core.book.action_masks(core.market, core.bars)
            core.book.step(hold, core.market, core.bars)
            core.book.reset(np.arange(num_envs), core.market, np.zeros(num_envs, dtype=np.int64))
            features = np.zeros((num_envs, 1, len(MARKET_FEATURES)), dtype=np.float32)
            drawdown, bars = np.zeros(num_envs), np.zeros(num_envs, dtype=np.int64)
            core.observations.build_at(core.book.view(), drawdown, core.market.index, features, bars)
        envs.close()
