"""Train a PPO or MaskablePPO agent on the batched env, from a :class:`TrainConfig`.

The run folder (:mod:`thetagym.train.run_folder`) keeps the resolved config, the command line, the
package version and git revision, checkpoints, the best policy by periodic evaluation against a rule
agent on held-out seeds, and the training and evaluation curves. Policies and checkpoints are
written as data (:mod:`thetagym.train.checkpoint`), never pickled. Observations are scaled by
construction, so no normalisation statistics exist to save.

Resume (Ctrl-C, then ``--resume``) continues from the last checkpoint exactly as the uninterrupted
run would have gone on: weights, Adam moments, SB3's counters (so the learning-rate and clip
schedules), the torch, numpy and Python random states, the best score, the evaluation and
checkpoint schedule, and the envs' episodes in progress, rebuilt by replaying the logged actions
(:mod:`thetagym.train.action_log`) through envs seeded as the run was. The resumed run's weights are
bit for bit those of an uninterrupted one; ``progress.csv`` and ``evaluations.csv`` keep their rows
up to the checkpoint and the resumed rows follow, equal but for the wall-clock columns
(``time/fps``, ``time/time_elapsed``) and ``time/iterations``, which SB3 counts from 1 again.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import pandas as pd
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import CSVOutputFormat, KVWriter, Logger, make_output_format
from tqdm import tqdm

from thetagym.config import ConfigError, dump
from thetagym.env.config import EnvConfig, resolve_config
from thetagym.env.sb3_adapter import SB3VecEnvAdapter
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.evaluate.rollout import rollout
from thetagym.measures import pooled_sharpe
from thetagym.policies.residual import RuleResidual, departing_parts
from thetagym.policies.rules import load_rule_agent
from thetagym.policies.stored import PolicySpec, policy_spec, record_digests, save_policy
from thetagym.policies.trained import BASE_RULES_FILE, SPACES_FILE, TrainedPolicy, action_nvec, write_spaces
from thetagym.train import run_folder
from thetagym.train.action_log import ACTION_LOG, ActionLog, replay
from thetagym.train.checkpoint import Snapshot, read_checkpoint, restore, take_snapshot, write_checkpoint
from thetagym.train.config import TrainConfig, load_train_config
from thetagym.train.residual import ResidualAdapter, start_at_rule

EVALUATION_FILE = "evaluations.csv"
ENV_FILE = "env.yaml"
PROGRESS_STEPS = "time/total_timesteps"
"""Column of ``progress.csv`` holding the env-steps done."""
EVALUATION_MEASURES = ("pnl", "theta_capture", "max_drawdown", "calmar", "blocked")


@dataclass(frozen=True)
class TrainingResult:
    """Where the run went and how it went."""

    run_dir: Path
    timesteps: int
    seconds: float
    interrupted: bool
    started_at: int = 0

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
    """The training env config and its SB3 view, seeded with the run's seed (env ``i``: seed + i);
    with ``base_rules``, the view of a residual policy."""
    env_config = resolve_config(config.env, config.env_overrides())
    envs = ShortPremiumVectorEnv(config.n_envs, env_config)
    residual = build_residual(config, env_config)
    if residual is not None:
        adapter: SB3VecEnvAdapter = ResidualAdapter(envs, residual, config.common_paths)
    else:
        adapter = SB3VecEnvAdapter(envs, config.common_paths)
    adapter.seed(config.seed)
    return env_config, adapter


def build_residual(config: TrainConfig, env_config: EnvConfig) -> RuleResidual | None:
    """A fresh base rule (its own memory) for the config's residual policy; None without ``base_rules``."""
    if not config.base_rules:
        return None
    rule = load_rule_agent(Path(config.base_rules), env_config.book)
    layer_names = [layer.name for layer in env_config.book.layers]
    try:
        departing = departing_parts(layer_names, config.departure_parts)
    except ValueError as error:
        raise ConfigError(f"departure_parts: {error}") from None
    return RuleResidual(
        rule, action_nvec(len(layer_names)), config.departures, departing, config.departure_triggers
    )


def build_model(config: TrainConfig, env: SB3VecEnvAdapter, run_dir: Path | None) -> Any:
    """A fresh model with the config's hyperparameters and network; a residual policy starts
    out following its rule (:func:`thetagym.train.residual.start_at_rule`)."""
    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[config.policy.activation]
    model = _algorithm(config)(
        "MlpPolicy",
        env,
        seed=config.seed,
        device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": list(config.policy.net_arch), "activation_fn": activation},
        tensorboard_log=str(run_dir / "tensorboard") if run_dir is not None and _has_tensorboard() else None,
        **config.hyperparameters.for_sb3(),
    )
    if isinstance(env, ResidualAdapter):
        start_at_rule(model.policy, env.residual, config.follow_probability)
    return model


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


class AppendingCSV(CSVOutputFormat):
    """SB3's CSV log, continuing an existing file (its header and rows kept) instead of erasing it."""

    def __init__(self, filename: str) -> None:
        path = Path(filename)
        if path.is_file() and path.stat().st_size:
            self.file = open(filename, "r+")
            self.keys = next(csv.reader([self.file.readline()]), [])
            self.file.seek(0, 2)
        else:
            self.file = open(filename, "w+")
            self.keys = []
        self.separator = ","
        self.quotechar = '"'


def make_logger(run_dir: Path) -> Logger:
    """``progress.csv`` (appended to) and, when installed, TensorBoard logs in ``run_dir``."""
    formats: list[KVWriter] = [AppendingCSV(str(run_dir / run_folder.PROGRESS_FILE))]
    if _has_tensorboard():
        formats.append(make_output_format("tensorboard", str(run_dir)))
    return Logger(str(run_dir), formats)


def keep_rows_up_to(path: Path, column: str, timesteps: int) -> None:
    """Drop the rows of the CSV ``path`` whose ``column`` is past ``timesteps`` (steps a resumed run
    redoes), keeping every other line as written."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return
    header = next(csv.reader([lines[0]]))
    if column not in header:
        return
    index = header.index(column)
    kept = [lines[0]]
    for line in lines[1:]:
        cells = next(csv.reader([line]), [])
        try:
            if float(cells[index]) > timesteps:
                continue
        except (IndexError, ValueError):
            pass
        kept.append(line)
    if len(kept) < len(lines):
        path.write_text("".join(kept))


class Checkpoints(BaseCallback):
    """Snapshot the model at every rollout start (its state is complete between updates) and write
    the snapshot to ``checkpoints/last/`` and ``checkpoints/step_<n>/`` every ``every`` env-steps."""

    def __init__(
        self,
        run_dir: Path,
        every: int,
        spec: PolicySpec,
        evaluation: PeriodicEvaluation,
        actions: ActionLog,
        next_save: int | None = None,
    ) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.every = every
        self.spec = spec
        self.evaluation = evaluation
        self.actions = actions
        self.next_save = every if next_save is None else next_save
        self.snapshot: Snapshot | None = None

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        due = self.num_timesteps >= self.next_save
        if due:
            self.next_save = (self.num_timesteps // self.every + 1) * self.every
        self.snapshot = self.take()
        if due:
            self.write(self.snapshot, numbered=True)

    def take(self) -> Snapshot:
        """A snapshot of the model now, with the callbacks' schedules."""
        schedule = {
            "next_checkpoint": int(self.next_save),
            "next_evaluation": int(self.evaluation.next_evaluation),
            "best_score": float(self.evaluation.best_score),
            "n_envs": int(self.model.n_envs),
            **self.actions.mark(),
        }
        return take_snapshot(self.model, schedule)

    def write(self, snapshot: Snapshot, numbered: bool = False) -> Path:
        """Write ``snapshot`` as the last checkpoint (and, when ``numbered``, a step-numbered copy)."""
        spaces = (self.run_dir / SPACES_FILE).read_text()
        companions = base_rules_file(self.run_dir)
        folder = self.run_dir / run_folder.CHECKPOINTS
        last = write_checkpoint(snapshot, self.spec, spaces, folder / run_folder.LAST_CHECKPOINT, companions)
        if numbered:
            write_checkpoint(snapshot, self.spec, spaces, folder / f"step_{snapshot.timesteps}", companions)
        return last


class PeriodicEvaluation(BaseCallback):
    """Evaluate the policy and the reference rule agent on held-out seeds; keep the best policy.

    The best policy is the one with the highest mean net P&L less its mean max drawdown in USD
    terms (both per episode), recorded with every evaluation in ``evaluations.csv``; its score is
    kept in ``best/metadata.yaml``, so a resumed run never replaces it with a worse one.
    """

    def __init__(
        self,
        config: TrainConfig,
        env_config: EnvConfig,
        run_dir: Path,
        spec: PolicySpec,
        next_evaluation: int | None = None,
    ):
        super().__init__()
        self.config = config
        self.env_config = env_config
        self.run_dir = run_dir
        self.spec = spec
        every = config.evaluation.every_steps
        self.next_evaluation = every if next_evaluation is None else next_evaluation
        schedule = config.evaluation
        self.seeds = tuple(range(schedule.seed, schedule.seed + schedule.episodes))
        self.best_score = best_score(run_dir)
        self.reference: pd.DataFrame | None = None

    def _on_step(self) -> bool:
        every = self.config.evaluation.every_steps
        if every and self.num_timesteps >= self.next_evaluation:
            self.evaluate()
            self.next_evaluation = (self.num_timesteps // every + 1) * every
        return True

    def evaluate(self) -> dict[str, float]:
        masked = self.config.algorithm == "maskable_ppo"
        residual = build_residual(self.config, self.env_config)
        policy = TrainedPolicy(self.model.policy, "policy", masked=masked, residual=residual)
        episodes = rollout(policy, self.env_config, self.seeds).episodes
        if self.reference is None:
            reference = load_rule_agent(Path(self.config.evaluation.against), self.env_config.book)
            self.reference = rollout(reference, self.env_config, self.seeds).episodes
        row: dict[str, float] = {"timesteps": float(self.num_timesteps)}
        for measure in EVALUATION_MEASURES:
            row[f"policy_{measure}"] = float(episodes[measure].mean())
            row[f"reference_{measure}"] = float(self.reference[measure].mean())
        row["policy_sharpe"] = track_sharpe(episodes)
        row["reference_sharpe"] = track_sharpe(self.reference)
        capital = self.env_config.book.capital
        score = row["policy_pnl"] - row["policy_max_drawdown"] * capital
        row["score"] = score
        if score > self.best_score:
            self.best_score = score
            extra = {"score": score, "timesteps": int(self.num_timesteps)}
            save_policy_folder(
                self.model, self.spec, self.run_dir, self.run_dir / run_folder.BEST_POLICY, extra
            )
        table = self.run_dir / EVALUATION_FILE
        pd.DataFrame([row]).to_csv(table, mode="a", header=not table.exists(), index=False)
        for key, value in row.items():
            self.logger.record(f"eval/{key}", value)
        return row


def track_sharpe(episodes: pd.DataFrame) -> float:
    """The pooled Sharpe ratio of a table of episodes: their days laid end to end."""
    moments = (episodes[name].to_numpy() for name in ("trading_days", "return_sum", "return_sum2"))
    return float(pooled_sharpe(*moments))


def best_score(run_dir: Path) -> float:
    """The score of the run's best policy so far (``-inf`` when there is none)."""
    import yaml

    path = run_dir / run_folder.BEST_POLICY / "metadata.yaml"
    if not path.is_file():
        return float("-inf")
    record = yaml.safe_load(path.read_text()) or {}
    return float(record.get("score", float("-inf")))


def save_policy_folder(
    model: Any, spec: PolicySpec, run_dir: Path, folder: Path, extra: dict[str, Any]
) -> None:
    """Store ``model``'s policy in ``folder`` with the run's ``spaces.yaml`` and the digests (of
    ``env.yaml`` too in the run folder itself, which export-thresholds reads)."""
    names = save_policy(model.policy.state_dict(), spec, folder)
    companions = {SPACES_FILE: (run_dir / SPACES_FILE).read_bytes(), **base_rules_file(run_dir)}
    if folder != run_dir:
        for name, data in companions.items():
            (folder / name).write_bytes(data)
    else:
        names.append(ENV_FILE)
    record_digests(folder, [*names, *companions], extra=extra)


def base_rules_file(run_dir: Path) -> dict[str, bytes]:
    """A residual run's base rule config (name to bytes), which every policy folder of the run
    carries; empty for a plain policy."""
    path = run_dir / BASE_RULES_FILE
    return {BASE_RULES_FILE: path.read_bytes()} if path.is_file() else {}


def train(
    config: TrainConfig,
    run_dir: Path,
    config_text: str | None = None,
    progress: bool = True,
    callbacks: list[BaseCallback] | None = None,
) -> TrainingResult:
    """Train a new run into the empty (or absent) folder ``run_dir``; ``callbacks`` (SB3's) run
    after the run's own."""
    with training_threads(config):
        run_folder.create_run_folder(run_dir)
        env_config, env = build_env(config)
        run_folder.write_run_record(run_dir, config_text or dump(config), config.seed)
        (run_dir / ENV_FILE).write_text(dump(env_config))
        model = build_model(config, env, run_dir)
        base_rules = Path(config.base_rules) if config.base_rules else None
        write_spaces(
            run_dir,
            env.env.observation_names,
            env.env.core.action_nvec.tolist(),
            config.algorithm,
            base_rules,
            config.departures,
            config.departure_parts,
            config.departure_triggers,
        )
        return _learn(config, env_config, model, run_dir, progress, None, callbacks or [])


def resume(run_dir: Path, overrides: dict[str, Any] | None = None, progress: bool = True) -> TrainingResult:
    """Continue the run in ``run_dir`` from its last checkpoint up to its (possibly raised) budget."""
    checkpoint = run_folder.last_checkpoint(run_dir)
    original = load_train_config(run_dir / run_folder.CONFIG_FILE)
    for key in ("seed", "n_envs"):
        value = (overrides or {}).get(key)
        if value is not None and value != getattr(original, key):
            raise run_folder.RunFolderError(
                f"{run_dir}: --{key.replace('_', '-')} {value} differs from the run's {getattr(original, key)}; "
                "a resumed run keeps its envs (rebuilt from its seed and logged actions)"
            )
    config = load_train_config(run_dir / run_folder.CONFIG_FILE, overrides)
    snapshot, spec = read_checkpoint(checkpoint)
    done = snapshot.timesteps
    if done >= config.total_timesteps:
        raise run_folder.RunFolderError(
            f"{run_dir}: the run is already finished ({done:,} of {config.total_timesteps:,} env-steps); "
            "to train it further, raise its budget with --timesteps"
        )
    state = snapshot.state
    if config.n_envs != state["n_envs"]:
        raise run_folder.RunFolderError(
            f"{checkpoint}: n_envs {state['n_envs']} differs from {run_dir / run_folder.CONFIG_FILE}'s {config.n_envs}"
        )
    with training_threads(config):
        env_config, env = build_env(config)
        model = build_model(config, env, run_dir)
        if policy_spec(model.policy, config.algorithm) != spec:
            raise run_folder.RunFolderError(
                f"{checkpoint}: the checkpoint's network does not match {run_dir / run_folder.CONFIG_FILE}"
            )
        restore(model, snapshot)
        log = run_dir / run_folder.CHECKPOINTS / ACTION_LOG
        model._last_obs, model._last_episode_starts = replay(
            log, state["action_rows"], state["action_sha256"], env
        )
        keep_rows_up_to(run_dir / run_folder.PROGRESS_FILE, PROGRESS_STEPS, done)
        keep_rows_up_to(run_dir / EVALUATION_FILE, "timesteps", done)
        run_folder.write_run_record(
            run_dir, dump(config), config.seed, {"resumed_from": f"{checkpoint} ({done} steps)"}
        )
        return _learn(config, env_config, model, run_dir, progress, snapshot, [])


@contextmanager
def training_threads(config: TrainConfig) -> Iterator[None]:
    """Run the block with the config's torch threads, set before the network is built (its
    orthogonal initialisation runs a QR whose rounding depends on them, so this is what makes a run
    alone equal the same seed as a single-threaded --seeds worker), and its env threads (numba's,
    at most its pool; for speed only, restored after)."""
    torch.set_num_threads(config.torch_threads)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(config.env_threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _learn(
    config: TrainConfig,
    env_config: EnvConfig,
    model: Any,
    run_dir: Path,
    progress: bool,
    snapshot: Snapshot | None,
    extra_callbacks: list[BaseCallback],
) -> TrainingResult:
    model.set_logger(make_logger(run_dir))
    state = snapshot.state if snapshot is not None else {}
    for key, value in state.get("logged", {}).items():
        model.logger.record(key, value)
    start_steps = int(model.num_timesteps)
    remaining = max(config.total_timesteps - start_steps, 0)
    spec = policy_spec(model.policy, config.algorithm)
    evaluation = PeriodicEvaluation(config, env_config, run_dir, spec, state.get("next_evaluation"))
    row_bytes = config.n_envs * len(model.action_space.nvec)
    actions = ActionLog(run_dir / run_folder.CHECKPOINTS / ACTION_LOG, row_bytes, state.get("action_rows", 0))
    checkpoints = Checkpoints(
        run_dir, config.checkpoint_every, spec, evaluation, actions, state.get("next_checkpoint")
    )
    callbacks: list[BaseCallback] = [actions, checkpoints, evaluation, *extra_callbacks]
    if progress:
        callbacks.append(ProgressBar(config.total_timesteps, start_steps))
    started = time.perf_counter()
    interrupted = False
    try:
        model.learn(remaining, callback=callbacks, reset_num_timesteps=snapshot is None, progress_bar=False)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - started
    if interrupted:
        if checkpoints.snapshot is not None:
            checkpoints.write(checkpoints.snapshot)
    else:
        checkpoints.write(checkpoints.take())
        extra = {"algorithm": config.algorithm, "seed": config.seed, "timesteps": int(model.num_timesteps)}
        save_policy_folder(model, spec, run_dir, run_dir, extra)
        if config.evaluation.every_steps and not (run_dir / run_folder.BEST_POLICY).exists():
            evaluation.init_callback(model)
            evaluation.evaluate()
    actions.close()
    model.logger.close()
    return TrainingResult(run_dir, int(model.num_timesteps) - start_steps, seconds, interrupted, start_steps)
