"""``hold_to_expiry``: sell the structure (a strangle by default), hold it to expiry, repeat."""

from __future__ import annotations

import numpy as np

from thetagym.book import LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.agent import RuleAgent
from thetagym.policies.rules.config import HoldToExpiryConfig
from thetagym.policies.rules.signals import layers_of


class HoldToExpiry(RuleAgent):
    """OPEN each layer of the configured kinds when it is flat, else HOLD."""

    config: HoldToExpiryConfig

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        flat = ~np.asarray(context.book.is_open, dtype=bool)
        plan.propose(layers_of(context, self.config.layers) & flat, LayerAction.OPEN)
