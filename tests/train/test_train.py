"""Training from configs: a tiny run writes a policy that loads (as data) and acts, seeds reproduce
the first update, resume continues, mismatched models and bad configs are refused with clear errors."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
import torch
import yaml

from thetagym.config import ConfigError
from thetagym.policies.base import PolicyContext
from thetagym.policies.stored import record_digests
from thetagym.policies.trained import ModelLoadError, TrainedPolicy, load_trained_agent
from thetagym.train import run
from thetagym.train.config import TrainConfig, load_train_config

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs/train/tiny.yaml"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    torch.set_num_threads(1)


def tiny(**changes: object) -> TrainConfig:
    config = load_train_config(TINY)
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def final_weights(run_dir: Path) -> torch.Tensor:
    """The final policy's parameters of a run, flattened."""
    policy = load_trained_agent(run_dir)
    return torch.cat([p.detach().flatten() for p in policy.network.parameters()])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny training run through the real command, in a subprocess."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    result = subprocess.run(
        [sys.executable, "-m", "thetagym.cli", "train", str(TINY), "--out", str(run_dir), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stderr
    assert "done: 2,048 steps" in result.stdout
    return run_dir


def test_tiny_run_keeps_what_reproduces_it(trained_run: Path) -> None:
    for name in (
        "config.yaml",
        "run.yaml",
        "env.yaml",
        "spaces.yaml",
        "policy.safetensors",
        "policy.yaml",
        "metadata.yaml",
        "best/policy.safetensors",
        "best/metadata.yaml",
        "progress.csv",
        "checkpoints/last/optimizer.pt",
        "checkpoints/step_1024/state.yaml",
    ):
        assert (trained_run / name).is_file(), name
    assert not list(trained_run.rglob("*.zip")) and not list(trained_run.rglob("*.pkl"))
    metadata = yaml.safe_load((trained_run / "metadata.yaml").read_text())
    assert set(metadata["sha256"]) == {"env.yaml", "policy.safetensors", "policy.yaml", "spaces.yaml"}
    assert metadata["timesteps"] == 2048 and metadata["seed"] == 3
    record = yaml.safe_load((trained_run / "run.yaml").read_text())["sessions"][0]
    assert record["seed"] == 3 and "train" in record["command"] and record["git_revision"]
    evaluations = (trained_run / "evaluations.csv").read_text().splitlines()
    assert evaluations[0].startswith("timesteps,policy_pnl")
    assert len(evaluations) >= 2


def test_trained_model_loads_and_acts_within_the_masks(trained_run: Path) -> None:
    from thetagym.env.vector import ShortPremiumVectorEnv

    envs = ShortPremiumVectorEnv(4, "configs/env/default.yaml", scenario="calm", episode_days=5)
    policy = load_trained_agent(trained_run)
    observation, _ = envs.reset(seed=1_000_000_000)
    masks = envs.action_masks()
    layers = [layer.name for layer in envs.config.book.layers]
    kinds = [layer.kind for layer in envs.config.book.layers]
    context = PolicyContext(envs.core.book.view(), envs.observation_names, layers, kinds, {})
    actions = policy.act(observation, masks, context)
    assert actions.shape == (4, len(envs.core.action_nvec))
    offsets = np.concatenate([[0], np.cumsum(envs.core.action_nvec)[:-1]])
    assert masks[np.arange(4)[:, None], offsets + actions].all()


def test_same_seed_gives_the_same_first_update(tmp_path: Path) -> None:
    config = tiny(total_timesteps=512, evaluation=dataclasses.replace(tiny().evaluation, every_steps=0))
    weights = []
    for name in ("a", "b"):
        run.train(config, tmp_path / name, progress=False)
        weights.append(final_weights(tmp_path / name))
    assert torch.equal(weights[0], weights[1])
    other = dataclasses.replace(config, seed=4)
    run.train(other, tmp_path / "c", progress=False)
    assert not torch.equal(weights[0], final_weights(tmp_path / "c"))


def test_the_env_runs_on_env_threads_while_training_and_the_count_is_restored(tmp_path: Path) -> None:
    """The env steps on ``env_threads`` numba threads while training (one by default: faster at
    256 envs), and the process's count is restored afterwards."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Threads(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.seen: set[int] = set()

        def _on_step(self) -> bool:
            self.seen.add(numba.get_num_threads())
            return True

    before = numba.get_num_threads()
    config = tiny(total_timesteps=256, evaluation=dataclasses.replace(tiny().evaluation, every_steps=0))
    watcher = Threads()
    run.train(config, tmp_path / "run", progress=False, callbacks=[watcher])
    assert watcher.seen == {1}
    assert numba.get_num_threads() == before


def test_the_threads_a_process_starts_with_do_not_change_the_weights(tmp_path: Path) -> None:
    """The network's orthogonal initialisation rounds differently on two torch threads than on
    one: training sets the config's threads before building it, so a run alone (two threads) and
    the same run in a single-threaded --seeds worker train the same weights."""
    config = tiny(total_timesteps=512, evaluation=dataclasses.replace(tiny().evaluation, every_steps=0))
    weights = []
    for threads in (2, 1):
        torch.set_num_threads(threads)
        run.train(config, tmp_path / str(threads), progress=False)
        weights.append(final_weights(tmp_path / str(threads)))
    assert torch.equal(weights[0], weights[1])


def test_env_threads_change_the_speed_not_the_weights(tmp_path: Path) -> None:
    """The env's kernels split envs over threads without shared sums (64 envs: the threaded path),
    so one or two numba threads train the same weights."""
    config = tiny(
        n_envs=64, total_timesteps=1024, evaluation=dataclasses.replace(tiny().evaluation, every_steps=0)
    )
    weights = []
    for threads in (1, 2):
        run.train(dataclasses.replace(config, env_threads=threads), tmp_path / str(threads), progress=False)
        weights.append(final_weights(tmp_path / str(threads)))
    assert torch.equal(weights[0], weights[1])


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    config = tiny(total_timesteps=512, evaluation=dataclasses.replace(tiny().evaluation, every_steps=0))
    run.train(
        config,
        tmp_path / "run",
        config_text=yaml.safe_dump({**yaml.safe_load(TINY.read_text()), "total_timesteps": 512}),
        progress=False,
    )
    result = run.resume(tmp_path / "run", {"total_timesteps": 1024}, progress=False)
    assert result.timesteps == 512 and result.started_at == 512
    state = yaml.safe_load((tmp_path / "run" / "checkpoints/last/state.yaml").read_text())
    assert state["num_timesteps"] == 1024
    assert yaml.safe_load((tmp_path / "run" / "metadata.yaml").read_text())["timesteps"] == 1024
    sessions = yaml.safe_load((tmp_path / "run" / "run.yaml").read_text())["sessions"]
    assert len(sessions) == 2 and "resumed_from" in sessions[1]


def test_an_existing_run_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        run.train(tiny(), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    with pytest.raises(ConfigError, match="no checkpoint to resume from"):
        run.resume(tmp_path / "run")


def test_a_model_of_another_layout_is_refused(trained_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "agent"
    copy.mkdir()
    for name in ("policy.safetensors", "policy.yaml", "env.yaml", "metadata.yaml"):
        (copy / name).write_bytes((trained_run / name).read_bytes())
    spaces = yaml.safe_load((trained_run / "spaces.yaml").read_text())
    names = list(spaces["observation_names"])
    nvec = list(spaces["action_nvec"])
    (copy / "spaces.yaml").write_text(yaml.safe_dump({**spaces, "action_nvec": [*nvec, 4]}))
    record_digests(copy, ["spaces.yaml"])
    with pytest.raises(ModelLoadError, match="action layout"):
        TrainedPolicy.load(copy, names, nvec)
    with pytest.raises(ModelLoadError, match="features, the env has"):
        TrainedPolicy.load(trained_run, [*names, "extra"], nvec)
    with pytest.raises(ModelLoadError, match="no model found"):
        TrainedPolicy.load(tmp_path, names, nvec)


def test_bad_training_configs_name_file_key_and_value(tmp_path: Path) -> None:
    def write(text: str) -> Path:
        path = tmp_path / "train.yaml"
        path.write_text(text)
        return path

    with pytest.raises(
        ConfigError, match=r"unknown key 'total_timestep' \(did you mean 'total_timesteps'\?\)"
    ):
        load_train_config(write("total_timestep: 10\n"))
    with pytest.raises(ConfigError, match=r"key 'algorithm': 'a2c' is not one of"):
        load_train_config(write("algorithm: a2c\n"))
    with pytest.raises(ConfigError, match=r"learning_rate: 'cos_3e-4' is not a number or 'lin_<number>'"):
        load_train_config(write("hyperparameters: {learning_rate: cos_3e-4}\n"))
    with pytest.raises(ConfigError, match=r"batch_size 4096 exceeds the rollout"):
        load_train_config(write("n_envs: 2\nhyperparameters: {n_steps: 64, batch_size: 4096}\n"))
    with pytest.raises(ConfigError, match=r"key 'env': no such file 'nowhere.yaml'"):
        load_train_config(write("env: nowhere.yaml\n"))
    with pytest.raises(ConfigError, match=r"overlap the training seeds"):
        load_train_config(write("evaluation: {seed: 5}\n"))
