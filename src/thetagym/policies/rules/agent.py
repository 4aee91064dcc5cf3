"""The shared frame of a rule agent: config in, :class:`ActionPlan` out."""

from __future__ import annotations

import numpy as np

from thetagym.book import BookConfig, GuardConfig
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.config import AlvhConfig, DynamicExposureConfig, RuleConfig
from thetagym.policies.rules.memory import LayerMemory, Memory


class RuleAgent:
    """A deterministic rule agent, vectorised over envs; subclasses implement :meth:`decide`.

    ``book_config`` (a :class:`thetagym.book.BookConfig`, optional) supplies the layers' biases,
    the delta budget and the spread model where the rule config leaves them to the book;
    ``source`` names where the config came from (its file) in error messages.
    """

    obey_masks = True
    """False only for agents whose illegal choices the env must see (and count)."""

    def __init__(self, config: RuleConfig, book_config: BookConfig | None = None, source: str = "") -> None:
        self.config = config
        self.book_config = book_config
        self.source = source
        self.name = config.name or config.agent

    def act(self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        """``(num_envs, n_layers + 1)`` int64 actions; see :class:`thetagym.policies.base.Policy`."""
        plan = ActionPlan(action_masks, len(context.layer_names), obey_masks=self.obey_masks)
        self.decide(plan, np.asarray(observations), context)
        return plan.actions()

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        """Make this step's proposals into ``plan``, highest priority first."""
        raise NotImplementedError

    def reset(self, rows: np.ndarray) -> None:
        """Forget per-episode memory of envs ``rows`` (stateless agents have none)."""

    def delta_budget(self, configured: float | None) -> float:
        """ES-equivalent contracts: ``configured``, else the book's guard budget, else the guard default."""
        if configured is not None:
            return configured
        guard = self.book_config.guard if self.book_config is not None else GuardConfig()
        return float(guard.delta_budget)


class MemoryRuleAgent(RuleAgent):
    """A rule agent that measures imbalance against ``budget`` (:meth:`delta_budget` of its config's
    ``delta_budget``) and remembers each layer's opening in ``memory``, forgotten on :meth:`reset`."""

    config: DynamicExposureConfig | AlvhConfig

    def __init__(
        self,
        config: DynamicExposureConfig | AlvhConfig,
        book_config: BookConfig | None = None,
        source: str = "",
    ) -> None:
        super().__init__(config, book_config, source)
        self.budget = self.delta_budget(config.delta_budget)
        self.memory: Memory = LayerMemory()

    def reset(self, rows: np.ndarray) -> None:
        self.memory.reset(rows)
