"""``hold_to_expiry``: sell the structure (a strangle by default), hold it to expiry, repeat."""

from __future__ import annotations

import numpy as np

from thetagym.book import LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.agent import RuleAgent
from thetagym.policies.rules.config import HoldToExpiryConfig
from thetagym.policies.rules.signals import futures_positions, layers_of


class HoldToExpiry(RuleAgent):
    """OPEN each layer of the configured kinds when it is flat, else HOLD.

    Futures received by assignment at expiry are closed at once (as if cash-settled), then the
    structure is sold again.
    """

    config: HoldToExpiryConfig

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        mine = layers_of(context, self.config.layers)
        assigned = futures_positions(context.book, context)
        plan.propose(mine & assigned, LayerAction.CLOSE)
        flat = ~np.asarray(context.book.is_open, dtype=bool)
        plan.propose(mine & flat & ~assigned, LayerAction.OPEN)
