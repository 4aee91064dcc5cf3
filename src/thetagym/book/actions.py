"""The action space: one MultiDiscrete part per layer (:class:`LayerAction`, 8 choices) and one
global part (:class:`BalancerAction`, 4 choices). The compiled
:func:`~thetagym.book.compiled.trading.action_orders` turns legal choices into the quantity every
slot should hold after the step's trades and which slots trade into a new contract.

With the guard on, ``OPEN`` is legal only on a layer whose structure is closed; with the guard
off, ``OPEN`` on an open layer *adds* its standard size to the same contracts. That is the
rebalancing spiral's mechanism: a naive agent re-opens the opposite wing to balance delta.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class LayerAction(IntEnum):
    """Per-layer choices."""

    HOLD = 0
    ROLL_CLOSER = 1
    """Restrike the structure at the target delta, expiry no later than the near target."""
    ROLL_OUT = 2
    """Restrike the structure at the target delta, at a later expiry."""
    ACCEPT_ASSIGNMENT = 3
    """Deep in-the-money short options become the ES future at their strike."""
    CLOSE = 4
    """Close every leg of the layer, counter-trades and assigned futures included."""
    OPEN = 5
    """Open the standard structure (guard off: add its size again if already open)."""
    OPEN_COUNTER = 6
    """Add one counter-trade against the layer's bias."""
    CLOSE_COUNTER = 7
    """Close the layer's counter-trades."""


class BalancerAction(IntEnum):
    """The global part: shift the book through the hedge layer's ES futures."""

    HOLD = 0
    SHIFT_BULL = 1
    SHIFT_BEAR = 2
    FLATTEN = 3


N_LAYER_ACTIONS = len(LayerAction)
N_BALANCER_ACTIONS = len(BalancerAction)


def out_of_range(actions: np.ndarray, nvec: np.ndarray) -> ValueError:
    """The error for ``actions`` (``(n_envs, len(nvec))``) holding a choice outside its part's
    range ``0 .. nvec - 1``, naming the first such choice."""
    env, part = np.argwhere((actions < 0) | (actions >= nvec))[0]
    return ValueError(
        f"action part {part} of env {env} is {actions[env, part]}, outside 0..{nvec[part] - 1} "
        f"(the action space is MultiDiscrete({np.asarray(nvec).tolist()}))"
    )
