"""Record what a policy meets and decides: observations, masks, book views and actions, per step.

The policy is rolled out with the evaluation harness (:func:`thetagym.evaluate.rollout.rollout`),
one episode per seed, behind a pass-through wrapper that copies what the policy is given and what
it returns. Steps are kept in time order as ``(steps, envs, ...)`` arrays with a ``valid`` mask
(an env's steps after its episode ended belong to an unrecorded new episode), so that agents with
per-episode memory can be replayed in order (see :mod:`thetagym.export.replay`).

The decisions recorded are the *effective* ones: a choice its mask forbids is executed by the env
as HOLD (0), so it is recorded as HOLD; a masked policy never makes one. The env's ``info`` is not
recorded: no rule agent reads it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from thetagym.book import BookView
from thetagym.env.config import EnvConfig
from thetagym.evaluate.rollout import rollout
from thetagym.policies import Policy, PolicyContext
from thetagym.policies.trained import action_nvec

if TYPE_CHECKING:
    import pandas as pd

VIEW_FIELDS = tuple(field.name for field in dataclasses.fields(BookView))


@dataclass
class Recording:
    """A policy's trajectories: ``T`` steps of ``E`` envs (one episode per seed).

    ``observations`` ``(T, E, n_features)``, ``masks`` ``(T, E, sum(nvec))``, ``actions``
    ``(T, E, n_parts)`` (effective decisions), ``views`` every :class:`~thetagym.book.BookView`
    field stacked to ``(T, E, ...)``, ``valid`` ``(T, E)`` the steps of the recorded episodes.
    """

    seeds: tuple[int, ...]
    observations: np.ndarray
    masks: np.ndarray
    actions: np.ndarray
    views: dict[str, np.ndarray]
    valid: np.ndarray
    episodes: pd.DataFrame
    """The rollout's episode table (one row per seed), measures of the policy's episodes."""

    @property
    def n_states(self) -> int:
        return int(self.valid.sum())


def effective_actions(actions: np.ndarray, masks: np.ndarray, nvec: list[int]) -> np.ndarray:
    """``actions`` ``(E, n_parts)`` with every choice its flat mask forbids set to 0 (HOLD); ``masks``
    are ``(E, sum(nvec))`` booleans, ``nvec`` the number of choices of each part.

    >>> effective_actions(np.array([[1, 2]]), np.array([[1, 1, 1, 1, 0]], bool), [2, 3]).tolist()
    [[1, 0]]
    """
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    legal = np.take_along_axis(masks, actions + offsets, axis=1)
    return np.where(legal, actions, 0)


class _Recorder:
    """A :class:`Policy` that passes everything to ``policy`` and keeps a copy of it."""

    def __init__(self, policy: Policy, nvec: list[int], bar: tqdm) -> None:
        self.policy = policy
        self.name = policy.name
        self.nvec = nvec
        self.bar = bar
        self.alive = np.zeros(0, dtype=bool)
        self.steps: list[dict[str, Any]] = []

    def reset(self, rows: np.ndarray) -> None:
        if not self.steps:  # the rollout's first reset: every env starts its recorded episode
            self.alive = np.ones(len(rows), dtype=bool)
        else:  # an episode ended; what follows in these envs is not recorded
            self.alive[rows] = False
        self.policy.reset(rows)

    def act(self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        actions = np.asarray(self.policy.act(observations, action_masks, context))
        masks = np.asarray(action_masks, dtype=bool)
        self.steps.append(
            {
                "observations": np.array(observations),
                "masks": masks.copy(),
                "actions": effective_actions(actions.astype(np.int64), masks, self.nvec),
                "valid": self.alive.copy(),
                "views": {name: np.array(getattr(context.book, name)) for name in VIEW_FIELDS},
            }
        )
        self.bar.update(1)
        return actions


def record(
    policy: Policy, config: EnvConfig, seeds: tuple[int, ...], progress: bool = False, label: str = "record"
) -> Recording:
    """Roll ``policy`` out for one episode per seed of ``seeds`` (training seeds) in envs of
    ``config`` and record every step; ``progress`` shows a bar labelled ``label``."""
    nvec = action_nvec(len(config.book.layers))
    with tqdm(total=config.horizon, unit="step", desc=label, disable=not progress, leave=False) as bar:
        recorder = _Recorder(policy, nvec, bar)
        episodes = rollout(recorder, config, seeds).episodes
    steps = recorder.steps

    def stack(key: str) -> np.ndarray:
        return np.stack([step[key] for step in steps])

    views = {name: np.stack([step["views"][name] for step in steps]) for name in VIEW_FIELDS}
    return Recording(
        seeds=tuple(seeds),
        observations=stack("observations"),
        masks=stack("masks"),
        actions=stack("actions"),
        views=views,
        valid=stack("valid"),
        episodes=episodes,
    )
