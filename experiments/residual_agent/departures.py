"""Where a residual agent departs from its rule: every step whose action differs from the proposal.

    python experiments/residual_agent/departures.py AGENT_DIR [--episodes 16] [--seed 1500000000]

Runs the agent for ``--episodes`` episodes of 63 days in each scenario of the default comparison
(seeds from ``--seed``, scenario ``k`` from ``seed + 1000 k``) and counts, per scenario, action part,
proposed action and chosen action, the steps where the agent did not follow its rule.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path
from typing import Any

import numpy as np

from thetagym.book import BalancerAction, LayerAction
from thetagym.env.config import resolve_config
from thetagym.evaluate.rollout import rollout
from thetagym.policies import PolicyContext
from thetagym.policies.trained import TrainedPolicy, load_trained_agent

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("calm", "grind_up", "trend_down", "whipsaw", "crash", "vol_spike", "calm-to-stressed")


class Watched:
    """A residual agent whose departures from its rule are counted as it acts."""

    def __init__(
        self, agent: TrainedPolicy, parts: list[str], scenario: str, tally: collections.Counter[Any]
    ):
        assert agent.residual is not None, "not a residual agent (no base_rules.yaml)"
        self.agent, self.parts, self.scenario, self.tally = agent, parts, scenario, tally
        self.name = agent.name
        self.steps = 0

    def act(self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        actions = self.agent.act(observations, action_masks, context)
        proposal = self.agent.residual.proposal  # type: ignore[union-attr]
        self.steps += len(actions)
        for row, part in np.argwhere(actions != proposal):
            names = BalancerAction if self.parts[part] == "balancer" else LayerAction
            key = (
                self.scenario,
                self.parts[part],
                names(proposal[row, part]).name,
                names(actions[row, part]).name,
            )
            self.tally[key] += 1
        return actions

    def reset(self, rows: np.ndarray) -> None:
        self.agent.reset(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1_500_000_000)
    args = parser.parse_args()
    tally: collections.Counter[Any] = collections.Counter()
    steps = 0
    for k, scenario in enumerate(SCENARIOS):
        config = resolve_config(ROOT / "configs/env/default.yaml", {"scenario": scenario, "episode_days": 63})
        parts = [layer.name for layer in config.book.layers] + ["balancer"]
        watched = Watched(load_trained_agent(args.agent, config.book), parts, scenario, tally)
        first = args.seed + 1000 * k
        rollout(watched, config, tuple(range(first, first + args.episodes)))
        steps += watched.steps
    print(
        f"{sum(tally.values())} departures in {steps} agent-steps ({len(SCENARIOS) * args.episodes} episodes)"
    )
    print("| scenario | part | rule proposed | agent did | steps |")
    print("|---|---|---|---|---|")
    for (scenario, part, proposed, done), count in sorted(tally.items()):
        print(f"| {scenario} | {part} | {proposed} | {done} | {count} |")


if __name__ == "__main__":
    main()
