"""The batched vector env: ``num_envs`` books stepped as one array program.

Gymnasium vector conventions: autoreset mode ``SAME_STEP`` (a finished env is reset inside the
step that ended it; ``info["final_obs"]`` and ``info["final_info"]`` hold what the ended episode's
last step returned, with masks ``_final_obs`` / ``_final_info``); per-step info entries are arrays
over envs with ``_<key>`` masks. ``reset(seed=s)`` seeds env ``i`` with ``s + i``, so env ``i`` steps
exactly like a :class:`~thetagym.env.short_premium.ShortPremiumEnv` reset with seed ``s + i`` and
reset again (without seed) whenever its episode ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from thetagym.env.config import EnvConfig, resolve_config
from thetagym.env.core import StepOutput
from thetagym.env.factory import make_core
from thetagym.env.observation import observation_names


class ShortPremiumVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` :class:`~thetagym.env.short_premium.ShortPremiumEnv` s over one batched core.

    Arguments as the single env, plus ``num_envs``. :meth:`action_masks` returns
    ``(num_envs, sum(nvec))`` booleans.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int,
        config: EnvConfig | str | Path | dict[str, Any] | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"ShortPremiumVectorEnv does not render; got render_mode={render_mode!r}")
        self.config = resolve_config(config, overrides)
        self.core = make_core(self.config, num_envs=num_envs, autoreset=True)
        self.num_envs = num_envs
        clip = self.config.observation_clip
        self.single_action_space = spaces.MultiDiscrete(self.core.action_nvec)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.single_observation_space = spaces.Box(-clip, clip, (self.core.observation_size,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.observation_names = observation_names(self.config)
        self._all = np.ones(num_envs, dtype=bool)
        self._all.setflags(write=False)
        self._rows = np.arange(num_envs)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start new episodes in every env; ``seed`` seeds env ``i`` with ``seed + i`` (or give a list)."""
        if isinstance(seed, int):
            self.core.seed(self._rows, [seed + i for i in range(self.num_envs)])
        elif seed is not None:
            if len(seed) != self.num_envs:
                raise ValueError(f"got {len(seed)} seeds for {self.num_envs} envs")
            self.core.seed(self._rows, seed)
        observation, info = self.core.reset(self._rows)
        return observation, self._with_masks(info)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        out = self.core.step(actions)
        info = self._with_masks(out.info)
        if out.done_rows.size:
            self._add_final(info, out)
        return out.observation, out.reward, out.terminated, out.truncated, info

    def action_masks(self) -> np.ndarray:
        """Legal choices of every env, ``(num_envs, sum(nvec))`` bool."""
        return self.core.action_masks()

    def _with_masks(self, info: dict[str, np.ndarray]) -> dict[str, Any]:
        masked: dict[str, Any] = dict(info)
        for key in info:
            masked["_" + key] = self._all
        return masked

    def _add_final(self, info: dict[str, Any], out: StepOutput) -> None:
        done = np.zeros(self.num_envs, dtype=bool)
        done[out.done_rows] = True
        final_observation = np.zeros((self.num_envs, self.core.observation_size), dtype=np.float32)
        final_observation[out.done_rows] = out.final_observation
        rows, size = out.done_rows, self.num_envs
        summary: dict[str, Any] = {name: _scatter(v, rows, size) for name, v in out.summary.items()}
        summary.update({"_" + name: done for name in out.summary})
        final_info: dict[str, Any] = {key: _scatter(v, rows, size) for key, v in out.final_info.items()}
        final_info["summary"] = summary
        final_info.update({"_" + key: done for key in list(final_info)})
        info["final_obs"], info["_final_obs"] = final_observation, done
        info["final_info"], info["_final_info"] = final_info, done


def _scatter(values: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    full = np.zeros(size, dtype=values.dtype)
    full[rows] = values
    return full
