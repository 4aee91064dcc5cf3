"""The vector env's env ``i`` equals a single env seeded ``seed + i``, step by step, autoreset included.

Floats of the book may differ by an ulp between batch sizes (matrix products over a different
number of rows), so money compares to 1e-12 relative; observations (float32) compare exactly.

The vector env autoresets in the same step (``SAME_STEP``): where a single env returns the last
observation of an episode, the vector env returns it in ``info["final_obs"]`` and returns the first
observation of the next episode, the one the single env's ``reset()`` (without seed) returns.
"""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.env.kernels import INFO_FIELDS
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.measures import SUMMARY_FIELDS

from .conftest import DEFAULT_CONFIG, masked_random_actions

NUM_ENVS = 3
SEED = 11


def assert_same_info(vector: dict, single: dict) -> None:
    for key, value in vector.items():
        assert single[key] == pytest.approx(value.item(), rel=1e-12, abs=1e-9), key


def test_single_and_vector_envs_step_identically_through_autoreset() -> None:
    settings = {"episode_days": 1}  # a tiny horizon: several episodes end within the test
    vector = ShortPremiumVectorEnv(NUM_ENVS, DEFAULT_CONFIG, **settings)
    singles = [ShortPremiumEnv(DEFAULT_CONFIG, **settings) for _ in range(NUM_ENVS)]
    observations, infos = vector.reset(seed=SEED)
    for i, single in enumerate(singles):
        observation, info = single.reset(seed=SEED + i)
        np.testing.assert_array_equal(observations[i], observation)
        assert_same_info({key: infos[key][i] for key in INFO_FIELDS}, info)
    rng = np.random.default_rng(0)
    horizon = vector.config.horizon
    ended = 0
    for _ in range(3 * horizon + 2):
        masks = vector.action_masks()
        for i, single in enumerate(singles):
            np.testing.assert_array_equal(masks[i], single.action_masks())
        actions = masked_random_actions(rng, masks, vector.single_action_space.nvec)
        observations, rewards, terminated, truncated, infos = vector.step(actions)
        for i, single in enumerate(singles):
            observation, reward, term, trunc, info = single.step(actions[i])
            assert (term, trunc) == (terminated[i], truncated[i])
            assert reward == pytest.approx(rewards[i], rel=1e-12, abs=1e-12)
            if term or trunc:
                ended += 1
                assert infos["_final_obs"][i]
                np.testing.assert_array_equal(infos["final_obs"][i], observation)
                final = infos["final_info"]
                assert_same_info({key: final[key][i] for key in INFO_FIELDS}, info)
                summary = final["summary"]
                assert_same_info({key: summary[key][i] for key in SUMMARY_FIELDS}, info["summary"])
                observation, info = single.reset()
            else:
                assert "final_obs" not in infos or not infos["_final_obs"][i]
            np.testing.assert_array_equal(observations[i], observation)
            assert_same_info({key: infos[key][i] for key in INFO_FIELDS}, info)
    assert ended >= 2 * NUM_ENVS
