"""The evaluation summary: every per-episode measure, and the CVaR of returns, with bootstrap intervals.

Built on :mod:`thetagym.evaluate.bootstrap`; the one addition is ``cvar_5``, a statistic of a
set of episodes rather than of one, bootstrapped over the same episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from thetagym.evaluate.bootstrap import STATISTIC_FIELDS, bootstrap_interval, finite_values, summary_table
from thetagym.measures import SUMMARY_FIELDS, cvar

CVAR_LEVEL = 0.05
CVAR_MEASURE = "cvar_5"
"""Summary name of the CVaR (5%) of episode total returns."""
BY = ("agent", "scenario")
SUMMARY_SEED = 20_240_601
"""Seed of the bootstrap generator, so a summary is a pure function of its episodes."""


def episode_measures(episodes: pd.DataFrame) -> list[str]:
    """The measure columns of an episodes table: DESIGN §5 measures, then ``attr_*`` totals."""
    attribution = [c for c in episodes.columns if str(c).startswith("attr_")]
    return [m for m in SUMMARY_FIELDS if m in episodes.columns] + attribution


def summarise_episodes(
    episodes: pd.DataFrame,
    by: Sequence[str] = BY,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = SUMMARY_SEED,
) -> pd.DataFrame:
    """One row per ``by`` group: ``<measure>_mean/_low/_high/_n`` for every measure and ``cvar_5``."""
    rng = np.random.default_rng(seed)
    table = summary_table(
        episodes, episode_measures(episodes), by, rng=rng, confidence=confidence, n_resamples=n_resamples
    )
    rows: list[dict[str, Any]] = []
    for _, group in episodes.groupby(list(by), sort=True):
        values = group["total_return"]
        interval = bootstrap_interval(values, _cvar, confidence, n_resamples, rng=rng)
        rows.append(dict(zip(STATISTIC_FIELDS, (*interval, finite_values(values).size), strict=True)))
    for field in STATISTIC_FIELDS:
        table[f"{CVAR_MEASURE}_{field}"] = [row[field] for row in rows]
    return table


def _cvar(returns: np.ndarray, axis: int = -1) -> np.ndarray:
    """CVaR at :data:`CVAR_LEVEL` along ``axis`` (bootstrap passes ``axis=1``)."""
    return cvar(np.moveaxis(np.asarray(returns), axis, -1), CVAR_LEVEL)


def without_attribution(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without its ``attr_*`` columns (the report shows attribution as a figure)."""
    return table.loc[:, [c for c in table.columns if not str(c).startswith("attr_")]]
