"""The evaluation summary: every measure per agent and scenario, pooled over scenarios, and paired
differences against a baseline, each with a bootstrap interval.

Most measures are a mean over episodes. Two are statistics of a set of episodes instead
(:data:`CELL_STATISTICS`): ``theta_capture`` (total P&L over total theta accrued, a ratio of
sums) and ``cvar_5`` (the mean of the worst 5% of episode returns). Both are bootstrapped over the
same episodes as the means.

*Pooled* rows (scenario :data:`POOLED`) take the episodes of every scenario together, each scenario
with as many episodes as the others (equal weight): a mean is the mean of the scenario means, a
Sharpe ratio that of the whole track record. Their bootstrap resamples each scenario's episodes
on their own (a stratified bootstrap).

*Paired* differences use the common random numbers every evaluation runs on: episode ``e`` of a
scenario has the same market path for every agent, so ``agent - baseline`` is taken per path and
the paths are resampled together. That interval is far tighter than two separate intervals, and
it is the one that says whether an agent is better.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from thetagym.evaluate.bootstrap import (
    STATISTIC_FIELDS,
    Draw,
    Interval,
    json_number,
    percentile_interval,
    resample_rows,
    stratified_replicates,
)
from thetagym.measures import (
    DAILY_FIELDS,
    HEADLINE_MEASURES,
    MOMENT_FIELDS,
    RISK_MATCHED_MOMENTS,
    SUMMARY_FIELDS,
    TARGET_VOLATILITY,
    cvar,
    pooled_risk_matched_return,
    pooled_sharpe,
    pooled_sortino,
    pooled_theta_capture,
    pooled_volatility,
)

CVAR_LEVEL = 0.05
CVAR_MEASURE = "cvar_5"
"""Summary name of the CVaR (5%) of episode total returns."""
BY = ("agent", "scenario")
POOLED = "pooled"
"""Scenario label of the rows pooled over every scenario with equal weight."""
SUMMARY_SEED = 20_240_601
"""Seed of the bootstrap generator, so a summary is a pure function of its episodes."""
CONFIDENCE = 0.95
PAIRED_MEASURES = (*HEADLINE_MEASURES, "matched_max_drawdown", "theta_capture", "pnl")
"""Measures compared path by path against the baseline: the headline ones and, for context, drawdown
at matched risk, theta capture and P&L."""
PAIRED_COLUMNS = ("agent", "baseline", "scenario", "measure", *STATISTIC_FIELDS)
"""Columns of :func:`paired_differences`' table."""
EPISODE_KEY = ("scenario", "seed")
"""What identifies a market path across agents."""


EPISODES_COLUMN = "_episodes"
"""A column of ones the summary adds to its episodes: a mean is the ratio of two sums, the values'
and this column's, so its bootstrap can work from resampled sums."""


def _mean(values: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(values, axis=-1) / np.sum(episodes, axis=-1))


def _cvar(returns: np.ndarray) -> np.ndarray:
    return cvar(returns, CVAR_LEVEL)


class CellStatistic(NamedTuple):
    """A measure computed over a cell's episodes: the ``columns`` it reads, the ``statistic``
    (reducing each along the last axis) and, when it reads each column only through one reduction
    over the episodes, those ``reductions`` ("sum" or "min" per column; None: it needs every
    value), which let the bootstrap work from resampled reductions."""

    columns: tuple[str, ...]
    statistic: Callable[..., np.ndarray]
    reductions: tuple[str, ...] | None


CellStatistics = dict[str, CellStatistic]


def _sums(columns: tuple[str, ...]) -> tuple[str, ...]:
    return ("sum",) * len(columns)


def cell_statistics(target_volatility: float = TARGET_VOLATILITY) -> CellStatistics:
    """Measures that are a statistic of a cell's episodes, not a mean over them. The daily measures
    are those of the episodes' track record laid end to end (:func:`thetagym.measures.pooled_sharpe`);
    theta capture is a ratio of sums, of the P&L over what the equity would have earned in cash
    (interest is no decay the book kept); CVaR is the tail mean of the episodes' returns over cash
    (the sum of their daily excess returns on capital). Risk-matched measures scale to
    ``target_volatility`` (annual fraction)."""
    moments = ("trading_days", "return_sum", "return_sum2")
    sortino = (*moments, "downside_sum2")
    theta = ("excess_pnl", "theta_accrued")
    risk_matched = functools.partial(pooled_risk_matched_return, target_volatility=target_volatility)
    return {
        "sharpe": CellStatistic(moments, pooled_sharpe, _sums(moments)),
        "sortino": CellStatistic(sortino, pooled_sortino, _sums(sortino)),
        "volatility": CellStatistic(moments, pooled_volatility, _sums(moments)),
        "risk_matched_return": CellStatistic(
            RISK_MATCHED_MOMENTS, risk_matched, (*_sums(RISK_MATCHED_MOMENTS[:-1]), "min")
        ),
        "theta_capture": CellStatistic(theta, pooled_theta_capture, _sums(theta)),
        CVAR_MEASURE: CellStatistic(("return_sum",), _cvar, None),
    }


CELL_STATISTICS = cell_statistics()
"""The cell statistics at the default target volatility."""


def episode_measures(episodes: pd.DataFrame) -> list[str]:
    """The measures of an episodes table, in order: the episode summary's (:data:`SUMMARY_FIELDS`),
    the daily ones, premium sold, the cell statistics, then ``attr_*`` totals."""
    columns = set(episodes.columns)
    known = [*SUMMARY_FIELDS, *(f for f in DAILY_FIELDS if f not in MOMENT_FIELDS), "premium_sold"]
    measures = [m for m in known if m in columns]
    measures += [
        m for m, cell in CELL_STATISTICS.items() if set(cell.columns) <= columns and m not in measures
    ]
    return measures + [c for c in episodes.columns if str(c).startswith("attr_")]


def _statistic(
    measure: str, statistics: CellStatistics = CELL_STATISTICS, columns: Collection[str] | None = None
) -> CellStatistic:
    """The cell statistic of ``measure`` when ``columns`` (all, when None) hold what it reads, else
    the mean of its own column (a ratio of sums, over :data:`EPISODES_COLUMN`)."""
    mean = CellStatistic((measure, EPISODES_COLUMN), _mean, ("sum", "sum"))
    chosen = statistics.get(measure, mean)
    if columns is not None and not set(chosen.columns) <= set(columns):
        if measure == CVAR_MEASURE:  # episodes without daily moments: the raw return's tail
            return CellStatistic(("total_return",), _cvar, None)
        return mean
    return chosen


def _replicates(
    cells: Sequence[pd.DataFrame],
    measure: str,
    n_resamples: int,
    rng: np.random.Generator,
    statistics: CellStatistics,
    paired: bool = False,
    draws: Sequence[Draw] | None = None,
) -> tuple[float, np.ndarray]:
    """Estimate and replicates of ``measure`` over the episodes of ``cells`` together, each cell
    resampled on its own; ``paired``: of ``statistic(agent) - statistic(baseline)`` on the same
    paths (matched episodes, the baseline's columns suffixed ``_baseline``)."""
    columns, statistic, reductions = _statistic(measure, statistics, cells[0].columns)
    width = len(columns)

    def difference(*values: np.ndarray) -> np.ndarray:
        return np.asarray(statistic(*values[:width]) - statistic(*values[width:]))

    suffixes = ("", "_baseline") if paired else ("",)
    strata = [[cell[c + suffix] for suffix in suffixes for c in columns] for cell in cells]
    chosen = difference if paired else statistic
    if reductions is not None:
        reductions = reductions * len(suffixes)
    return stratified_replicates(strata, chosen, n_resamples, rng=rng, draws=draws, reductions=reductions)


def _fields(interval: Interval, n: int) -> dict[str, float]:
    return dict(zip(STATISTIC_FIELDS, (*interval, n), strict=True))


def summarise_episodes(
    episodes: pd.DataFrame,
    confidence: float = CONFIDENCE,
    n_resamples: int = 2000,
    seed: int = SUMMARY_SEED,
    target_volatility: float = TARGET_VOLATILITY,
) -> pd.DataFrame:
    """One row per agent and scenario, then one per agent pooled over scenarios (scenario
    :data:`POOLED`, attribution left out): ``<measure>_mean/_low/_high/_n`` for every measure of
    :func:`episode_measures`. ``_mean`` is the mean over episodes, or for the measures of
    :func:`cell_statistics` the cell's statistic; ``_n`` counts the episodes with a finite value.

    Intervals are ``confidence`` percentile bootstraps of ``n_resamples`` resamples drawn from a
    generator seeded with ``seed``; risk-matched measures scale to ``target_volatility`` (annual
    fraction)."""
    rng = np.random.default_rng(seed)
    statistics = cell_statistics(target_volatility)
    measures = episode_measures(episodes)
    episodes = episodes.assign(**{EPISODES_COLUMN: 1.0})
    rows: list[dict[str, Any]] = []
    pooled_rows: list[dict[str, Any]] = []
    pooled_measures = [m for m in measures if not m.startswith("attr_")]
    for agent, group in episodes.groupby("agent", sort=True):
        labels, cells = zip(*group.groupby("scenario", sort=True), strict=True)
        draws = [Draw(resample_rows(len(cell), n_resamples, rng)) for cell in cells]
        for scenario, cell, draw in zip(labels, cells, draws, strict=True):
            row: dict[str, Any] = {"agent": agent, "scenario": scenario}
            for measure in measures:
                estimate = _replicates([cell], measure, n_resamples, rng, statistics, draws=[draw])
                row.update(
                    _prefixed(
                        measure,
                        _fields(percentile_interval(*estimate, confidence), _finite_rows(cell, measure)),
                    )
                )
            rows.append(row)
        if len(cells) < 2:
            continue
        row = {"agent": agent, "scenario": POOLED}
        for measure in pooled_measures:
            estimate = _replicates(list(cells), measure, n_resamples, rng, statistics, draws=draws)
            finite = sum(_finite_rows(c, measure) for c in cells)
            row.update(_prefixed(measure, _fields(percentile_interval(*estimate, confidence), finite)))
        pooled_rows.append(row)
    rows += pooled_rows
    columns = [*BY, *(f"{m}_{field}" for m in measures for field in STATISTIC_FIELDS)]
    return pd.DataFrame(rows, columns=columns)


def _prefixed(measure: str, fields: dict[str, float]) -> dict[str, float]:
    return {f"{measure}_{field}": value for field, value in fields.items()}


def _finite_rows(cell: pd.DataFrame, measure: str) -> int:
    columns = _statistic(measure, CELL_STATISTICS, cell.columns).columns
    values = cell[list(columns)].to_numpy(dtype=float)
    return int(np.all(np.isfinite(values), axis=1).sum())


def paired_differences(
    episodes: pd.DataFrame,
    baseline: str,
    measures: Sequence[str] = PAIRED_MEASURES,
    confidence: float = CONFIDENCE,
    n_resamples: int = 2000,
    seed: int = SUMMARY_SEED,
    target_volatility: float = TARGET_VOLATILITY,
) -> pd.DataFrame:
    """``agent - baseline`` of every measure for every other agent, per scenario and pooled over
    scenarios with equal weight (:data:`POOLED`), with the bootstrap interval over paths.

    Episodes are matched on :data:`EPISODE_KEY`; ``n`` is the number of matched paths. Columns
    are :data:`PAIRED_COLUMNS`, a row per agent, scenario and measure. ``episodes`` is the
    evaluation's episodes table, ``measures`` the measures compared; ``confidence``,
    ``n_resamples``, ``seed`` and ``target_volatility`` as in :func:`summarise_episodes`.
    """
    agents = list(dict.fromkeys(episodes["agent"]))
    if baseline not in agents:
        raise ValueError(f"baseline {baseline!r} is not among the agents {agents}")
    statistics = cell_statistics(target_volatility)
    episodes = episodes.assign(**{EPISODES_COLUMN: 1.0})
    measures = [
        m
        for m in measures
        if set(_statistic(m, statistics, episodes.columns).columns) <= set(episodes.columns)
    ]
    rng = np.random.default_rng(seed)
    reference = episodes[episodes["agent"] == baseline]
    rows: list[dict[str, Any]] = []
    for agent in sorted(a for a in agents if a != baseline):
        matched = episodes[episodes["agent"] == agent].merge(
            reference, on=list(EPISODE_KEY), suffixes=("", "_baseline")
        )
        cells = [cell for _, cell in matched.groupby("scenario", sort=True)]
        labels = [str(label) for label, _ in matched.groupby("scenario", sort=True)]
        draws = [Draw(resample_rows(len(cell), n_resamples, rng)) for cell in cells]
        for measure in measures:
            for label, cell, draw in zip(labels, cells, draws, strict=True):
                estimate = _replicates([cell], measure, n_resamples, rng, statistics, True, [draw])
                rows.append(_paired_row(agent, baseline, label, measure, estimate, len(cell), confidence))
            if len(cells) > 1:
                pooled = _replicates(cells, measure, n_resamples, rng, statistics, True, draws)
                rows.append(_paired_row(agent, baseline, POOLED, measure, pooled, len(matched), confidence))
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def _paired_row(
    agent: str,
    baseline: str,
    scenario: str,
    measure: str,
    draw: tuple[float, np.ndarray],
    n: int,
    confidence: float,
) -> dict[str, Any]:
    interval = percentile_interval(*draw, confidence)
    values = (agent, baseline, scenario, measure, *interval, n)
    return dict(zip(PAIRED_COLUMNS, values, strict=True))


def nest_paired(paired: pd.DataFrame, baseline: str, headline: str, confidence: float) -> dict[str, Any]:
    """The ``paired`` section of ``summary.json``: the baseline, the headline measure, the
    confidence, and ``differences[agent][scenario][measure] = {mean, low, high, n}`` (strict JSON)."""
    differences: dict[str, Any] = {}
    for record in paired.to_dict("records"):
        node = differences.setdefault(str(record["agent"]), {}).setdefault(str(record["scenario"]), {})
        node[str(record["measure"])] = {field: json_number(record[field]) for field in STATISTIC_FIELDS}
    return {"baseline": baseline, "headline": headline, "confidence": confidence, "differences": differences}


def without_attribution(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without its ``attr_*`` columns (the report shows attribution as a figure)."""
    return table.loc[:, [c for c in table.columns if not str(c).startswith("attr_")]]
