"""One small interface for every agent: rule agents and trained models alike.

A policy maps a batch of observations to a batch of ``MultiDiscrete`` actions. It also receives
the legal-action masks and a :class:`PolicyContext` with read-only views of the book and the
observation's names, so that rule agents can reason in the domain's terms without touching the
environment's private state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from thetagym.book import BookView


@dataclass(frozen=True)
class PolicyContext:
    """What an agent may read besides the observation.

    ``book`` is the env's read-only :class:`thetagym.book.BookView`; ``observation_names`` names
    each column of the observation; ``layer_names`` and ``layer_kinds`` describe the book's layers
    in action order; ``info`` is the env's info of the previous step (empty after a reset).
    """

    book: BookView
    observation_names: Sequence[str]
    layer_names: Sequence[str]
    layer_kinds: Sequence[str]
    info: dict[str, Any]

    def feature(self, observations: np.ndarray, name: str) -> np.ndarray:
        """The column ``name`` of a ``(num_envs, n_features)`` observation batch."""
        try:
            column = list(self.observation_names).index(name)
        except ValueError:
            raise KeyError(f"no observation feature named {name!r}") from None
        return np.asarray(observations[:, column])


@runtime_checkable
class Policy(Protocol):
    """An agent: ``act`` returns ``(num_envs, n_parts)`` integer actions."""

    name: str

    def act(self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        """Actions for a batch of observations ``(num_envs, n_features)`` given flat boolean masks
        ``(num_envs, sum(nvec))``."""
        ...

    def reset(self, rows: np.ndarray) -> None:
        """Forget any per-episode memory of envs ``rows`` (called when their episodes restart)."""
        ...


def split_masks(action_masks: np.ndarray, nvec: Sequence[int]) -> list[np.ndarray]:
    """Split flat masks ``(num_envs, sum(nvec))`` into one ``(num_envs, n)`` array per part.

    >>> parts = split_masks(np.ones((2, 5), dtype=bool), [3, 2])
    >>> [p.shape for p in parts]
    [(2, 3), (2, 2)]
    """
    edges = np.cumsum(nvec)[:-1]
    return list(np.split(np.asarray(action_masks, dtype=bool), edges, axis=1))
