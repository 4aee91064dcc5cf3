"""Synthetic evaluation results: agents on common market paths, summarised by the real summary,
paired-difference and leaderboard code, with traces on one dated path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from thetagym.book.attribution import ATTRIBUTION
from thetagym.evaluate.leaderboard import build_leaderboards
from thetagym.evaluate.runner import EvaluationResult
from thetagym.evaluate.summary import paired_differences, summarise_episodes
from thetagym.measures import daily_measures, max_drawdown

AGENTS = ("rules-roll", "rules-naive", "ppo-masked", "rules-naive-guard-off")
GUARD_OFF = ("rules-naive-guard-off",)
SCENARIOS = ("calm", "crash")
LAYERS = ("call_wing", "put_wing", "vix_etp", "hedge")
COMPONENTS = ATTRIBUTION
CAPITAL = 1_000_000.0
DAYS = 40
RESAMPLES = 200


def make_episodes(
    drifts: Mapping[str, float],
    scenarios: Sequence[str] = SCENARIOS,
    seeds: int = 10,
    idiosyncratic: float = 0.002,
    seed: int = 42,
) -> pd.DataFrame:
    """A row per agent, scenario and seed. Every agent's daily return is the same market shock of
    its path (common random numbers) plus its own ``drifts[agent]`` and ``idiosyncratic`` noise;
    the measures come from the equity curve through :func:`thetagym.measures.daily_measures`."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, scenario in enumerate(scenarios):
        for path in range(seeds):
            market = rng.normal(-0.002 * s, 0.004 + 0.006 * s, DAYS)
            for a, (agent, drift) in enumerate(drifts.items()):
                returns = market + drift + rng.normal(0.0, idiosyncratic, DAYS)
                equity = CAPITAL * (1.0 + np.concatenate([[0.0], np.cumsum(returns)]))
                pnl = float(equity[-1] - CAPITAL)
                theta = 40_000.0 + 5_000.0 * a
                row = {"agent": agent, "scenario": scenario, "seed": 1000 * s + path, "steps": 4 * DAYS}
                row.update({k: float(v) for k, v in daily_measures(equity, CAPITAL).items()})
                row.update(
                    pnl=pnl,
                    total_return=pnl / CAPITAL,
                    theta_accrued=theta,
                    theta_capture=pnl / theta,
                    max_drawdown=float(max_drawdown(equity, CAPITAL)),
                    calmar=np.nan,
                    premium_sold=30_000.0 + 10_000.0 * a + rng.normal(0.0, 2_000.0),
                    spiral_index=8.0 if agent in GUARD_OFF else 1.0 + 0.1 * a,
                    rolls=float(rng.integers(0, 5)),
                    blocked=0.0 if agent in GUARD_OFF else float(rng.integers(0, 3)),
                    margin_peak=rng.uniform(0.02, 0.1),
                    reward=rng.normal(),
                )
                row.update(
                    {
                        f"attr_{layer}_{c}": 0.0
                        if layer == "hedge"
                        else rng.normal(500.0 if c == "theta" else -80.0, 60.0)
                        for layer in LAYERS
                        for c in COMPONENTS
                    }
                )
                rows.append(row)
    return pd.DataFrame(rows)


def make_trace(
    rng: np.random.Generator, bars: int = 120, dated: bool = True, spiral: bool = False
) -> pd.DataFrame:
    """A per-bar trace, four bars a trading day; ``spiral`` makes gross contracts climb."""
    equity = CAPITAL + np.cumsum(rng.normal(20.0, 400.0, bars))
    steps = rng.integers(0, 2, bars) * (3 if spiral else 0)
    trace = pd.DataFrame(
        {
            "bar": np.arange(bars),
            "index": 4700 * np.exp(np.cumsum(rng.normal(0, 0.004, bars))),
            "vix": 14 + np.abs(np.cumsum(rng.normal(0, 0.3, bars))),
            "equity": equity,
            "drawdown": (np.maximum.accumulate(equity) - equity) / CAPITAL,
            "net_delta": rng.normal(0, 5, bars),
            "net_gamma": rng.normal(-0.2, 0.05, bars),
            "net_vega": rng.normal(-300, 40, bars),
            "net_theta": rng.normal(250, 20, bars),
            "gross_contracts": 20 + np.cumsum(steps),
            "blocked": np.zeros(bars, dtype=int) if spiral else rng.integers(0, 2, bars),
        }
    )
    if dated:
        days = pd.bdate_range("2024-01-02", periods=-(-bars // 4))
        trace.insert(1, "date", np.repeat(days.strftime("%Y-%m-%d"), 4)[:bars])
    for layer in LAYERS:
        for component in COMPONENTS:
            trace[f"pnl_{layer}_{component}"] = rng.normal(4.0 if component == "theta" else -1.0, 2.0, bars)
    return trace


def make_traces(agents: Sequence[str] = AGENTS, dated: bool = True, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return {agent: make_trace(rng, dated=dated, spiral=agent in GUARD_OFF) for agent in agents}


def make_result(
    episodes: pd.DataFrame,
    traces: Mapping[str, pd.DataFrame] | None = None,
    guard_off: Sequence[str] = (),
    headline: str = "sharpe",
) -> EvaluationResult:
    """An :class:`EvaluationResult` of ``episodes`` as :func:`thetagym.evaluate.runner.evaluate`
    builds it, the first agent the baseline; ``traces`` serve as both the representative and the
    spiral path."""
    baseline = str(episodes["agent"].iloc[0])
    summary = summarise_episodes(episodes, n_resamples=RESAMPLES)
    paired = paired_differences(episodes, baseline, n_resamples=RESAMPLES)
    traces = dict(traces or {})
    return EvaluationResult(
        episodes=episodes,
        summary=summary,
        traces=traces,
        representative_path="the first path of calm (seed 0)",
        paired=paired,
        leaderboards=build_leaderboards(episodes, summary, paired, baseline, headline, n_resamples=RESAMPLES),
        baseline=baseline,
        headline=headline,
        guard_off=tuple(guard_off),
        spiral_traces=traces if guard_off else {},
        spiral_path="the crash path (seed 1000) where the guard-off agents' spiral index peaked at 8.0"
        if guard_off
        else "",
    )


@pytest.fixture(scope="session")
def episodes() -> pd.DataFrame:
    """Four agents whose drifts overlap: some tie, some are behind."""
    return make_episodes(
        {"rules-roll": 0.0004, "rules-naive": -0.0008, "ppo-masked": 0.0003, GUARD_OFF[0]: -0.002}
    )


@pytest.fixture(scope="session")
def traces() -> dict[str, pd.DataFrame]:
    return make_traces()


@pytest.fixture(scope="session")
def result(episodes: pd.DataFrame, traces: dict[str, pd.DataFrame]) -> EvaluationResult:
    return make_result(episodes, traces, GUARD_OFF)


@pytest.fixture(scope="session")
def summary(result: EvaluationResult) -> pd.DataFrame:
    return result.summary
