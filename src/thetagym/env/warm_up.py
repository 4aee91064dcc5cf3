"""Compile every disk-cached kernel once, in one process.

Numba compiles a kernel on its first call and caches it on disk. Processes that start together on
a cold cache (test workers, evaluation workers) would all compile and write the same cache entries
at the same moment, which numba does not guard against; a parent that calls
:func:`compile_kernels` before starting them leaves them only loading.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.engine import PARALLEL_MIN_ENVS
from thetagym.env.vector import ShortPremiumVectorEnv


def compile_kernels() -> None:
    """Compile, or load from the disk cache, every cached kernel: the pricing and market kernels
    (compiled on import) and the book's and the env's entry points, serial and parallel, by
    resetting, masking and stepping a vector env of one env and one large enough to split over
    threads, and stepping their books alone."""
    for num_envs in (1, 2 * PARALLEL_MIN_ENVS):
        envs = ShortPremiumVectorEnv(num_envs)
        envs.reset(seed=0)
        envs.action_masks()
        hold = np.zeros((num_envs, len(envs.core.action_nvec)), dtype=np.int64)
        envs.step(hold)
        core = envs.core
        assert core.market is not None
        core.book.step(hold, core.market, core.bars)
        core.book.equity()
        envs.close()
