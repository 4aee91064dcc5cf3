"""Interquartile mean across training seeds of the paired headline gain over the baseline, with a
bootstrap interval over the common paths.

    python experiments/learned_departures/seeds_iqm.py reports/learned_departures [--prefix departures_seed]

Reads the evaluation's ``episodes.csv``; for every agent named ``<prefix><n>`` computes its pooled
Sharpe ratio minus the baseline's on the same episodes (all scenarios, equal weight), then the IQM
of those gains across seeds (:func:`thetagym.train.seeds.interquartile_mean`). The interval
resamples episodes within each scenario, the same rows for every agent (paired), 2,000 times from
a seeded generator.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from thetagym.measures import pooled_sharpe
from thetagym.train.seeds import interquartile_mean

MOMENTS = ("trading_days", "return_sum", "return_sum2")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", type=Path)
    parser.add_argument("--prefix", default="departures_seed")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    baseline = yaml.safe_load((args.report / "config.yaml").read_text())["baseline"]
    episodes = pd.read_csv(args.report / "episodes.csv")
    agents = sorted(a for a in episodes["agent"].unique() if a.startswith(args.prefix))
    moments = {  # agent -> (3, episodes) in one scenario-then-episode order
        agent: episodes[episodes["agent"] == agent]
        .sort_values(["scenario", "episode"])[list(MOMENTS)]
        .to_numpy()
        .T
        for agent in [baseline, *agents]
    }
    scenarios = (
        episodes[episodes["agent"] == baseline].sort_values(["scenario", "episode"])["scenario"].to_numpy()
    )
    groups = [np.flatnonzero(scenarios == s) for s in np.unique(scenarios)]

    def gains(rows: np.ndarray) -> np.ndarray:
        base = pooled_sharpe(*moments[baseline][:, rows])
        return np.array([pooled_sharpe(*moments[agent][:, rows]) - base for agent in agents])

    point = gains(np.arange(len(scenarios)))
    rng = np.random.default_rng(args.seed)
    draws = np.array(
        [
            interquartile_mean(gains(np.concatenate([rng.choice(g, size=len(g)) for g in groups])))
            for _ in range(args.resamples)
        ]
    )
    low, high = np.quantile(draws, [0.025, 0.975])
    print(f"paired Sharpe gain over {baseline}, per seed:")
    for agent, gain in zip(agents, point, strict=True):
        print(f"  {agent}: {gain:+.3f}")
    print(
        f"IQM across {len(agents)} seeds: {float(interquartile_mean(point)):+.3f} [{low:+.3f}, {high:+.3f}]"
    )


if __name__ == "__main__":
    main()
