"""A rule agent in the loop of a learned policy: the policy learns where to depart from the rule.

Residual learning over a base controller. Each step the base rule (a rule config, e.g. the tuned
``dynamic_exposure``) proposes its action; the learned policy sees the env's observation plus that
proposal (one-hot per action part) and picks, per part, either an action of the env or
FOLLOW, the extra last choice of each part, which does what the rule proposed. A policy whose
FOLLOW logits start high starts as the rule and learns only the departures that pay.

The env never sees FOLLOW: :meth:`RuleResidual.resolve` turns the policy's choices into env
actions, so evaluation, export and the guard work on the same actions as for any agent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.agent import RuleAgent


class RuleResidual:
    """The base rule of a residual policy, with the per-step bookkeeping around it.

    ``nvec`` is the env's ``MultiDiscrete`` layout; the policy's layout is ``nvec + 1`` (the last
    choice of part ``i``, index ``nvec[i]``, is FOLLOW) and its observation the env's plus
    ``sum(nvec)`` one-hot entries of the rule's proposal.
    """

    def __init__(self, rule: RuleAgent, nvec: Sequence[int]) -> None:
        self.rule = rule
        self.nvec = np.asarray(nvec, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
        self.proposal = np.zeros((0, len(self.nvec)), dtype=np.int64)

    @property
    def policy_nvec(self) -> list[int]:
        """The learned policy's action layout: each part with FOLLOW added last."""
        return (self.nvec + 1).tolist()

    def observe(
        self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext
    ) -> np.ndarray:
        """The rule's proposal for this step (kept for :meth:`resolve`) appended to the
        observations: ``(num_envs, n_features + sum(nvec))`` float32."""
        self.proposal = np.asarray(self.rule.act(observations, action_masks, context), dtype=np.int64)
        return np.concatenate([observations, self.one_hot(self.proposal)], axis=1, dtype=np.float32)

    def one_hot(self, proposal: np.ndarray) -> np.ndarray:
        """``(num_envs, sum(nvec))`` float32: 1 at each part's proposed choice."""
        encoded = np.zeros((len(proposal), int(self.nvec.sum())), dtype=np.float32)
        encoded[np.arange(len(proposal))[:, None], self.offsets[None, :] + proposal] = 1.0
        return encoded

    def masks(self, action_masks: np.ndarray) -> np.ndarray:
        """The env's flat masks with FOLLOW (always legal) appended to each part."""
        edges = np.cumsum(self.nvec)[:-1]
        follow = np.ones((len(action_masks), 1), dtype=bool)
        parts = np.split(np.asarray(action_masks, dtype=bool), edges, axis=1)
        return np.concatenate([np.concatenate([part, follow], axis=1) for part in parts], axis=1)

    def resolve(self, actions: np.ndarray) -> np.ndarray:
        """Env actions ``(num_envs, n_parts)``: FOLLOW replaced by the rule's proposal."""
        actions = np.asarray(actions, dtype=np.int64).reshape(len(self.proposal), -1)
        return np.where(actions == self.nvec[None, :], self.proposal, actions)

    def reset(self, rows: np.ndarray) -> None:
        """Forget the rule's memory of envs ``rows`` (their episodes restart)."""
        self.rule.reset(rows)
