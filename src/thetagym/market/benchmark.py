"""Speed of the market simulator: simulated path-bars per second for batches of paths."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from thetagym.market.params import MarketConfig
from thetagym.market.scenarios import DEFAULT_MIX
from thetagym.market.simulator import simulate


def benchmark_market(
    path_counts: Sequence[int] = (1, 256), n_days: int = 252, repeat_seconds: float = 1.0
) -> dict[str, float]:
    """Path-bars per second of :func:`simulate` on the default mix, default config.

    For each batch size ``n`` in ``path_counts`` the simulation of ``n`` paths of ``n_days`` days
    is repeated for about ``repeat_seconds`` (at least twice, after one warm-up run). Keys:
    ``"paths_{n}_bars_per_second"`` (path-bars simulated per second, a path-bar being one bar of
    one path with every series of the :class:`MarketPath` derived) and
    ``"paths_{n}_seconds_per_call"``.

    >>> result = benchmark_market(path_counts=(2,), n_days=5, repeat_seconds=0.01)
    >>> sorted(result)
    ['paths_2_bars_per_second', 'paths_2_seconds_per_call']
    """
    config = MarketConfig()
    results: dict[str, float] = {}
    for n_paths in path_counts:
        seeds = np.arange(n_paths)
        simulate(config, DEFAULT_MIX, n_days, seeds)
        calls = 0
        start = time.perf_counter()
        elapsed = 0.0
        while calls < 2 or elapsed < repeat_seconds:
            simulate(config, DEFAULT_MIX, n_days, seeds + calls)
            calls += 1
            elapsed = time.perf_counter() - start
        per_call = elapsed / calls
        results[f"paths_{n_paths}_bars_per_second"] = n_paths * n_days * config.bars_per_day / per_call
        results[f"paths_{n_paths}_seconds_per_call"] = per_call
    return results
