"""Choosing actions for a batch: every proposal is taken only where it is legal, else HOLD.

An :class:`ActionPlan` starts with HOLD in every part. Agents make proposals in priority order;
a proposal fills a part only where the part still holds HOLD and the mask allows the action, so
the first legal proposal wins and an illegal one falls back to HOLD. :meth:`ActionPlan.settle`
ends the choice for some parts: whatever they hold then (HOLD, or an earlier proposal) stays. ``obey_masks=False`` (the
naive rebalancer) skips the mask check so that the env's guard blocks and counts the choice.
"""

from __future__ import annotations

import numpy as np

from thetagym.book import BalancerAction, LayerAction

LAYER_CHOICES = len(LayerAction)
BALANCER_CHOICES = len(BalancerAction)


class ActionPlan:
    """Actions of ``num_envs`` envs being chosen: ``layers`` ``(num_envs, n_layers)`` and ``balancer``
    ``(num_envs,)``, read back as ``(num_envs, n_layers + 1)`` by :meth:`actions`."""

    def __init__(self, action_masks: np.ndarray, n_layers: int, *, obey_masks: bool = True) -> None:
        masks = np.asarray(action_masks, dtype=bool)
        width = n_layers * LAYER_CHOICES + BALANCER_CHOICES
        if masks.ndim != 2 or masks.shape[1] != width:
            raise ValueError(
                f"action masks of shape {masks.shape} do not fit a book of {n_layers} layers: "
                f"expected (num_envs, {width})"
            )
        num_envs = masks.shape[0]
        self.obey_masks = obey_masks
        self.layer_masks = masks[:, : n_layers * LAYER_CHOICES].reshape(num_envs, n_layers, LAYER_CHOICES)
        self.balancer_masks = masks[:, n_layers * LAYER_CHOICES :]
        self.layers = np.full((num_envs, n_layers), int(LayerAction.HOLD), dtype=np.int64)
        self.balancer = np.full(num_envs, int(BalancerAction.HOLD), dtype=np.int64)
        self.settled = np.zeros((num_envs, n_layers), dtype=bool)

    def propose(self, want: np.ndarray, action: LayerAction) -> None:
        """Choose ``action`` in the layers where ``want`` ``(num_envs, n_layers)`` holds, if legal and free."""
        take = np.asarray(want, dtype=bool) & (self.layers == LayerAction.HOLD) & ~self.settled
        if self.obey_masks:
            take &= self.layer_masks[:, :, action]
        self.layers[take] = action

    def settle(self, parts: np.ndarray) -> None:
        """End the choice in the layers where ``parts`` (``(num_envs, n_layers)`` or ``(n_layers,)``)
        holds: later proposals leave them as they are (HOLD where nothing was proposed yet)."""
        self.settled |= np.asarray(parts, dtype=bool)

    def propose_balancer(self, want: np.ndarray, action: BalancerAction) -> None:
        """Choose the balancer's ``action`` in the envs where ``want`` ``(num_envs,)`` holds, if legal and free."""
        take = np.asarray(want, dtype=bool) & (self.balancer == BalancerAction.HOLD)
        if self.obey_masks:
            take &= self.balancer_masks[:, action]
        self.balancer[take] = action

    def actions(self) -> np.ndarray:
        """The chosen actions, ``(num_envs, n_layers + 1)`` int64."""
        return np.concatenate([self.layers, self.balancer[:, None]], axis=1)
