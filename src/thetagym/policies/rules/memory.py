"""What a rule agent remembers between steps: when each layer opened, and the index since.

The observation carries the index's log return over the last bar, not its level, so the agent
keeps its own running log-index (0 at the start of an episode) and notes it, with the layer's days
to expiry, whenever a layer opens. A layer counts as (re)opened when it turns open, when its
days to expiry jump up (a roll, a new rung or a reopening between two steps) or when it starts or
stops holding short options (assignment turns a wing into a futures position).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

ROLL_TOLERANCE_DAYS = 0.5
"""Days to expiry must rise by more than this between steps to count as a new opening."""


class Memory(Protocol):
    """What a rule agent reads of its memory: per env and layer, the index move since the layer
    opened and the layer's age. :class:`LayerMemory` keeps it step by step; the export stands a
    recorded snapshot in for it (:class:`thetagym.export.replay.FrozenMemory`)."""

    def observe(
        self, active: np.ndarray, days: np.ndarray, holds_options: np.ndarray, index_return: np.ndarray
    ) -> None:
        """Advance by one step (see :meth:`LayerMemory.observe`)."""
        ...

    def index_move(self) -> np.ndarray:
        """``(num_envs, n_layers)`` log move of the index since each layer opened."""
        ...

    def age_days(self) -> np.ndarray:
        """``(num_envs, n_layers)`` trading days each open layer has lived."""
        ...

    def reset(self, rows: np.ndarray) -> None:
        """Forget envs ``rows``."""
        ...


class LayerMemory:
    """Per env and layer: the log-index and days to expiry at the layer's last opening.

    Arrays are allocated on the first :meth:`observe` (``(num_envs, n_layers)``).
    """

    def __init__(self) -> None:
        self.log_index = np.zeros(0)
        self.was_open = np.zeros((0, 0), dtype=bool)
        self.last_days = np.zeros((0, 0))
        self.held_options = np.zeros((0, 0), dtype=bool)
        self.open_log_index = np.zeros((0, 0))
        self.open_days = np.zeros((0, 0))

    def observe(
        self, active: np.ndarray, days: np.ndarray, holds_options: np.ndarray, index_return: np.ndarray
    ) -> None:
        """Advance by one step. Per layer ``(num_envs, n_layers)``: ``active`` whether it holds a
        position, ``days`` its days to expiry, ``holds_options`` whether it holds short options;
        ``index_return`` ``(num_envs,)`` is the index's log return over the last bar."""
        is_open = np.array(active, dtype=bool)  # copies: the book view's arrays are read-only
        days = np.array(days, dtype=float)
        if self.was_open.shape != is_open.shape:
            self._allocate(is_open.shape)
        self.log_index = self.log_index + np.asarray(index_return, dtype=float)
        rolled = days > self.last_days + ROLL_TOLERANCE_DAYS
        opened = is_open & (~self.was_open | rolled | (holds_options != self.held_options))
        self.open_log_index = np.where(opened, self.log_index[:, None], self.open_log_index)
        self.open_days = np.where(opened, days, self.open_days)
        self.was_open = is_open
        self.last_days = days
        self.held_options = np.array(holds_options, dtype=bool)

    def index_move(self) -> np.ndarray:
        """``(num_envs, n_layers)`` log move of the index since each layer opened."""
        return self.log_index[:, None] - self.open_log_index

    def age_days(self) -> np.ndarray:
        """``(num_envs, n_layers)`` days each open layer has lived (fall of its days to expiry)."""
        return np.where(self.was_open, self.open_days - self.last_days, 0.0)

    def reset(self, rows: np.ndarray) -> None:
        """Forget envs ``rows`` (their episodes restart)."""
        if self.log_index.size == 0:
            return
        self.log_index[rows] = 0.0
        for array in (self.was_open, self.last_days, self.held_options, self.open_log_index, self.open_days):
            array[rows] = 0

    def _allocate(self, shape: tuple[int, ...]) -> None:
        self.log_index = np.zeros(shape[0])
        self.was_open = np.zeros(shape, dtype=bool)
        self.last_days = np.zeros(shape)
        self.held_options = np.zeros(shape, dtype=bool)
        self.open_log_index = np.zeros(shape)
        self.open_days = np.zeros(shape)
