"""A stable-baselines3 ``VecEnv`` over the batched env: SB3 (and sb3-contrib's MaskablePPO) train
on ``num_envs`` envs stepped as one array program, with no subprocesses.

SB3 conventions: ``step_wait`` returns ``(obs, rewards, dones, infos)`` with one info dict per env;
a finished env's dict holds ``terminal_observation``, ``TimeLimit.truncated`` (truncated and not
terminated), ``episode`` (``r`` return, ``l`` length, ``t`` seconds since start, as SB3's Monitor)
and ``summary`` (the episode's measures). ``env_method("action_masks")`` and :meth:`action_masks`
give the legal choices, so ``sb3_contrib.common.maskable.utils.get_action_masks`` works.

With ``common_paths`` ``g > 1``, each run of ``g`` consecutive envs shares its market paths (env
``i`` is seeded with ``seed + i // g``; paths do not depend on actions) and each env's reward is
taken relative to its group's mean that step: the market's move, common to the group, cancels,
and what is left is what the env's own actions earned against its peers' (a baseline for the
policy gradient with common random numbers).

Usage::

    adapter = SB3VecEnvAdapter(ShortPremiumVectorEnv(64, "configs/env/default.yaml"))
    MaskablePPO("MlpPolicy", adapter).learn(100_000)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from thetagym.env.vector import ShortPremiumVectorEnv


class SB3VecEnvAdapter(VecEnv):
    """SB3 ``VecEnv`` view of a :class:`~thetagym.env.vector.ShortPremiumVectorEnv`."""

    def __init__(self, env: ShortPremiumVectorEnv, common_paths: int = 1) -> None:
        if common_paths < 1 or env.num_envs % common_paths:
            raise ValueError(f"common_paths {common_paths} must divide the {env.num_envs} envs")
        self.env = env
        self.common_paths = common_paths
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions = np.zeros((env.num_envs, len(env.core.action_nvec)), dtype=np.int64)
        self._start = time.time()

    def reset(self) -> VecEnvObs:
        seeds: list[int | None] | None = None
        if any(seed is not None for seed in self._seeds):
            seeds = list(self._seeds)
        observation, _ = self.env.reset(seed=seeds)
        self._reset_seeds()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return observation

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed env ``i`` with ``seed + i // common_paths`` at the next reset (SB3: ``seed + i``)."""
        first = int(super().seed(seed)[0] or 0)
        self._seeds = [first + i // self.common_paths for i in range(self.num_envs)]
        return self._seeds

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs, -1)

    def step_wait(self) -> VecEnvStepReturn:
        observation, reward, terminated, truncated, info = self.env.step(self._actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if "final_obs" in info:
            final_observation = info["final_obs"]
            summary = info["final_info"]["summary"]
            elapsed = round(time.time() - self._start, 6)
            # One tolist() per measure instead of one item() per measure and finished env.
            columns = {key: value.tolist() for key, value in summary.items() if not key.startswith("_")}
            for row in np.flatnonzero(dones).tolist():
                measures = {key: column[row] for key, column in columns.items()}
                infos[row] = {
                    "terminal_observation": final_observation[row],
                    "TimeLimit.truncated": bool(truncated[row] and not terminated[row]),
                    "episode": {"r": measures["reward"], "l": measures["steps"], "t": elapsed},
                    "summary": measures,
                }
        if self.common_paths > 1:
            grouped = reward.reshape(-1, self.common_paths)
            reward = (grouped - grouped.mean(axis=1, keepdims=True)).reshape(-1)
        return observation, reward.astype(np.float32), dones, infos

    def action_masks(self) -> np.ndarray:
        """Legal choices, ``(num_envs, sum(nvec))`` bool."""
        return self.env.action_masks()

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.env, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        rows = list(self._indices(indices))
        if method_name == "action_masks":
            masks = self.env.action_masks()
            return [masks[row] for row in rows]
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result for _ in rows]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def _indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices) if isinstance(indices, Sequence | np.ndarray) else indices
