"""A rule agent in the loop of a learned policy: the policy learns where to depart from the rule.

Residual learning over a base controller. Each step the base rule (a rule config, e.g. the tuned
``dynamic_exposure``) proposes its action; the learned policy sees the env's observation plus that
proposal (one-hot per action part) and picks, per part, either an action of the env or
FOLLOW, the extra last choice of each part, which does what the rule proposed. A policy whose
FOLLOW logits start high starts as the rule and learns only the departures that pay.

``departures`` narrows what the policy may do instead of following: only the named actions (e.g.
``hold`` and ``roll_closer``: veto the rule's action, or roll where it would not), and only on
the ``departing`` parts (e.g. the put wing; the others always follow), and ``triggers`` only at
the rule's named proposals (e.g. ``accept_assignment``: the policy decides whether to take
assignment, and follows everywhere else), so exploring departs in the ways that can pay rather than
at random over every action.

The env never sees FOLLOW: :meth:`RuleResidual.resolve` turns the policy's choices into env
actions, so evaluation, export and the guard work on the same actions as for any agent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thetagym.book import BalancerAction, LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.agent import RuleAgent


class RuleResidual:
    """The base rule of a residual policy, with the per-step bookkeeping around it.

    ``nvec`` is the env's ``MultiDiscrete`` layout; the policy's layout is ``nvec + 1`` (the last
    choice of part ``i``, index ``nvec[i]``, is FOLLOW) and its observation the env's plus
    ``sum(nvec)`` one-hot entries of the rule's proposal. ``departures`` names the actions the
    policy may take instead of FOLLOW (:data:`DEPARTURES`; empty: every action), ``departing`` the
    indices of the parts that may depart at all (None: every part), ``triggers`` the rule's
    proposals at which a part may depart (:data:`DEPARTURES`; empty: any proposal).
    """

    def __init__(
        self,
        rule: RuleAgent,
        nvec: Sequence[int],
        departures: Sequence[str] = (),
        departing: Sequence[int] | None = None,
        triggers: Sequence[str] = (),
    ) -> None:
        self.rule = rule
        self.nvec = np.asarray(nvec, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
        self.proposal = np.zeros((0, len(self.nvec)), dtype=np.int64)
        self.departures = tuple(departures)
        self.departing = tuple(range(len(self.nvec)) if departing is None else departing)
        parts = np.repeat(np.isin(np.arange(len(self.nvec)), self.departing), self.nvec)
        self.allowed = departure_mask(self.nvec, self.departures) & parts
        self.triggers = tuple(triggers)
        self.triggering = departure_mask(self.nvec, self.triggers) if self.triggers else None

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
        """The env's flat masks, narrowed to the allowed departures (and, with ``triggers``, to the
        parts whose current proposal is one of them), with FOLLOW (always legal) appended to each
        part."""
        edges = np.cumsum(self.nvec)[:-1]
        follow = np.ones((len(action_masks), 1), dtype=bool)
        allowed = np.asarray(action_masks, dtype=bool) & self.allowed
        if self.triggering is not None:
            triggered = self.triggering[self.offsets[None, :] + self.proposal]
            allowed &= np.repeat(triggered, self.nvec, axis=1)
        parts = np.split(allowed, edges, axis=1)
        return np.concatenate([np.concatenate([part, follow], axis=1) for part in parts], axis=1)

    def resolve(self, actions: np.ndarray) -> np.ndarray:
        """Env actions ``(num_envs, n_parts)``: FOLLOW replaced by the rule's proposal."""
        actions = np.asarray(actions, dtype=np.int64).reshape(len(self.proposal), -1)
        return np.where(actions == self.nvec[None, :], self.proposal, actions)

    def reset(self, rows: np.ndarray) -> None:
        """Forget the rule's memory of envs ``rows`` (their episodes restart)."""
        self.rule.reset(rows)


DEPARTURES: tuple[str, ...] = tuple(
    dict.fromkeys(action.name.lower() for kind in (LayerAction, BalancerAction) for action in kind)
)
"""Names of the actions a residual policy may be limited to (layer and balancer actions)."""


def check_departures(departures: Sequence[object]) -> None:
    """Raise ``ValueError`` naming the first of ``departures`` that is not in :data:`DEPARTURES`.

    >>> check_departures(["hold", "roll_in"])
    Traceback (most recent call last):
    ValueError: unknown action 'roll_in'; choose from hold, roll_closer, roll_out, accept_assignment, close, open, open_counter, close_counter, shift_bull, shift_bear, flatten
    """
    unknown = [name for name in departures if name not in DEPARTURES]
    if unknown:
        raise ValueError(f"unknown action {unknown[0]!r}; choose from {', '.join(DEPARTURES)}")


def departure_mask(nvec: np.ndarray, departures: Sequence[str]) -> np.ndarray:
    """``(sum(nvec),)`` bool: the choices named in ``departures`` (every one when empty); the last
    part is the balancer (:class:`BalancerAction`), the others layers (:class:`LayerAction`).

    >>> departure_mask(np.array([8, 8, 4]), ["hold", "roll_closer"]).nonzero()[0].tolist()
    [0, 1, 8, 9, 16]
    """
    check_departures(departures)
    kinds = [LayerAction] * (len(nvec) - 1) + [BalancerAction]
    return np.concatenate(
        [
            [not departures or kind(choice).name.lower() in departures for choice in range(n)]
            for kind, n in zip(kinds, nvec, strict=True)
        ]
    ).astype(bool)


def departing_parts(layer_names: Sequence[str], names: Sequence[str]) -> list[int] | None:
    """Indices of the action parts named in ``names`` (the book's ``layer_names``, then
    ``balancer``, the last part); None (every part) when ``names`` is empty.

    >>> departing_parts(["put_wing", "call_wing"], ["put_wing", "balancer"])
    [0, 2]
    """
    if not names:
        return None
    parts = [*layer_names, "balancer"]
    unknown = [name for name in names if name not in parts]
    if unknown:
        raise ValueError(f"unknown part {unknown[0]!r}; choose from {', '.join(parts)}")
    return [parts.index(name) for name in names]
