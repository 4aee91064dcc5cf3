"""Training a residual policy: the SB3 view of the env with the base rule in the loop.

See :mod:`thetagym.policies.residual` for the idea. :class:`ResidualAdapter` shows the learner the
env's observation plus the rule's proposal, takes actions with FOLLOW choices and resolves them before the env steps; :func:`start_at_rule` sets the policy's output so
that a fresh network follows the rule with probability ``follow_probability`` per part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from thetagym.env.sb3_adapter import SB3VecEnvAdapter
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.policies import PolicyContext
from thetagym.policies.residual import RuleResidual


class ResidualAdapter(SB3VecEnvAdapter):
    """An :class:`SB3VecEnvAdapter` whose learner acts through a :class:`RuleResidual`.

    The terminal observation of an episode carries the rule's proposal of its last step (the
    rule is not asked again about a state no action is taken in).
    """

    def __init__(self, env: ShortPremiumVectorEnv, residual: RuleResidual, common_paths: int = 1) -> None:
        super().__init__(env, common_paths)
        self.residual = residual
        config = env.config
        self.layer_names = [layer.name for layer in config.book.layers]
        self.layer_kinds = [layer.kind for layer in config.book.layers]
        low = float(env.single_observation_space.low.min())  # type: ignore[attr-defined]
        high = float(env.single_observation_space.high.max())  # type: ignore[attr-defined]
        size = env.single_observation_space.shape[0] + int(residual.nvec.sum())  # type: ignore[index]
        self.observation_space = spaces.Box(low, high, (size,), np.float32)
        self.action_space = spaces.MultiDiscrete(residual.policy_nvec)
        self._env_masks = np.zeros((env.num_envs, int(residual.nvec.sum())), dtype=bool)

    def reset(self) -> VecEnvObs:
        observation = super().reset()
        self.residual.reset(np.arange(self.num_envs))
        return self._observe(np.asarray(observation))

    def step_async(self, actions: np.ndarray) -> None:
        super().step_async(self.residual.resolve(actions))

    def step_wait(self) -> VecEnvStepReturn:
        observation, reward, dones, infos = super().step_wait()
        proposal = self.residual.proposal
        if dones.any():
            self.residual.reset(np.flatnonzero(dones))
            encoded = self.residual.one_hot(proposal)
            for row in np.flatnonzero(dones).tolist():
                infos[row]["terminal_observation"] = np.concatenate(
                    [infos[row]["terminal_observation"], encoded[row]]
                ).astype(np.float32)
        return self._observe(np.asarray(observation)), reward, dones, infos

    def action_masks(self) -> np.ndarray:
        """Legal choices of the learner: the env's (computed once per step, when the rule saw
        them) with FOLLOW, ``(num_envs, sum(nvec + 1))``."""
        return self.residual.masks(self._env_masks)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        if method_name == "action_masks":
            masks = self.action_masks()
            return [masks[row] for row in self._indices(indices)]
        return super().env_method(method_name, *method_args, indices=indices, **method_kwargs)

    def _observe(self, observation: np.ndarray) -> np.ndarray:
        view = self.env.core.book.view()
        context = PolicyContext(view, self.env.observation_names, self.layer_names, self.layer_kinds, {})
        self._env_masks = super().action_masks()
        return self.residual.observe(observation, self._env_masks, context)


def start_at_rule(policy: Any, residual: RuleResidual, follow_probability: float) -> None:
    """Set the action head of an SB3 actor-critic so that each part picks FOLLOW (its last choice)
    with probability ``follow_probability`` when every allowed departure is legal: weights scaled
    down 100x, the FOLLOW bias ``log(p k / (1 - p))`` for ``k`` allowed departures, the others 0."""
    head = policy.action_net
    allowed = np.split(residual.allowed, np.cumsum(residual.nvec)[:-1])
    with torch.no_grad():
        head.weight.mul_(0.01)
        head.bias.zero_()
        start = 0
        for n, part in zip(residual.policy_nvec, allowed, strict=True):
            departures = max(int(part.sum()), 1)
            head.bias[start + n - 1] = float(
                np.log(follow_probability * departures / (1.0 - follow_probability))
            )
            start += n
