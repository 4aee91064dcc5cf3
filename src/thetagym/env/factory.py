"""Build the batched core of an :class:`~thetagym.env.config.EnvConfig`."""

from __future__ import annotations

import warnings

from thetagym.book import Book
from thetagym.env.config import EnvConfig
from thetagym.env.core import BatchedCore
from thetagym.env.paths import path_source

GUARD_OFF_WARNING = (
    "the spiral-prevention guard is off (book.guard.enabled: false): agents may add size without limit; "
    "use this only to demonstrate the rebalancing spiral"
)


class GuardOffWarning(UserWarning):
    """The env runs a book whose guard is switched off."""


def make_core(config: EnvConfig, num_envs: int, autoreset: bool) -> BatchedCore:
    """A :class:`BatchedCore` of ``num_envs`` envs; warns (once per core) when the guard is off."""
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs}")
    if not config.book.guard.enabled:
        warnings.warn(GUARD_OFF_WARNING, GuardOffWarning, stacklevel=3)
    return BatchedCore(
        Book(config.book, num_envs),
        path_source(config),
        horizon=config.horizon,
        reward_config=config.reward,
        ruin_fraction=config.ruin_fraction,
        clip=config.observation_clip,
        autoreset=autoreset,
    )
