"""MaskablePPO trains on the batched env through the SB3 adapter, with the masks passed."""

from __future__ import annotations

import numpy as np
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
