"""A rollout counts the executed actions of every episode, per action part and choice, in step with
the episode's own activity counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thetagym.book import LayerAction
from thetagym.env.config import resolve_config
from thetagym.evaluate.rollout import rollout
from thetagym.policies.rules import load_rule_agent

ROOT = Path(__file__).resolve().parents[2]


def test_action_counts_add_up_to_the_steps_and_match_the_activity_counts() -> None:
    config = resolve_config(ROOT / "configs/env/default.yaml", {"scenario": "crash", "episode_days": 21})
    rule = load_rule_agent(ROOT / "configs/rules/tuned/dynamic_exposure.yaml", config.book)
    result = rollout(rule, config, tuple(range(1_000_000_000, 1_000_000_012)))
    counts, episodes = result.action_counts, result.episodes
    assert counts.shape == (12, len(config.book.layers) + 1, len(LayerAction))
    steps = episodes["steps"].to_numpy()
    np.testing.assert_array_equal(counts.sum(axis=2), np.repeat(steps[:, None], counts.shape[1], axis=1))
    layers = counts[:, :-1]
    rolls = layers[:, :, LayerAction.ROLL_CLOSER] + layers[:, :, LayerAction.ROLL_OUT]
    np.testing.assert_array_equal(rolls.sum(axis=1), episodes["rolls"])
    np.testing.assert_array_equal(
        layers[:, :, LayerAction.OPEN_COUNTER].sum(axis=1), episodes["counter_trades"]
    )
    assert episodes["counter_trades"].sum() > 0 and episodes["rolls"].sum() > 0  # the check has teeth
