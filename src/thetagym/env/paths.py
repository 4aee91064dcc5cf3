"""Where an env's market paths come from: the simulator, or windows of historical closes.

:func:`path_source` turns an :class:`~thetagym.env.config.EnvConfig` into a
:data:`~thetagym.env.core.PathSource`: a function from one seed per path to a
:class:`~thetagym.market.path.MarketPath`. Path ``i`` depends only on ``seeds[i]``.
"""

from __future__ import annotations

import numpy as np

from thetagym.config import ConfigError
from thetagym.env.config import EnvConfig, ReplayConfig
from thetagym.env.core import PathSource
from thetagym.market.path import MarketPath
from thetagym.market.replay import (
    History,
    ReplaySettings,
    load_history,
    load_shared_history,
    replay_windows,
    shared_data_dir,
)
from thetagym.market.simulator import simulate


def path_source(config: EnvConfig) -> PathSource:
    """The path maker of ``config``: simulated scenario/mix paths, or random replay windows."""
    if config.replay is not None:
        return _replay_source(config, config.replay)
    market, scenario, n_days = config.market, config.scenario, config.path_days

    def simulated(seeds: np.ndarray) -> MarketPath:
        return simulate(market, scenario, n_days, seeds)

    return simulated


def _replay_source(config: EnvConfig, replay: ReplayConfig) -> PathSource:
    history = _history(replay)
    n_days, bars_per_day = config.path_days, config.bars_per_day
    dates = history.dates
    first = max(1, int(np.searchsorted(dates, np.datetime64(replay.start, "D")))) if replay.start else 1
    last_end = (
        int(np.searchsorted(dates, np.datetime64(replay.end, "D"), side="right"))
        if replay.end
        else len(dates)
    )
    latest = last_end - n_days
    if latest < first:
        raise ConfigError(
            f"replay window {replay.start or dates[0]} to {replay.end or dates[-1]} is too short for "
            f"paths of {n_days} trading days (episode_days plus room for expiries)"
        )
    settings = ReplaySettings(market=config.market)

    def replayed(seeds: np.ndarray) -> MarketPath:
        # One call per path, so that each path depends on its own seed only (reset time, not step).
        paths = []
        for seed in np.asarray(seeds).reshape(-1):
            rng = np.random.default_rng(int(seed))
            start = int(rng.integers(first, latest + 1))
            paths.append(replay_windows(history, n_days, [start], bars_per_day, rng, settings=settings))
        batch = paths[0].take(np.zeros(len(paths), dtype=np.int64))
        for row, path in enumerate(paths[1:], start=1):
            batch.assign(np.array([row]), path)
        return batch

    return replayed


def _history(replay: ReplayConfig) -> History:
    """The replay's files, or the shared data folder's (with its T-bill rate) when none are given."""
    if not replay.index_csv and not replay.vix_csv and not replay.vix3m_csv:
        return load_shared_history()
    index_csv, vix_csv = replay.index_csv, replay.vix_csv
    if not index_csv or not vix_csv:
        shared = shared_data_dir()  # raises naming THETAGYM_DATA and the files it needs
        index_csv = index_csv or str(shared / "spx_daily.csv")
        vix_csv = vix_csv or str(shared / "vix_daily.csv")
    return load_history(index_csv, vix_csv, replay.vix3m_csv or None)
