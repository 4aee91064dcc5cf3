"""Decision agreement between a trained agent and a rule config on the test seeds of an evaluation.

    python experiments/learned_departures/agreement.py AGENT_DIR RULES.yaml [--evaluation experiments/learned_departures/evaluate.yaml]

Records the agent on every episode of the evaluation (its scenarios, episodes, days and seeds,
seeded as ``thetagym evaluate`` seeds them, :func:`thetagym.seeds.episode_seed`), asks the rule config
what it would decide in each recorded state (with its own memory of the episode so far), and prints
the agreement per part and decision (``thetagym.export.fidelity``), as ``export-thresholds`` does
on its held-out training seeds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from thetagym.config import read_yaml
from thetagym.env.config import resolve_config
from thetagym.export.fidelity import fidelity_table, format_table
from thetagym.export.record import record
from thetagym.export.replay import Layout, replay_states, rule_decisions
from thetagym.policies.rules.registry import load_rule_config
from thetagym.policies.trained import load_trained_agent
from thetagym.seeds import episode_seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent", type=Path)
    parser.add_argument("rules", type=Path)
    parser.add_argument(
        "--evaluation", type=Path, default=Path("experiments/learned_departures/evaluate.yaml")
    )
    args = parser.parse_args()
    evaluation = read_yaml(args.evaluation)
    rules = load_rule_config(args.rules)
    policy_actions, decisions = [], []
    for k, scenario in enumerate(evaluation["scenarios"]):
        config = resolve_config(evaluation["env"], {"scenario": scenario, "episode_days": evaluation["days"]})
        book = config.book
        layout = Layout.of(config)
        seeds = tuple(episode_seed(evaluation["seed"], k, e) for e in range(evaluation["episodes"]))
        states = replay_states(
            record(load_trained_agent(args.agent, book), config, seeds), rules, layout, book
        )
        policy_actions.append(states.policy_actions)
        decisions.append(rule_decisions(rules, states, layout, book))
        print(f"{scenario}: {len(states)} states")
    parts = [*layout.layer_names, "balancer"]
    table = fidelity_table(np.concatenate(policy_actions), {"rules": np.concatenate(decisions)}, parts)
    with pd.option_context("display.width", 200):
        print(format_table(table))


if __name__ == "__main__":
    main()
