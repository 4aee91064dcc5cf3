"""One training config over several seeds, then a summary across them (as rliable reports).

Each seed is one task for an engine (:mod:`thetagym.engines`: local processes or Ray tasks): it
trains its own run folder ``OUT/seed-<n>/`` and ends with a final evaluation of its final policy on
the config's held-out evaluation seeds (the same paths for every seed). A seed's headline figure is
that evaluation's statistic (a Sharpe ratio of all its episodes, the CVaR of their returns, ...).
Across seeds, every measure gets the mean and the interquartile mean (the mean of the middle half
of the seeds, robust to one seed that learned something else), each with a percentile bootstrap
interval over seeds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import trim_mean

from thetagym.config import ConfigError
from thetagym.engines import Engine
from thetagym.evaluate.bootstrap import bootstrap_interval, json_number
from thetagym.evaluate.rollout import rollout
from thetagym.evaluate.summary import SUMMARY_SEED
from thetagym.measures import HEADLINE_MEASURES
from thetagym.train.config import TrainConfig
from thetagym.tune.trial import pooled_means

SEED_MEASURES = (*HEADLINE_MEASURES, "theta_capture", "max_drawdown", "pnl")
"""Figures of each seed's final evaluation kept in the summary: the headline measures first."""
SEEDS_FILE = "seeds.csv"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
BOOTSTRAP_RESAMPLES = 2000


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``1-5``, ``1,3,8`` or ``1-3,8`` (each once, in the order given).

    >>> parse_seeds("1-3,8")
    [1, 2, 3, 8]
    >>> parse_seeds("5-3")
    Traceback (most recent call last):
    ...
    thetagym.config.ConfigError: --seeds: '5-3' is not a seed or an ascending range like 1-5
    """
    seeds: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        first = int(match.group(1)) if match else 0
        last = int(match.group(2)) if match and match.group(2) else first
        if match is None or last < first:
            raise ConfigError(f"--seeds: {part.strip()!r} is not a seed or an ascending range like 1-5")
        seeds.extend(seed for seed in range(first, last + 1) if seed not in seeds)
    return seeds


def interquartile_mean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Mean of the middle 50% of ``values`` (25% cut at each end, rounded down: with fewer than
    four seeds nothing is cut and it is the mean), as rliable's IQM.

    >>> float(interquartile_mean(np.array([0.0, 1.0, 2.0, 3.0, 100.0, -100.0, 1.5, 2.5])))
    1.75
    """
    return np.asarray(trim_mean(values, 0.25, axis=axis))


@dataclass(frozen=True)
class SeedTask:
    """One seed's run: the config (its seed set), where to write it."""

    config: TrainConfig
    run_dir: Path


@dataclass(frozen=True)
class SeedResult:
    """A finished seed: its run folder, steps, seconds and final evaluation's figures."""

    seed: int
    run_dir: Path
    timesteps: int
    seconds: float
    figures: dict[str, float]


def train_seed(task: SeedTask) -> SeedResult:
    """Train ``task``'s run, then evaluate its final policy on the held-out evaluation seeds."""
    from thetagym.train.run import build_env, train

    config = task.config
    result = train(config, task.run_dir, progress=False)
    env_config, _ = build_env(config)
    figures = final_evaluation(task.run_dir, config, env_config)
    return SeedResult(config.seed, task.run_dir, result.timesteps, result.seconds, figures)


def final_evaluation(run_dir: Path, config: TrainConfig, env_config: Any) -> dict[str, float]:
    """The final policy of ``run_dir`` on the config's held-out evaluation seeds: every figure of
    :data:`SEED_MEASURES` (the statistics of all those episodes together)."""
    from thetagym.env.observation import observation_names
    from thetagym.policies.trained import TrainedPolicy, action_nvec

    policy = TrainedPolicy.load(
        run_dir, observation_names(env_config), action_nvec(len(env_config.book.layers)), book=env_config.book
    )
    schedule = config.evaluation
    seeds = tuple(range(schedule.seed, schedule.seed + schedule.episodes))
    episodes = rollout(policy, env_config, seeds).episodes.assign(agent="policy", scenario="final")
    means = pooled_means(episodes)
    return {measure: float(means[measure]) for measure in SEED_MEASURES}


def train_seeds(
    config: TrainConfig, seeds: list[int], out: Path, engine: Engine
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train ``config`` once per seed on ``engine`` into ``out/seed-<n>/``; write and return the
    per-seed table and the summary across seeds (see :func:`summarise_seeds`)."""
    import dataclasses

    out = out.resolve()  # workers (Ray's included) may run elsewhere
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out}: already exists and is not empty; choose another --out")
    tasks = []
    for seed in seeds:
        try:
            seeded = dataclasses.replace(config, seed=seed)
        except ValueError as error:
            raise ConfigError(f"--seeds: seed {seed}: {error}") from None
        tasks.append(SeedTask(seeded, out / f"seed-{seed}"))
    results = list(engine.ordered(train_seed, tasks))
    table = pd.DataFrame(
        [
            {
                "seed": r.seed,
                "run_dir": str(r.run_dir),
                "timesteps": r.timesteps,
                "seconds": r.seconds,
                **r.figures,
            }
            for r in results
        ]
    )
    summary = summarise_seeds(table)
    write_summary(out, table, summary)
    return table, summary


def summarise_seeds(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per measure of :data:`SEED_MEASURES`: mean and interquartile mean over seeds, each with a
    percentile bootstrap interval over seeds (``n``: seeds with a finite figure)."""
    rows = []
    for measure in SEED_MEASURES:
        values = table[measure].to_numpy(dtype=float)
        row: dict[str, Any] = {"measure": measure, "n": int(np.isfinite(values).sum())}
        for name, statistic in (("mean", np.mean), ("iqm", interquartile_mean)):
            rng = np.random.default_rng(SUMMARY_SEED)
            interval = bootstrap_interval(values, statistic, confidence, BOOTSTRAP_RESAMPLES, rng=rng)
            row.update({name: interval.estimate, f"{name}_low": interval.low, f"{name}_high": interval.high})
        rows.append(row)
    return pd.DataFrame(rows)


def write_summary(out: Path, table: pd.DataFrame, summary: pd.DataFrame) -> None:
    """``seeds.csv``, ``summary.csv`` and ``summary.json`` (strict JSON: ``null`` for no value)."""
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / SEEDS_FILE, index=False)
    summary.to_csv(out / SUMMARY_CSV, index=False)
    record = {
        "seeds": [
            {key: json_number(value) if not isinstance(value, str) else value for key, value in row.items()}
            for row in table.to_dict(orient="records")
        ],
        "summary": {
            str(row["measure"]): {key: json_number(value) for key, value in row.items() if key != "measure"}
            for row in summary.to_dict(orient="records")
        },
    }
    (out / SUMMARY_JSON).write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")


def format_seeds(table: pd.DataFrame) -> str:
    """Every seed's figures as text, one line per seed."""
    lines = [f"{'seed':>6}" + "".join(f"{measure:>21}" for measure in SEED_MEASURES)]
    for _, row in table.iterrows():
        lines.append(f"{int(row['seed']):>6}" + "".join(f"{row[m]:>21.4g}" for m in SEED_MEASURES))
    return "\n".join(lines)


def format_summary(summary: pd.DataFrame) -> str:
    """The summary as text: one line per measure, mean and IQM with their intervals."""
    lines = [f"{'measure':<22}{'mean [95% interval]':>34}{'IQM [95% interval]':>34}   seeds"]
    for row in summary.itertuples(index=False):
        mean = f"{row.mean:.4g} [{row.mean_low:.4g}, {row.mean_high:.4g}]"
        iqm = f"{row.iqm:.4g} [{row.iqm_low:.4g}, {row.iqm_high:.4g}]"
        lines.append(f"{row.measure:<22}{mean:>34}{iqm:>34}   {row.n}")
    return "\n".join(lines)
