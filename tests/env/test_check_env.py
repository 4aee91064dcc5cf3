"""Gymnasium's and SB3's env checkers pass on every registered id and every env config."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import thetagym  # noqa: F401  (registers the ids)
from thetagym.env.registration import ENV_IDS
from thetagym.market.replay import has_shared_data

from .conftest import DEFAULT_CONFIG


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_checkers_pass(env_id: str, config_path: Path) -> None:
    env = gymnasium.make(env_id, config=str(config_path), episode_days=2)
    gymnasium_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=True)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_vec_uses_the_batched_env(env_id: str, config_path: Path) -> None:
    envs = gymnasium.make_vec(
        env_id, num_envs=4, vectorization_mode="vector_entry_point", config=str(config_path), episode_days=2
    )
    observation, info = envs.reset(seed=0)
    assert envs.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    assert observation.shape == (4, *envs.single_observation_space.shape)
    assert envs.observation_space.contains(observation)
    actions = np.zeros(envs.action_space.shape, dtype=np.int64)
    observation, reward, terminated, truncated, info = envs.step(actions)
    assert reward.shape == terminated.shape == truncated.shape == (4,)
    assert set(info) >= {"equity", "_equity", "blocked"}
    envs.close()


def test_registration_is_idempotent() -> None:
    from thetagym.env import registration

    registration.register()
    assert registration.ENV_ID in gymnasium.registry


@pytest.mark.skipif(not has_shared_data(), reason="no shared daily CSV files (set THETAGYM_DATA)")
def test_checkers_pass_on_historical_replay() -> None:
    env = gymnasium.make(
        ENV_IDS[0], config=str(DEFAULT_CONFIG), replay={"start": "2018-01-02"}, episode_days=2
    )
    gymnasium_check_env(env.unwrapped, skip_render_check=True)
    assert env.unwrapped.core.market.dates[0, 0] >= np.datetime64("2018-01-02")
