"""The global bull/bear balancer rule shared by the agents that steer it."""

from __future__ import annotations

import numpy as np

from thetagym.book import BalancerAction
from thetagym.policies.rules.actions import ActionPlan


def propose_balance(
    plan: ActionPlan,
    imbalance: np.ndarray,
    shift_band: float | np.ndarray,
    flatten_band: float | np.ndarray,
    hedged: np.ndarray,
) -> None:
    """Shift against the book's lean outside ``shift_band``; flatten inside ``flatten_band`` where ``hedged``.

    ``imbalance`` is net delta over the delta budget; all arguments ``(num_envs,)`` (or scalars).
    A long book (``imbalance > shift_band``) shifts bear, a short one bull. FLATTEN closes the
    whole hedge layer, so callers say with ``hedged`` when there is something of theirs to close.
    """
    plan.propose_balancer(imbalance > shift_band, BalancerAction.SHIFT_BEAR)
    plan.propose_balancer(imbalance < -shift_band, BalancerAction.SHIFT_BULL)
    plan.propose_balancer((np.abs(imbalance) <= flatten_band) & hedged, BalancerAction.FLATTEN)
