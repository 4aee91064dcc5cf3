"""``naive_rebalancer``: restores delta by selling more of the opposite wing (the spiral).

A book leaning long past ``imbalance`` (the put wing is losing) sells more calls: OPEN on the call
wing; a book leaning short sells more puts. Flat wings are reopened. The agent ignores the masks
on purpose: with the guard on, its adds to the opposite wing are blocked and counted by the env;
with the guard off, each OPEN adds size and the spiral index grows.
"""

from __future__ import annotations

import numpy as np

from thetagym.book import LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.agent import RuleAgent
from thetagym.policies.rules.config import NaiveRebalancerConfig
from thetagym.policies.rules.signals import WINGS, imbalance, layers_of


class NaiveRebalancer(RuleAgent):
    """The rebalancing spiral as a benchmark; see ``configs/rules/naive_rebalancer.yaml``."""

    config: NaiveRebalancerConfig
    obey_masks = False

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        view = context.book
        lean = imbalance(view, self.delta_budget(self.config.delta_budget))
        is_call = layers_of(context, ("call_wing",))
        is_put = layers_of(context, ("put_wing",))
        sell_more = (is_call & (lean > self.config.imbalance)[:, None]) | (
            is_put & (lean < -self.config.imbalance)[:, None]
        )
        flat = layers_of(context, WINGS) & ~np.asarray(view.is_open, dtype=bool)
        plan.propose(sell_more | flat, LayerAction.OPEN)
