"""Recording keeps the steps of the recorded episodes in order, and the replay reproduces the
recorded agent's decisions exactly, its memory included."""

from __future__ import annotations

import numpy as np

from thetagym.env.config import EnvConfig
from thetagym.env.observation import observation_names
from thetagym.export.record import effective_actions, record
from thetagym.export.replay import Layout, replay_states, rule_decisions
from thetagym.policies.rules import DynamicExposureConfig, build_rule_agent


def test_replay_in_one_batch_matches_the_recorded_agent(
    env_config: EnvConfig, known_config: DynamicExposureConfig
) -> None:
    agent = build_rule_agent(known_config, env_config.book)
    first = record(agent, env_config, (3, 4))
    again = record(agent, env_config, (3, 4))  # the same agent twice: its memory resets cleanly
    np.testing.assert_array_equal(first.actions, again.actions)
    steps = env_config.horizon
    assert first.observations.shape[:2] == (steps, 2) and first.valid.all()
    layout = Layout(
        tuple(observation_names(env_config)),
        tuple(layer.name for layer in env_config.book.layers),
        tuple(layer.kind for layer in env_config.book.layers),
    )
    states = replay_states(first, known_config, layout, env_config.book)
    assert len(states) == first.n_states
    assert (states.policy_actions != 0).any()
    np.testing.assert_array_equal(
        rule_decisions(known_config, states, layout, env_config.book), states.policy_actions
    )


def test_illegal_choices_are_recorded_as_hold() -> None:
    masks = np.array([[True, False, True, True, False]])
    assert effective_actions(np.array([[1, 1]]), masks, [2, 3]).tolist() == [[0, 1]]
