"""Speed of the evaluation summary: episodes per second of the per-cell and pooled intervals
(:func:`summarise_episodes`) and of the paired differences (:func:`paired_differences`)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from thetagym.evaluate.summary import paired_differences, summarise_episodes
from thetagym.measures import DAILY_FIELDS, MOMENT_FIELDS, SUMMARY_FIELDS, return_moments

ATTRIBUTION_PARTS = ("put_wing", "call_wing", "futures", "vix_etp", "hedge")
ATTRIBUTION_TERMS = ("theta", "delta", "gamma", "vega", "costs", "assignment", "residual", "interest")


def synthetic_episodes(
    agents: int, scenarios: int, episodes: int, days: int = 63, seed: int = 0
) -> pd.DataFrame:
    """An episodes table with an evaluation's columns: daily returns of ``days`` days drawn per
    episode (their moments), the other measures drawn at random, ``agents`` agents on common paths
    (the same seeds) in each of ``scenarios`` scenarios.

    >>> table = synthetic_episodes(2, 3, 4, days=5)
    >>> len(table), {"sharpe", "worst_day", "attr_hedge_interest"} <= set(table.columns)
    (24, True)
    """
    rng = np.random.default_rng(seed)
    n = agents * scenarios * episodes
    returns = rng.normal(3e-4, 4e-3, size=(n, days))
    table = pd.DataFrame(
        {
            "agent": np.repeat([f"agent_{a}" for a in range(agents)], scenarios * episodes),
            "scenario": np.tile(np.repeat([f"scenario_{s}" for s in range(scenarios)], episodes), agents),
            "seed": np.tile(np.arange(scenarios * episodes), agents),
        }
    )
    other = [f for f in (*SUMMARY_FIELDS, *DAILY_FIELDS, "premium_sold") if f not in MOMENT_FIELDS]
    for field in dict.fromkeys(other):
        table[field] = rng.normal(size=n)
    table["theta_accrued"] = rng.uniform(1_000.0, 5_000.0, size=n)
    for field, values in return_moments(returns).items():
        table[field] = values
    for part in ATTRIBUTION_PARTS:
        for term in ATTRIBUTION_TERMS:
            table[f"attr_{part}_{term}"] = rng.normal(size=n)
    return table


def benchmark_summary(agents: int = 4, scenarios: int = 7, episodes: int = 1_024) -> dict[str, float]:
    """Seconds and episodes per second of the summary and of the paired differences against the
    first agent, on :func:`synthetic_episodes` (2,000 bootstrap resamples, as an evaluation).

    >>> sorted(benchmark_summary(agents=2, scenarios=2, episodes=8))
    ['episodes', 'paired_episodes_per_second', 'paired_seconds', 'summary_episodes_per_second', 'summary_seconds']
    """
    table = synthetic_episodes(agents, scenarios, episodes)
    start = time.perf_counter()
    summarise_episodes(table)
    summary_seconds = time.perf_counter() - start
    start = time.perf_counter()
    paired_differences(table, "agent_0")
    paired_seconds = time.perf_counter() - start
    return {
        "episodes": float(len(table)),
        "summary_seconds": summary_seconds,
        "summary_episodes_per_second": len(table) / summary_seconds,
        "paired_seconds": paired_seconds,
        "paired_episodes_per_second": len(table) / paired_seconds,
    }
