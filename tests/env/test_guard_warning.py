"""An env whose book runs without the guard warns once, however long it runs."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest

from thetagym.env.config import EnvConfig, load_env_config
from thetagym.env.factory import GuardOffWarning
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.env.vector import ShortPremiumVectorEnv

from .conftest import DEFAULT_CONFIG


def guard_off_config() -> EnvConfig:
    config = load_env_config(DEFAULT_CONFIG)
    book = replace(config.book, guard=replace(config.book.guard, enabled=False))
    return replace(config, book=book, episode_days=1)


@pytest.mark.parametrize("make", [ShortPremiumEnv, lambda c: ShortPremiumVectorEnv(4, c)])
def test_guard_off_warns_exactly_once(make) -> None:
    with pytest.warns(GuardOffWarning, match="guard is off") as record:
        env = make(guard_off_config())
        env.reset(seed=0)
        for _ in range(10):
            env.step(np.zeros(env.action_space.shape, dtype=np.int64))
            if isinstance(env, ShortPremiumEnv):
                env.reset()
    assert sum(issubclass(w.category, GuardOffWarning) for w in record) == 1


def test_guard_on_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", GuardOffWarning)
        env = ShortPremiumEnv(DEFAULT_CONFIG, episode_days=1)
        env.reset(seed=0)
