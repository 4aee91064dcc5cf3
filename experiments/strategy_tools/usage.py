"""How often each agent uses each of the strategy's tools, per layer and per action.

    python experiments/strategy_tools/usage.py AGENT [AGENT ...] [--episodes 32] [--seed 1700000000]

An AGENT is a rule config (``.yaml``) or a trained agent's folder. Each runs ``--episodes``
episodes of 63 days in each of the default comparison's seven scenarios, on common paths seeded as
``thetagym evaluate`` seeds them from ``--seed`` (:func:`thetagym.seeds.episode_seed`), so the counts
are those of an evaluation's episodes; the table gives the executed actions per
episode (the guard's replacements excluded: an illegal choice executes as HOLD), per layer and per
action, averaged over every episode of every scenario, as markdown.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from thetagym.book import BalancerAction, LayerAction
from thetagym.env.config import resolve_config
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec
from thetagym.evaluate.rollout import rollout
from thetagym.seeds import episode_seed

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("calm", "grind_up", "trend_down", "whipsaw", "crash", "vol_spike", "calm-to-stressed")


def usage(agent: str, episodes: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Part names and executed actions per episode ``(parts, choices)`` over every scenario."""
    counts = []
    for k, scenario in enumerate(SCENARIOS):
        config = resolve_config(ROOT / "configs/env/default.yaml", {"scenario": scenario, "episode_days": 63})
        kind = "rules" if agent.endswith(".yaml") else "model"
        policy = load_policy(AgentSpec(name=Path(agent).stem, **{kind: Path(agent)}), config.book)
        seeds = tuple(episode_seed(seed, k, episode) for episode in range(episodes))
        counts.append(rollout(policy, config, seeds).action_counts)
    parts = [layer.name for layer in config.book.layers] + ["balancer"]
    return parts, np.concatenate(counts).mean(axis=0)


def table(names: list[str], results: list[tuple[list[str], np.ndarray]]) -> str:
    """One row per part and action that any agent used; one column per agent."""
    lines = ["| layer | action | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    parts = results[0][0]
    for index, part in enumerate(parts):
        actions = BalancerAction if part == "balancer" else LayerAction
        for action in actions:
            if action.value == 0:
                continue  # HOLD
            row = [result[1][index, action.value] for result in results]
            if max(row) > 0:
                cells = " | ".join(f"{value:.2f}" for value in row)
                lines.append(f"| {part} | {action.name} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agents", nargs="+")
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1_700_000_000)
    args = parser.parse_args()
    results = [usage(agent, args.episodes, args.seed) for agent in args.agents]
    print(
        table(
            [Path(agent).stem if agent.endswith(".yaml") else Path(agent).name for agent in args.agents],
            results,
        )
    )


if __name__ == "__main__":
    main()
