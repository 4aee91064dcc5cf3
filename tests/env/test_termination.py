"""Episodes terminate on a margin call or ruin, and truncate at the horizon."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from thetagym.env import core
from thetagym.env.config import load_env_config
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.market.path import MarketPath

from .conftest import DEFAULT_CONFIG


def hold(env: ShortPremiumEnv) -> np.ndarray:
    return np.zeros(env.action_space.shape, dtype=np.int64)


def test_truncates_at_the_horizon_and_then_demands_reset() -> None:
    env = ShortPremiumEnv(DEFAULT_CONFIG, episode_days=2, scenario="calm", ruin_fraction=0.0)
    env.reset(seed=0)
    horizon = env.config.horizon
    for step in range(1, horizon + 1):
        _, _, terminated, truncated, info = env.step(hold(env))
        assert not terminated
        assert truncated == (step == horizon)
    assert info["summary"]["steps"] == horizon and not info["summary"]["margin_call"]
    with pytest.raises(RuntimeError, match=r"call reset\(\)"):
        env.step(hold(env))
    env.reset()
    env.step(hold(env))


def test_step_before_reset_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step"):
        ShortPremiumEnv(DEFAULT_CONFIG).step(np.zeros(1, dtype=np.int64))


def test_ruin_terminates() -> None:
    # Opening the book costs spreads and fees, so equity starts just under capital: with a ruin
    # line at 99.999% of capital the first step must end the episode.
    env = ShortPremiumEnv(DEFAULT_CONFIG, ruin_fraction=0.99999)
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step(hold(env))
    assert terminated and not truncated
    assert info["equity"] <= 0.99999 * env.config.book.capital


def test_margin_call_terminates() -> None:
    # A book sized for a million dollars on a tenth of the capital breaches at once.
    config = load_env_config(DEFAULT_CONFIG)
    config = replace(config, book=replace(config.book, capital=config.book.capital / 10), ruin_fraction=0.0)
    env = ShortPremiumEnv(config, scenario="crash")
    env.reset(seed=0)
    for _ in range(config.horizon):
        _, _, terminated, truncated, info = env.step(hold(env))
        if terminated or truncated:
            break
    assert terminated and not truncated
    assert info["summary"]["margin_call"]


def test_autoreset_simulates_every_finished_env_in_one_call() -> None:
    envs = ShortPremiumVectorEnv(4, DEFAULT_CONFIG, episode_days=1, scenario="calm", ruin_fraction=0.0)
    envs.reset(seed=0)
    batches: list[int] = []
    simulate = envs.core.paths

    def counted(seeds: np.ndarray) -> MarketPath:
        batches.append(len(seeds))
        return simulate(seeds)

    envs.core.paths = counted
    for _ in range(envs.config.horizon):
        _, _, terminated, truncated, _ = envs.step(np.zeros(envs.action_space.shape, dtype=np.int64))
    assert truncated.all() and not terminated.any()
    assert len(batches) == 1 and batches[0] >= 4  # with the paths of later episodes (PATHS_AHEAD)


def _first_observations(episodes: int) -> list[np.ndarray]:
    env = ShortPremiumEnv(DEFAULT_CONFIG, episode_days=1, scenario="calm", ruin_fraction=0.0)
    observations = [env.reset(seed=3)[0]]
    for _ in range(episodes - 1):
        for _ in range(env.config.horizon):
            env.step(hold(env))
        observations.append(env.reset()[0])
    return observations


def test_paths_simulated_ahead_give_the_episodes_of_paths_drawn_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ahead = _first_observations(4)
    monkeypatch.setattr(core, "PATHS_AHEAD", 1)
    one_by_one = _first_observations(4)
    for one, other in zip(ahead, one_by_one, strict=True):
        np.testing.assert_array_equal(one, other)
    assert not np.array_equal(ahead[1], ahead[2])  # each episode on a new path
