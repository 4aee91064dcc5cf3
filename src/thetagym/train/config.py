"""``TrainConfig``: one typed YAML file per training setup, in the spirit of rl-baselines3-zoo.

::

    env: configs/env/default.yaml       # the book (and market) the agent trains on
    scenario: calm-to-stressed          # scenario or scenario mix of the training paths
    algorithm: maskable_ppo             # or ppo (masks ignored; the guard turns illegal picks into HOLD)
    total_timesteps: 1_000_000
    n_envs: 64
    seed: 1
    hyperparameters: {learning_rate: lin_3e-4, n_steps: 128, batch_size: 2048}
    policy: {net_arch: [128, 128], activation: tanh}
    evaluation: {every_steps: 100_000, episodes: 32, against: configs/rules/dynamic_exposure.yaml}
    base_rules: configs/rules/tuned/dynamic_exposure.yaml   # optional: learn departures from a rule
    departures: [hold, roll_closer]     # optional: the only actions it may take instead of the rule's
    departure_parts: [put_wing]         # optional: the only action parts that may depart
    departure_triggers: [accept_assignment]  # optional: depart only where the rule proposes these

Schedules such as ``lin_3e-4`` are parsed by :mod:`thetagym.train.schedules`, never evaluated.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from thetagym.config import ConfigError, build, nested, read_yaml, setting
from thetagym.env.reward import RewardConfig
from thetagym.policies.residual import DEPARTURES, check_departures
from thetagym.seeds import EVALUATION_SEED_BASE, MAX_SEED, TRAINING_SEED_RANGE, check_evaluation_seeds
from thetagym.train.schedules import LinearSchedule, parse_schedule

SCHEDULE_RANGES = {"learning_rate": 1.0, "clip_range": 1.0}
"""Largest initial value of each schedule: an Adam step above 1 diverges, and PPO's clip range is
a fraction of the probability ratio (0.1 to 0.3 in practice)."""


@dataclass(frozen=True)
class Hyperparameters:
    """stable-baselines3 PPO settings; ``learning_rate`` and ``clip_range`` accept ``lin_<x>``."""

    learning_rate: float | str = setting("lin_3e-4", doc="Adam step size, constant or lin_<initial>")
    n_steps: int = setting(128, ge=8, le=100_000, doc="steps per env between updates")
    batch_size: int = setting(2048, ge=8, le=10_000_000, doc="minibatch size (transitions)")
    n_epochs: int = setting(5, ge=1, le=1_000, doc="passes over each rollout")
    gamma: float = setting(
        0.995, ge=0.5, le=1.0, doc="discount per bar (0.5: a horizon of two bars, half a trading day)"
    )
    gae_lambda: float = setting(0.95, ge=0.5, le=1.0, doc="GAE bias-variance trade-off")
    clip_range: float | str = setting(0.2, doc="PPO clip range, constant or lin_<initial>")
    ent_coef: float = setting(0.01, ge=0.0, le=1.0, doc="entropy bonus weight (PPO uses 0 to 0.05)")
    vf_coef: float = setting(0.5, ge=0.0, le=10.0, doc="value loss weight")
    max_grad_norm: float = setting(0.5, gt=0.0, le=100.0, doc="gradient clipping norm")
    normalize_advantage: bool = setting(True, doc="normalise advantages per minibatch")

    def __post_init__(self) -> None:
        for key, high in SCHEDULE_RANGES.items():
            schedule = parse_schedule(getattr(self, key), key)
            initial = schedule.initial if isinstance(schedule, LinearSchedule) else schedule
            if not (math.isfinite(initial) and 0.0 < initial <= high):
                raise ValueError(f"{key}: {getattr(self, key)!r} is out of range, must be in (0, {high:g}]")

    def for_sb3(self) -> dict[str, Any]:
        """Keyword arguments for the PPO constructor, schedules resolved."""
        values: dict[str, Any] = dict(self.__dict__)
        for key in ("learning_rate", "clip_range"):
            values[key] = parse_schedule(values[key], key)
        return values


@dataclass(frozen=True)
class PolicyNetwork:
    """The actor-critic MLP: hidden layer sizes shared by policy and value heads."""

    net_arch: tuple[int, ...] = setting((128, 128), doc="hidden layer widths")
    activation: Literal["tanh", "relu"] = setting("tanh", doc="hidden activation")

    def __post_init__(self) -> None:
        if not self.net_arch or min(self.net_arch) < 1:
            raise ValueError(f"net_arch must list positive layer widths, got {list(self.net_arch)}")


@dataclass(frozen=True)
class EvaluationSchedule:
    """Periodic evaluation against a rule agent on held-out seeds (outside the training range)."""

    every_steps: int = setting(
        50_000, ge=0, le=10_000_000_000, doc="evaluate every this many env-steps (0: never)"
    )
    episodes: int = setting(16, ge=1, le=100_000, doc="episodes per evaluation (one vector env)")
    against: str = setting("configs/rules/dynamic_exposure.yaml", doc="rule config of the reference agent")
    seed: int = setting(
        EVALUATION_SEED_BASE, ge=0, le=MAX_SEED, doc="base seed of the held-out evaluation paths"
    )

    def __post_init__(self) -> None:
        check_evaluation_seeds(self.seed, scenarios=1, episodes=self.episodes)


@dataclass(frozen=True)
class TrainConfig:
    """A training setup: env, algorithm, hyperparameters, network, budget, seed, evaluation."""

    env: str = setting("configs/env/default.yaml", doc="env or book YAML file")
    scenario: str = setting("", doc="scenario or mix of training paths; empty: the env file's")
    episode_days: int = setting(0, ge=0, doc="episode length in trading days; 0: the env file's")
    reward: RewardConfig | None = setting(None, doc="reward settings; empty: the env file's")
    algorithm: Literal["maskable_ppo", "ppo"] = setting(
        "maskable_ppo", doc="sb3-contrib MaskablePPO or SB3 PPO"
    )
    total_timesteps: int = setting(200_000, ge=1, le=10_000_000_000, doc="env-steps of training")
    n_envs: int = setting(64, ge=1, le=4096, doc="envs in the batched vector env")
    seed: int = setting(1, ge=0, doc="seed of the training run (envs, network, sampling)")
    torch_threads: int = setting(1, ge=1, le=1_024, doc="torch threads (1 is fastest for small networks)")
    env_threads: int = setting(
        1,
        ge=1,
        le=1_024,
        doc="numba threads of the batched env while training (results do not depend on it); 1 is "
        "the fastest at 256 envs, where waking a second thread each step costs more than it saves",
    )
    checkpoint_every: int = setting(50_000, ge=1, doc="env-steps between checkpoints")
    base_rules: str = setting(
        "", doc="rule config the policy learns to depart from (residual policy); empty: none"
    )
    follow_probability: float = setting(
        0.99,
        gt=0.0,
        lt=1.0,
        doc="residual policy: chance per action part that a fresh network follows the rule",
    )
    departures: tuple[str, ...] = setting(
        (),
        doc="residual policy: the only actions it may take instead of following the rule "
        f"(of {', '.join(DEPARTURES)}); empty: every action",
    )
    departure_parts: tuple[str, ...] = setting(
        (),
        doc="residual policy: the only action parts that may depart (the book's layer names, or "
        "balancer); empty: every part",
    )
    departure_triggers: tuple[str, ...] = setting(
        (),
        doc="residual policy: the rule's proposals at which a part may depart (e.g. "
        "accept_assignment); elsewhere it follows the rule; empty: at any proposal",
    )
    common_paths: int = setting(
        1,
        ge=1,
        doc="envs that share each market path; rewards are then relative to the group's mean "
        "(common random numbers); 1: every env its own paths",
    )
    hyperparameters: Hyperparameters = nested(Hyperparameters)
    policy: PolicyNetwork = nested(PolicyNetwork)
    evaluation: EvaluationSchedule = nested(EvaluationSchedule)

    def __post_init__(self) -> None:
        for key in ("departures", "departure_triggers"):
            try:
                check_departures(getattr(self, key))
            except ValueError as error:
                raise ValueError(f"{key}: {error}") from None
        for key in ("departures", "departure_parts", "departure_triggers"):
            if getattr(self, key) and not self.base_rules:
                raise ValueError(f"{key}: set only for a residual policy (one with base_rules)")
        if self.n_envs % self.common_paths:
            raise ValueError(f"common_paths {self.common_paths} must divide n_envs {self.n_envs}")
        rollout = self.n_envs * self.hyperparameters.n_steps
        if self.hyperparameters.batch_size > rollout:
            raise ValueError(
                f"hyperparameters.batch_size {self.hyperparameters.batch_size} exceeds the rollout "
                f"n_envs * n_steps = {rollout}"
            )
        env_seeds = range(self.seed, self.seed + self.n_envs)
        if env_seeds.start not in TRAINING_SEED_RANGE or env_seeds.stop - 1 not in TRAINING_SEED_RANGE:
            raise ValueError(
                f"seed {self.seed} with {self.n_envs} envs leaves the training seed range "
                f"[{TRAINING_SEED_RANGE.start}, {TRAINING_SEED_RANGE.stop})"
            )

    def env_overrides(self) -> dict[str, Any]:
        """Settings that replace the env file's."""
        overrides: dict[str, Any] = {}
        if self.scenario:
            overrides["scenario"] = self.scenario
        if self.episode_days:
            overrides["episode_days"] = self.episode_days
        if self.reward is not None:
            overrides["reward"] = self.reward
        return overrides


def load_train_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Load a :class:`TrainConfig`, applying command-line ``overrides`` (checked like YAML values)."""
    data = read_yaml(path)
    if not data:
        raise ConfigError(
            f"{path}: the training config is empty; name at least its env and total_timesteps "
            "(see configs/train/maskable_ppo.yaml)"
        )
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    config = build(TrainConfig, data, source=str(path))
    env = _find(config.env, Path(path), "env")
    against = _find(config.evaluation.against, Path(path), "evaluation.against")
    base_rules = str(_find(config.base_rules, Path(path), "base_rules")) if config.base_rules else ""
    return dataclasses.replace(
        config,
        env=str(env),
        base_rules=base_rules,
        evaluation=dataclasses.replace(config.evaluation, against=str(against)),
    )


def _find(name: str, source: Path, key: str) -> Path:
    """A file named in ``source``: as given (absolute, or from the working directory), else relative
    to the config's folder or one of its parents (so ``configs/env/x.yaml`` works from anywhere)."""
    candidates = [Path(name)] + [folder / name for folder in source.resolve().parents]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise ConfigError(f"{source}: key {key!r}: no such file {name!r}")


__all__ = [
    "EvaluationSchedule",
    "Hyperparameters",
    "LinearSchedule",
    "PolicyNetwork",
    "TrainConfig",
    "load_train_config",
]
