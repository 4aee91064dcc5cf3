"""MaskablePPO trains on the batched env through the SB3 adapter, with the masks passed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

from thetagym.env.sb3_adapter import SB3VecEnvAdapter
from thetagym.env.vector import ShortPremiumVectorEnv

from .conftest import DEFAULT_CONFIG


def test_maskable_ppo_learns_a_few_hundred_steps_with_masks() -> None:
    torch.set_num_threads(1)
    adapter = SB3VecEnvAdapter(ShortPremiumVectorEnv(4, DEFAULT_CONFIG, episode_days=1))
    calls = []
    original = adapter.env.action_masks

    def counted() -> np.ndarray:
        calls.append(1)
        return original()

    adapter.env.action_masks = counted  # type: ignore[method-assign]
    assert is_masking_supported(adapter)
    model = MaskablePPO("MlpPolicy", adapter, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    assert len(calls) >= 256 // 4
    assert len(model.ep_info_buffer) > 0  # episodes ended and were reported as SB3's Monitor does


def test_adapter_reports_terminal_observation_and_truncation() -> None:
    adapter = SB3VecEnvAdapter(ShortPremiumVectorEnv(2, DEFAULT_CONFIG, episode_days=1))
    adapter.seed(3)
    observation = adapter.reset()
    assert observation.shape == (2, *adapter.observation_space.shape)
    masks = get_action_masks(adapter)
    assert masks.shape == (2, int(adapter.action_space.nvec.sum()))
    horizon = adapter.env.config.horizon
    for _ in range(horizon):
        adapter.step_async(np.zeros((2, len(adapter.action_space.nvec)), dtype=np.int64))
        observation, rewards, dones, infos = adapter.step_wait()
        if dones.any():
            break
    assert rewards.dtype == np.float32
    for done, info in zip(dones, infos, strict=True):
        if done:
            assert info["terminal_observation"].shape == observation.shape[1:]
            assert isinstance(info["TimeLimit.truncated"], bool)
            assert {"r", "l", "t"} <= set(info["episode"]) and "theta_capture" in info["summary"]


def test_common_paths_share_the_market_and_reward_against_the_group() -> None:
    """Groups of two envs run the same market paths across episodes whatever they do, and each
    reward is the env's own minus its group's mean: the group's rewards sum to zero, and their
    difference is the difference of the plain rewards."""
    plain = SB3VecEnvAdapter(ShortPremiumVectorEnv(4, DEFAULT_CONFIG, episode_days=2))
    grouped = SB3VecEnvAdapter(ShortPremiumVectorEnv(4, DEFAULT_CONFIG, episode_days=2), common_paths=2)
    assert grouped.seed(5) == [5, 5, 6, 6]
    plain._seeds = [5, 5, 6, 6]
    plain.reset()
    grouped.reset()
    names = grouped.env.observation_names
    market = [names.index("market.log_vix"), names.index("market.index_return_bar")]
    rng = np.random.default_rng(0)
    nvec = grouped.action_space.nvec
    for _ in range(3 * grouped.env.config.horizon):
        masks = np.split(grouped.action_masks(), np.cumsum(nvec)[:-1], axis=1)
        actions = np.stack([[rng.choice(np.flatnonzero(part[row])) for part in masks] for row in range(4)])
        plain.step_async(actions)
        grouped.step_async(actions)
        plain_observation, plain_rewards, _, _ = plain.step_wait()
        observation, rewards, _, _ = grouped.step_wait()
        np.testing.assert_array_equal(observation, plain_observation)
        np.testing.assert_array_equal(observation[0, market], observation[1, market])
        np.testing.assert_array_equal(observation[2, market], observation[3, market])
        np.testing.assert_allclose(rewards.reshape(2, 2).sum(axis=1), 0.0, atol=1e-7)
        np.testing.assert_allclose(rewards[0] - rewards[1], plain_rewards[0] - plain_rewards[1], atol=1e-6)
    assert not np.array_equal(observation[0, market], observation[2, market])


def test_common_paths_must_divide_the_envs() -> None:
    with pytest.raises(ValueError, match="common_paths 3 must divide the 4 envs"):
        SB3VecEnvAdapter(ShortPremiumVectorEnv(4, DEFAULT_CONFIG), common_paths=3)
