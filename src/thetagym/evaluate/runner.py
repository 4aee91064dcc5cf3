"""Run every agent on the same market paths, in parallel, and collect episodes and traces.

The work is split into one task per (agent, scenario): a batched vector env of ``episodes`` envs,
seeded from :func:`thetagym.seeds.episode_seed`, so every agent meets the same paths (common
random numbers) and a task's result does not depend on which process runs it or when. Tasks run
on an engine of :mod:`thetagym.engines`: local processes (one BLAS/torch thread each; this
process when ``workers == 1``) or Ray tasks; results are put back in task order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from thetagym.engines import make_engine
from thetagym.env.warm_up import compile_kernels
from thetagym.evaluate.config import AgentSpec, EvaluationConfig, ScenarioSpec
from thetagym.evaluate.leaderboard import Leaderboard, build_leaderboards, default_baseline
from thetagym.evaluate.summary import paired_differences, summarise_episodes
from thetagym.measures import TARGET_VOLATILITY
from thetagym.seeds import episode_seed


@dataclass(frozen=True)
class Task:
    """One agent on one scenario: ``len(seeds)`` episodes of ``days`` days in one vector env."""

    agent: AgentSpec
    scenario: ScenarioSpec
    env: Path
    seeds: tuple[int, ...]
    days: int
    trace: bool = False
    """Record the per-bar trace of the first episode."""
    target_volatility: float = TARGET_VOLATILITY
    """Annualised volatility of the risk-matched measures."""


@dataclass
class TaskResult:
    """Per-episode measures (a row per episode), the first episode's trace, and the index paths."""

    episodes: pd.DataFrame
    trace: pd.DataFrame | None
    index_paths: np.ndarray
    """``(episodes, bars + 1)`` index level of every episode, for common-random-number checks."""


@dataclass
class EvaluationResult:
    """Everything an evaluation produced, ready to write: episodes, their summary (pooled rows
    included), paired differences against ``baseline``, and a leaderboard per scenario ranked on
    ``headline``."""

    episodes: pd.DataFrame
    summary: pd.DataFrame
    traces: dict[str, pd.DataFrame]
    representative_path: str
    index_paths: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    paired: pd.DataFrame = field(default_factory=pd.DataFrame)
    leaderboards: dict[str, Leaderboard] = field(default_factory=dict)
    baseline: str = ""
    headline: str = "sharpe"
    guard_off: tuple[str, ...] = ()
    """Agents that ran with the guard switched off (to show the spiral)."""
    spiral_traces: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Every agent's trace on the path where a guard-off agent's spiral index was highest."""
    spiral_path: str = ""
    """Which path that is, for captions."""


def plan(config: EvaluationConfig) -> list[Task]:
    """The tasks of ``config``: agents in order, each over every scenario and in its own env when it
    names one (the market paths stay common: they depend on the seeds and the market, not the book);
    a trace of the first seed of the first scenario for every agent."""
    tasks = []
    for agent in config.agents:
        for k, scenario in enumerate(config.scenario_specs):
            seeds = tuple(episode_seed(config.seed, k, e) for e in range(config.episodes))
            env = agent.env or config.env
            tasks.append(Task(agent, scenario, env, seeds, config.days, k == 0, config.target_volatility))
    return tasks


def run_task(task: Task) -> TaskResult:
    """Run one task (in whichever process): load the agent, roll out its episodes."""
    from thetagym.evaluate.agents import load_policy
    from thetagym.evaluate.rollout import env_config, rollout

    _limit_torch_threads()
    config = env_config(task.env, task.scenario, task.days)
    policy = load_policy(task.agent, config.book)
    result = rollout(policy, config, task.seeds, task.trace, task.target_volatility)
    episodes = result.episodes
    episodes.insert(0, "agent", task.agent.name)
    episodes.insert(1, "scenario", task.scenario.label)
    return TaskResult(episodes, result.trace, result.index_paths)


def run_tasks(
    tasks: Sequence[Task],
    workers: int | None = None,
    progress: bool = True,
    runner: Callable[[Task], TaskResult] = run_task,
    engine: str = "local",
    address: str | None = None,
) -> list[TaskResult]:
    """Results of ``tasks`` in task order, each run by ``runner`` on ``engine`` (local processes or
    Ray tasks, see :mod:`thetagym.engines`) with up to ``workers`` workers (None: one per core), on
    the Ray cluster at ``address`` if given; with ``progress``, a bar counts episodes done and time
    left."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    total = sum(len(task.seeds) for task in tasks)
    results: list[TaskResult | None] = [None] * len(tasks)
    with (
        tqdm(total=total, unit="episode", desc="evaluate", disable=not progress, dynamic_ncols=True) as bar,
        make_engine(engine, workers, address, prepare=compile_kernels) as pool,
    ):
        for position, result in pool.map(runner, tasks):
            results[position] = result
            bar.update(len(tasks[position].seeds))
    return [r for r in results if r is not None]


def _limit_torch_threads() -> None:
    """One torch thread, when torch is in use, so results do not depend on the thread count."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def guard_off_agents(config: EvaluationConfig) -> tuple[str, ...]:
    """Names of the agents whose book has the guard switched off."""
    from thetagym.env.config import resolve_config

    return tuple(
        agent.name
        for agent in config.agents
        if not resolve_config(agent.env or config.env, {}).book.guard.enabled
    )


def spiral_episode(episodes: pd.DataFrame, agents: Sequence[str]) -> tuple[str, int, float] | None:
    """Scenario, seed and spiral index of the episode where one of ``agents`` grew its book most
    (the first such episode on ties); None without such agents or episodes."""
    rows = episodes[episodes["agent"].isin(list(agents))]
    if rows.empty or "spiral_index" not in rows.columns:
        return None
    worst = int(np.argmax(rows["spiral_index"].to_numpy()))
    return (
        str(rows["scenario"].iloc[worst]),
        int(rows["seed"].iloc[worst]),
        float(rows["spiral_index"].iloc[worst]),
    )


def evaluate(
    config: EvaluationConfig,
    workers: int | None = None,
    progress: bool = True,
    engine: str = "local",
    address: str | None = None,
) -> EvaluationResult:
    """Run ``config`` (``workers`` overrides ``config.workers``) on ``engine`` (``local`` processes
    or ``ray`` tasks, on the cluster at ``address`` if given) and summarise it; ``progress`` shows
    a progress bar. The result does not depend on the engine or the number of workers."""
    tasks = plan(config)
    results = run_tasks(tasks, workers or config.workers, progress, engine=engine, address=address)
    episodes = pd.concat([r.episodes for r in results], ignore_index=True)
    traces = {t.agent.name: r.trace for t, r in zip(tasks, results, strict=True) if r.trace is not None}
    first = config.scenario_specs[0]
    resamples = config.bootstrap_resamples
    target = config.target_volatility
    summary = summarise_episodes(episodes, n_resamples=resamples, target_volatility=target)
    headline = config.headline
    own_book = [a.name for a in config.agents if a.kind == "rules" and a.env in (None, config.env)]
    baseline = config.baseline or default_baseline(summary, headline, own_book)
    paired = paired_differences(episodes, baseline, n_resamples=resamples, target_volatility=target)
    guard_off = guard_off_agents(config)
    spiral = spiral_episode(episodes, guard_off)
    spiral_traces: dict[str, pd.DataFrame] = {}
    spiral_path = ""
    if spiral is not None:
        label, seed, index = spiral
        scenario = next(s for s in config.scenario_specs if s.label == label)
        spiral_tasks = [
            Task(a, scenario, a.env or config.env, (seed,), config.days, True, target) for a in config.agents
        ]
        for task, result in zip(spiral_tasks, run_tasks(spiral_tasks, 1, progress=False), strict=True):
            if result.trace is not None:
                spiral_traces[task.agent.name] = result.trace
        spiral_path = (
            f"the {label} path (seed {seed}) where the guard-off agents' spiral index peaked at {index:.1f}"
        )
    return EvaluationResult(
        guard_off=guard_off,
        spiral_traces=spiral_traces,
        spiral_path=spiral_path,
        episodes=episodes,
        summary=summary,
        paired=paired,
        leaderboards=build_leaderboards(
            episodes, summary, paired, baseline, headline, n_resamples=resamples, target_volatility=target
        ),
        baseline=baseline,
        headline=headline,
        traces=traces,
        representative_path=f"the first path of {first.label} (seed {config.seed})",
        index_paths={
            (t.agent.name, t.scenario.label): r.index_paths for t, r in zip(tasks, results, strict=True)
        },
    )
