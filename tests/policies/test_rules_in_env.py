"""Every rule agent runs short episodes of the real vector env: finite, legal, and the naive
rebalancer spirals only when the guard is off (its blocked adds are counted when it is on)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thetagym.env.config import EnvConfig, resolve_config
from thetagym.env.factory import GuardOffWarning
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.policies import PolicyContext
from thetagym.policies.rules import load_rule_agent

ROOT = Path(__file__).parents[2]
BOOKS = {
    "dynamic_exposure": "default.yaml",
    "alvh": "alvh_condor_ladder.yaml",
    "naive_rebalancer": "default.yaml",
    "hold_to_expiry": "default.yaml",
    "put_write": "put_write.yaml",
}
NUM_ENVS = 4


def env_config(book: str, scenario: str, days: int, guard: bool = True) -> EnvConfig:
    config = resolve_config(ROOT / "configs/env" / book, {"episode_days": days, "scenario": scenario})
    if guard:
        return config
    off = dataclasses.replace(config.book.guard, enabled=False)
    return dataclasses.replace(config, book=dataclasses.replace(config.book, guard=off))


def run_episode(agent: str, config: EnvConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """One episode per env; checks each step's observations and the legality of the agent's
    choices (the naive rebalancer excepted); returns the env's episode summaries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GuardOffWarning)
        envs = ShortPremiumVectorEnv(NUM_ENVS, config)
    layers = [layer.name for layer in config.book.layers]
    kinds = [layer.kind for layer in config.book.layers]
    policy = load_rule_agent(ROOT / "configs/rules" / f"{agent}.yaml", config.book)
    observations, _ = envs.reset(seed=[seed + i for i in range(NUM_ENVS)])
    policy.reset(np.arange(NUM_ENVS))
    nvec = np.asarray(envs.core.book.action_nvec)
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    info: dict[str, Any] = {}
    summary: dict[str, np.ndarray] = {}
    while len(summary.get("pnl", ())) < NUM_ENVS:
        masks = envs.action_masks()
        context = PolicyContext(envs.core.book.view(), envs.observation_names, layers, kinds, info)
        actions = policy.act(observations, masks, context)
        assert actions.shape == (NUM_ENVS, len(nvec))
        if agent != "naive_rebalancer":
            assert np.take_along_axis(masks, actions + offsets, axis=1).all()
        observations, rewards, terminated, truncated, info = envs.step(actions)
        assert np.isfinite(observations).all() and np.isfinite(rewards).all()
        ended = terminated | truncated
        if ended.any():
            assert ended.all(), "episodes of equal length end together"
            summary = {k: np.asarray(v) for k, v in info["final_info"]["summary"].items()}
    return summary


@pytest.mark.parametrize("agent", sorted(BOOKS))
def test_each_agent_runs_an_episode_without_nan_and_without_blocked_choices(agent: str) -> None:
    summary = run_episode(agent, env_config(BOOKS[agent], "whipsaw", days=15))
    assert np.isfinite(summary["pnl"]).all()
    if agent != "naive_rebalancer":
        assert (summary["blocked"] == 0).all()


def test_naive_rebalancer_spirals_with_the_guard_off_and_is_blocked_with_it_on() -> None:
    guarded = run_episode("naive_rebalancer", env_config("default.yaml", "trend_down", days=42))
    unguarded = run_episode(
        "naive_rebalancer", env_config("default.yaml", "trend_down", days=42, guard=False)
    )
    assert guarded["adds_blocked"].sum() > 0
    assert guarded["spiral_index"].max() <= 1.5
    assert unguarded["spiral_index"].max() > 5 * guarded["spiral_index"].max()
    assert (unguarded["adds_blocked"] == 0).all()


def test_dynamic_exposure_never_adds_size_to_an_open_wing() -> None:
    summary = run_episode("dynamic_exposure", env_config("default.yaml", "trend_down", days=42, guard=False))
    assert (summary["adds_blocked"] == 0).all()
    assert summary["spiral_index"].max() < 2.0  # counter-trades only, capped by the layers
