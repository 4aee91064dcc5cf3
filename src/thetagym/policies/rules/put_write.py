"""``put_write``: sell one-month at-the-money puts each month, fully collateralised (a benchmark).

The agent reopens the put wing whenever it is flat, i.e. after each monthly expiry; futures
received by assignment are closed first (the index benchmark settles in cash). Strike (delta
0.5), the monthly expiry and the size (contracts whose notional is about the capital) are the
book's: run it on ``configs/env/put_write.yaml``. Other open layers are closed if
``close_other_layers``.
"""

from __future__ import annotations

import numpy as np

from thetagym.book import LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.agent import RuleAgent
from thetagym.policies.rules.config import PutWriteConfig
from thetagym.policies.rules.signals import futures_positions, layers_of


class PutWrite(RuleAgent):
    """CLOSE assigned futures, OPEN the put wing when flat; optionally CLOSE every other open layer."""

    config: PutWriteConfig

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        is_open = np.asarray(context.book.is_open, dtype=bool)
        put = layers_of(context, ("put_wing",))
        assigned = futures_positions(context.book, context, ("put_wing",))
        plan.propose(assigned, LayerAction.CLOSE)
        plan.propose(put & ~is_open & ~assigned, LayerAction.OPEN)
        if self.config.close_other_layers:
            plan.propose(~put & is_open, LayerAction.CLOSE)
