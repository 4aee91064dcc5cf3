"""Observations: bounded by construction in every scenario, named, and blind to the future."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.env.config import load_env_config
from thetagym.env.observation import observation_names
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.market.path import MarketPath
from thetagym.market.scenarios import SCENARIOS

from .conftest import DEFAULT_CONFIG, masked_random_actions


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_observations_stay_in_bounds_in_every_scenario(scenario: str) -> None:
    envs = ShortPremiumVectorEnv(8, DEFAULT_CONFIG, scenario=scenario, episode_days=10)
    rng = np.random.default_rng(1)
    observations, _ = envs.reset(seed=100)
    clip = envs.config.observation_clip
    seen = [observations]
    for _ in range(60):
        actions = masked_random_actions(rng, envs.action_masks(), envs.single_action_space.nvec)
        observations, *_ = envs.step(actions)
        seen.append(observations)
    stacked = np.stack(seen)
    assert stacked.dtype == np.float32 and np.all(np.isfinite(stacked))
    assert envs.observation_space.contains(observations)
    assert np.abs(stacked).max() <= clip
    # Scaled by construction: the clip is a guard rail, not the usual value.
    assert np.mean(np.abs(stacked) >= clip) < 0.02


def test_names_match_the_vector() -> None:
    config = load_env_config(DEFAULT_CONFIG)
    names = observation_names(config)
    env = ShortPremiumEnv(config)
    assert len(names) == env.observation_space.shape[0] == len(set(names))
    assert names[0] == f"{config.book.layers[0].name}.delta" and names[-1] == "market.days_to_monthly"


def perturb_after(path: MarketPath, bar: int) -> MarketPath:
    """A copy of ``path`` whose every per-bar series changes after ``bar``."""
    changed = path.take(np.zeros(path.n_paths, dtype=np.int64))
    later = slice(bar + 1, None)
    for name in ("index", "vxx", "inverse_vix"):
        getattr(changed, name)[:, later] *= 0.9
    for name in ("vix", "vix3m"):
        getattr(changed, name)[:, later] *= 1.6
    for name in ("variance", "implied_variance"):
        getattr(changed, name)[:, later] *= 2.5
    for name in ("skew", "realised_volatility", "index_rsi", "index_macd", "vix_rsi", "vix_macd"):
        getattr(changed, name)[:, later] += 0.05
    return changed


def rollout_on(path: MarketPath, actions: np.ndarray) -> list[np.ndarray]:
    env = ShortPremiumEnv(DEFAULT_CONFIG, episode_days=3)
    env.core.paths = lambda seeds: path.take(np.zeros(len(seeds), dtype=np.int64))
    observation, _ = env.reset(seed=0)
    observations = [observation]
    for action in actions:
        observation, _, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        if terminated or truncated:
            break
    return observations


def test_observation_at_bar_t_ignores_bars_after_t() -> None:
    env = ShortPremiumEnv(DEFAULT_CONFIG, episode_days=3)
    path = env.core.paths(np.array([123]))
    bar = 5
    actions = np.zeros((bar + 3, len(env.action_space.nvec)), dtype=np.int64)
    actions[:, 0] = 1  # roll the first layer closer each bar, so trading reads prices too
    original = rollout_on(path, actions)
    perturbed = rollout_on(perturb_after(path, bar), actions)
    for t in range(bar + 1):
        np.testing.assert_array_equal(
            original[t], perturbed[t], err_msg=f"observation at bar {t} saw the future"
        )
    assert not np.array_equal(original[bar + 1], perturbed[bar + 1])
