"""Env-steps per second of training, end to end: `thetagym bench train CONFIG`.

Trains ``config`` for ``steps`` env-steps into a temporary folder, with periodic evaluation off and
a single checkpoint at the end, and reports the rate over the whole run and its two halves: the
rollouts (env steps, the base rule of a residual policy, the policy's forward pass) and the
updates (PPO's epochs over the rollout). The target (:data:`TARGET`) is for 2 cores.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from thetagym.train.config import load_train_config

TARGET = 10_000.0
"""Env-steps per second of training the shipped configs should reach on 2 cores."""


class _Phases(BaseCallback):
    """Wall time spent collecting rollouts, the rest of training being the updates."""

    def __init__(self) -> None:
        super().__init__()
        self.collecting = 0.0
        self._started = 0.0

    def _on_rollout_start(self) -> None:
        self._started = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.collecting += time.perf_counter() - self._started

    def _on_step(self) -> bool:
        return True


def benchmark_training(config_path: str | Path, steps: int = 262_144) -> dict[str, Any]:
    """Train the config at ``config_path`` for ``steps`` env-steps (rounded up to whole rollouts)
    and time it: env-steps per second overall, while collecting and while updating."""
    from thetagym.train.run import train

    config = load_train_config(config_path)
    config = dataclasses.replace(
        config,
        total_timesteps=steps,
        checkpoint_every=10 * steps,
        evaluation=dataclasses.replace(config.evaluation, every_steps=0),
    )
    phases = _Phases()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = train(config, Path(folder) / "run", progress=False, callbacks=[phases])
        seconds = time.perf_counter() - started
    updating = max(seconds - phases.collecting, 1e-9)
    return {
        "config": str(config_path),
        "env_steps": result.timesteps,
        "n_envs": config.n_envs,
        "residual": bool(config.base_rules),
        "seconds": seconds,
        "env_steps_per_second": result.timesteps / seconds,
        "collecting_seconds": phases.collecting,
        "updating_seconds": updating,
        "target": TARGET,
    }
