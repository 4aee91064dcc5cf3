"""Train a PPO or MaskablePPO agent on the batched env, from a :class:`TrainConfig`.

The run folder (:mod:`thetagym.train.run_folder`) keeps the resolved config, the command line, the
package version and git revision, checkpoints, the best model by periodic evaluation against a rule
agent on held-out seeds, and the training and evaluation curves. Ctrl-C saves a checkpoint that
``--resume`` continues from. Observations are scaled by construction, so no normalisation
statistics exist to save.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from tqdm import tqdm

from thetagym.config import dump
from thetagym.env.config import EnvConfig, resolve_config
from thetagym.env.sb3_adapter import SB3VecEnvAdapter
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.evaluate.rollout import rollout
from thetagym.policies.rules import load_rule_agent
from thetagym.policies.trained import TrainedPolicy, write_spaces
from thetagym.train import run_folder
from thetagym.train.config import TrainConfig, load_train_config

EVALUATION_FILE = "evaluations.csv"
EVALUATION_MEASURES = ("pnl", "theta_capture", "max_drawdown", "calmar", "blocked")


@dataclass(frozen=True)
class TrainingResult:
    """Where the run went and how it went."""

    run_dir: Path
    timesteps: int
    seconds: float
    interrupted: bool

    @property
    def steps_per_second(self) -> float:
        return self.timesteps / max(self.seconds, 1e-9)


def _algorithm(config: TrainConfig) -> Any:
    if config.algorithm == "maskable_ppo":
        from sb3_contrib import MaskablePPO

        return MaskablePPO
    from stable_baselines3 import PPO

    return PPO


def build_env(config: TrainConfig) -> tuple[EnvConfig, SB3VecEnvAdapter]:
    """The training env config and its SB3 view, seeded with the run's seed (env ``i``: seed + i)."""
    env_config = resolve_config(config.env, config.env_overrides())
    adapter = SB3VecEnvAdapter(ShortPremiumVectorEnv(config.n_envs, env_config))
    adapter.seed(config.seed)
    return env_config, adapter


def build_model(config: TrainConfig, env: SB3VecEnvAdapter, run_dir: Path | None) -> Any:
    """A fresh model with the config's hyperparameters and network."""
    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[config.policy.activation]
    return _algorithm(config)(
        "MlpPolicy",
        env,
        seed=config.seed,
        device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": list(config.policy.net_arch), "activation_fn": activation},
        tensorboard_log=str(run_dir / "tensorboard") if run_dir is not None and _has_tensorboard() else None,
        **config.hyperparameters.for_sb3(),
    )


def _has_tensorboard() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


class ProgressBar(BaseCallback):
    """A tqdm bar of env-steps with speed and time left."""

    def __init__(self, total: int, start: int) -> None:
        super().__init__()
        self.bar = tqdm(
            total=total, initial=start, unit="step", unit_scale=True, desc="training", smoothing=0.1
        )
        self.last = start

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.last)
        self.last = self.num_timesteps
        return True

    def _on_training_end(self) -> None:
        self.bar.close()


class Checkpoints(BaseCallback):
    """Save ``checkpoints/last.zip`` (and a step-numbered copy) every ``every`` env-steps."""

    def __init__(self, run_dir: Path, every: int) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.every = every
        self.next_save = every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_save:
            save_checkpoint(self.model, self.run_dir, numbered=True)
            self.next_save = (self.num_timesteps // self.every + 1) * self.every
        return True


class PeriodicEvaluation(BaseCallback):
    """Evaluate the policy and the reference rule agent on held-out seeds; keep the best model.

    The best model is the one with the highest mean net P&L less its mean max drawdown in USD
    terms (both per episode), recorded with every evaluation in ``evaluations.csv``.
    """

    def __init__(
        self, config: TrainConfig, env_config: EnvConfig, run_dir: Path, observation_names: list[str]
    ):
        super().__init__()
        self.config = config
        self.env_config = env_config
        self.run_dir = run_dir
        self.observation_names = observation_names
        self.next_evaluation = config.evaluation.every_steps
        schedule = config.evaluation
        self.seeds = tuple(range(schedule.seed, schedule.seed + schedule.episodes))
        self.best_score = -np.inf
        self.reference: pd.DataFrame | None = None

    def _on_step(self) -> bool:
        every = self.config.evaluation.every_steps
        if every and self.num_timesteps >= self.next_evaluation:
            self.evaluate()
            self.next_evaluation = (self.num_timesteps // every + 1) * every
        return True

    def evaluate(self) -> dict[str, float]:
        policy = TrainedPolicy(self.model, "policy", masked=self.config.algorithm == "maskable_ppo")
        episodes = rollout(policy, self.env_config, self.seeds).episodes
        if self.reference is None:
            reference = load_rule_agent(Path(self.config.evaluation.against), self.env_config.book)
            self.reference = rollout(reference, self.env_config, self.seeds).episodes
        row: dict[str, float] = {"timesteps": float(self.num_timesteps)}
        for measure in EVALUATION_MEASURES:
            row[f"policy_{measure}"] = float(episodes[measure].mean())
            row[f"reference_{measure}"] = float(self.reference[measure].mean())
        capital = self.env_config.book.capital
        score = row["policy_pnl"] - row["policy_max_drawdown"] * capital
        row["score"] = score
        if score > self.best_score:
            self.best_score = score
            self.model.save(self.run_dir / run_folder.BEST_MODEL)
        table = self.run_dir / EVALUATION_FILE
        pd.DataFrame([row]).to_csv(table, mode="a", header=not table.exists(), index=False)
        for key, value in row.items():
            self.logger.record(f"eval/{key}", value)
        return row


def save_checkpoint(model: Any, run_dir: Path, numbered: bool = False) -> Path:
    """Write ``checkpoints/last.zip`` (atomically) and, when ``numbered``, a step-numbered copy."""
    folder = run_dir / run_folder.CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "last.partial.zip"
    model.save(partial)
    last = folder / run_folder.LAST_CHECKPOINT
    partial.replace(last)
    if numbered:
        model.save(folder / f"step_{model.num_timesteps}.zip")
    return last


def train(
    config: TrainConfig, run_dir: Path, config_text: str | None = None, progress: bool = True
) -> TrainingResult:
    """Train a new run into the empty (or absent) folder ``run_dir``."""
    run_folder.create_run_folder(run_dir)
    env_config, env = build_env(config)
    run_folder.write_run_record(run_dir, config_text or dump(config), config.seed)
    (run_dir / "env.yaml").write_text(dump(env_config))
    model = build_model(config, env, run_dir)
    write_spaces(run_dir, env.env.observation_names, env.env.core.action_nvec.tolist(), config.algorithm)
    return _learn(config, env_config, model, run_dir, progress, resumed=False)


def resume(run_dir: Path, overrides: dict[str, Any] | None = None, progress: bool = True) -> TrainingResult:
    """Continue the run in ``run_dir`` from its last checkpoint up to its (possibly raised) budget."""
    checkpoint = run_folder.last_checkpoint(run_dir)
    config = load_train_config(run_dir / run_folder.CONFIG_FILE, overrides)
    env_config, env = build_env(config)
    run_folder.write_run_record(run_dir, dump(config), config.seed, {"resumed_from": str(checkpoint)})
    model = _algorithm(config).load(checkpoint, env=env, device="cpu")
    return _learn(config, env_config, model, run_dir, progress, resumed=True)


def _learn(
    config: TrainConfig, env_config: EnvConfig, model: Any, run_dir: Path, progress: bool, resumed: bool
) -> TrainingResult:
    torch.set_num_threads(config.torch_threads)
    formats = ["csv", "tensorboard"] if _has_tensorboard() else ["csv"]
    model.set_logger(configure(str(run_dir), formats))
    start_steps = int(model.num_timesteps)
    remaining = max(config.total_timesteps - start_steps, 0)
    evaluation = PeriodicEvaluation(config, env_config, run_dir, list(model.env.env.observation_names))
    callbacks: list[BaseCallback] = [Checkpoints(run_dir, config.checkpoint_every), evaluation]
    if progress:
        callbacks.append(ProgressBar(config.total_timesteps, start_steps))
    started = time.perf_counter()
    interrupted = False
    try:
        model.learn(remaining, callback=callbacks, reset_num_timesteps=not resumed, progress_bar=False)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - started
    save_checkpoint(model, run_dir)
    if not interrupted:
        model.save(run_dir / "model.zip")
        if config.evaluation.every_steps and not (run_dir / run_folder.BEST_MODEL).exists():
            evaluation.init_callback(model)
            evaluation.evaluate()
    return TrainingResult(run_dir, int(model.num_timesteps) - start_steps, seconds, interrupted)
