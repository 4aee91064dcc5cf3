"""Same seed, same actions: the same rollout, across resets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thetagym.env.short_premium import ShortPremiumEnv

from .conftest import DEFAULT_CONFIG, masked_random_actions


def rollout(seed: int, steps: int, config: Path = DEFAULT_CONFIG) -> list[tuple]:
    env = ShortPremiumEnv(config, episode_days=3)
    rng = np.random.default_rng(seed)
    observation, info = env.reset(seed=seed)
    trace: list[tuple] = [(observation, info)]
    for _ in range(steps):
        action = masked_random_actions(rng, env.action_masks(), env.action_space.nvec)[0]
        observation, reward, terminated, truncated, info = env.step(action)
        trace.append((observation, reward, terminated, truncated, info))
        if terminated or truncated:
            observation, info = env.reset()
            trace.append((observation, info))
    return trace


def assert_same(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, np.ndarray):
                np.testing.assert_array_equal(u, v)
            else:
                assert u == v


def test_same_seed_same_rollout_across_episodes() -> None:
    steps = 40  # 3 days of bars, then a second episode
    assert_same(rollout(7, steps), rollout(7, steps))


def test_different_seeds_differ() -> None:
    a, b = rollout(1, 5), rollout(2, 5)
    assert not np.array_equal(a[-1][0], b[-1][0])
