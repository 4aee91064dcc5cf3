"""Resume: the training curve is appended to, the best policy is never replaced by a worse one, a
checkpoint restores weights, optimizer, counters and random states exactly, an interrupted and
resumed run is bit for bit the uninterrupted one, a finished run says so, and a checkpoint never
unpickles."""

from __future__ import annotations

import builtins
import dataclasses
import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from thetagym.cli import main
from thetagym.config import ConfigError
from thetagym.policies.stored import ModelLoadError, record_digests
from thetagym.policies.trained import load_trained_agent
from thetagym.train import run
from thetagym.train.checkpoint import read_checkpoint, restore, take_snapshot, write_checkpoint
from thetagym.train.config import TrainConfig, load_train_config

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs/train/tiny.yaml"
STEPS = "time/total_timesteps"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    torch.set_num_threads(1)


def small(total: int, base_rules: str = "") -> tuple[TrainConfig, str]:
    """The tiny config at ``total`` env-steps, evaluated and checkpointed every rollout (512 steps);
    with ``base_rules``, a residual policy over that rule config."""
    config = load_train_config(TINY)
    config = dataclasses.replace(
        config,
        total_timesteps=total,
        checkpoint_every=512,
        base_rules=base_rules,
        evaluation=dataclasses.replace(config.evaluation, every_steps=512),
    )
    text = yaml.safe_load(TINY.read_text())
    text.update(total_timesteps=total, checkpoint_every=512, base_rules=base_rules)
    text["evaluation"]["every_steps"] = 512
    return config, yaml.safe_dump(text)


def weights(run_dir: Path) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in load_trained_agent(run_dir).network.parameters()])


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return builtins.open, (str(self.marker), "w")


@pytest.fixture(scope="module")
def first_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained to 1,024 of what resume raises to 2,048 env-steps."""
    config, text = small(1024)
    run_dir = tmp_path_factory.mktemp("resume") / "run"
    run.train(config, run_dir, config_text=text, progress=False)
    return run_dir


def test_resume_appends_to_the_curves_and_keeps_the_best_score(first_session: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(first_session, run_dir)
    before = pd.read_csv(run_dir / "progress.csv")
    assert before[STEPS].tolist() == [512, 1024]
    best = run_dir / "best"
    record_digests(best, [], extra={"score": 1e12, "timesteps": 512})  # a best no model can beat
    best_weights = (best / "policy.safetensors").read_bytes()

    result = run.resume(run_dir, {"total_timesteps": 2048}, progress=False)

    assert (result.started_at, result.timesteps) == (1024, 1024)
    after = pd.read_csv(run_dir / "progress.csv")
    assert after[STEPS].tolist() == [512, 1024, 1536, 2048]
    pd.testing.assert_frame_equal(after.iloc[:2][before.columns], before, check_dtype=False)
    evaluations = pd.read_csv(run_dir / "evaluations.csv")
    assert evaluations["timesteps"].tolist() == [512, 1024, 1536, 2048]
    assert (best / "policy.safetensors").read_bytes() == best_weights
    assert yaml.safe_load((best / "metadata.yaml").read_text())["score"] == 1e12
    load_trained_agent(best)  # still matches its digests


def test_a_checkpoint_restores_weights_optimizer_counters_and_random_states(
    first_session: Path, tmp_path: Path
) -> None:
    config, _ = small(2048)
    _, env = run.build_env(config)
    model = run.build_model(config, env, None)
    model.set_logger(run.make_logger(tmp_path))
    model.learn(512, progress_bar=False)
    snapshot = take_snapshot(model, {"next_checkpoint": 1024, "next_evaluation": 1024, "best_score": 1.5})
    spec = run.policy_spec(model.policy, config.algorithm)
    write_checkpoint(snapshot, spec, (first_session / "spaces.yaml").read_text(), tmp_path / "checkpoint")
    expected = (torch.rand(5), np.random.rand(5), random.random())  # noqa: NPY002

    read, read_spec = read_checkpoint(tmp_path / "checkpoint")
    fresh = run.build_model(config, env, None)
    restore(fresh, read)

    assert read_spec == spec and read.state == snapshot.state
    assert (fresh.num_timesteps, fresh._n_updates) == (512, model._n_updates)
    for key, value in model.policy.state_dict().items():
        assert torch.equal(fresh.policy.state_dict()[key], value), key
    adam, restored = model.policy.optimizer.state_dict(), fresh.policy.optimizer.state_dict()
    assert adam["param_groups"] == restored["param_groups"]
    for key, moments in adam["state"].items():
        for name, value in moments.items():
            assert torch.equal(restored["state"][key][name], value), (key, name)
    assert [info["r"] for info in fresh.ep_info_buffer] == [info["r"] for info in model.ep_info_buffer]
    assert torch.equal(torch.rand(5), expected[0])
    assert np.array_equal(np.random.rand(5), expected[1])  # noqa: NPY002
    assert random.random() == expected[2]


@pytest.mark.parametrize("base_rules", ["", str(ROOT / "configs/rules/tuned/dynamic_exposure.yaml")])
def test_an_interrupted_and_resumed_run_is_bit_for_bit_the_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_rules: str
) -> None:
    """A residual policy's rule memory is rebuilt too, by replaying the logged actions through it."""
    config, text = small(2048, base_rules)
    run.train(config, tmp_path / "whole", config_text=text, progress=False)

    original = run.PeriodicEvaluation._on_step

    def interrupt(self: run.PeriodicEvaluation) -> bool:
        if self.num_timesteps >= 1300:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(run.PeriodicEvaluation, "_on_step", interrupt)
    result = run.train(config, tmp_path / "run", config_text=text, progress=False)
    assert result.interrupted
    state = yaml.safe_load((tmp_path / "run" / "checkpoints/last/state.yaml").read_text())
    assert state["num_timesteps"] == 1024  # the last rollout start: the partial rollout is redone
    assert state["action_rows"] == 1024 // config.n_envs
    monkeypatch.setattr(run.PeriodicEvaluation, "_on_step", original)
    resumed = run.resume(tmp_path / "run", progress=False)

    assert (resumed.started_at, resumed.timesteps) == (1024, 1024)
    assert torch.equal(weights(tmp_path / "run"), weights(tmp_path / "whole"))
    assert torch.equal(weights(tmp_path / "run" / "best"), weights(tmp_path / "whole" / "best"))
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "run" / "evaluations.csv"), pd.read_csv(tmp_path / "whole" / "evaluations.csv")
    )
    curves = [pd.read_csv(tmp_path / name / "progress.csv") for name in ("run", "whole")]
    assert curves[0][STEPS].tolist() == [512, 1024, 1536, 2048]
    columns = [c for c in curves[1].columns if not c.startswith("time/")]
    pd.testing.assert_frame_equal(curves[0][columns], curves[1][columns])
    logs = [(tmp_path / name / "checkpoints/actions.bin").read_bytes() for name in ("run", "whole")]
    assert logs[0] == logs[1] and len(logs[0]) == 2048 * 6


def test_a_changed_action_log_is_refused(first_session: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(first_session, run_dir)
    log = run_dir / "checkpoints" / "actions.bin"
    data = bytearray(log.read_bytes())
    data[5] ^= 1
    log.write_bytes(bytes(data))
    with pytest.raises(
        ModelLoadError, match=r"actions.bin: the logged actions do not match the checkpoint's record"
    ):
        run.resume(run_dir, {"total_timesteps": 2048}, progress=False)
    for key, value in (("n_envs", 16), ("seed", 4)):
        with pytest.raises(ConfigError, match=rf"--{key.replace('_', '-')} {value} differs from the run's"):
            run.resume(run_dir, {"total_timesteps": 2048, key: value}, progress=False)


def test_resuming_a_finished_run_says_so(first_session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["train", "--resume", str(first_session), "--no-progress"])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the run is already finished (1,024 of 1,024 env-steps)" in err and "--timesteps" in err


def test_a_pickle_payload_in_a_checkpoint_never_runs(first_session: Path, tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    run_dir = tmp_path / "run"
    shutil.copytree(first_session, run_dir)
    last = run_dir / "checkpoints" / "last"
    torch.save({"state": Payload(marker), "param_groups": []}, last / "optimizer.pt")
    record_digests(last, ["optimizer.pt"])  # an attacker rewrites the digests too
    with pytest.raises(ModelLoadError, match=r"checkpoints/last: damaged checkpoint \(UnpicklingError"):
        run.resume(run_dir, {"total_timesteps": 2048}, progress=False)
    assert not marker.exists()

    (last / "optimizer.pt").write_bytes(b"not the recorded bytes")
    with pytest.raises(ModelLoadError, match=r"optimizer.pt: sha256 does not match"):
        run.resume(run_dir, {"total_timesteps": 2048}, progress=False)

    shutil.rmtree(last)
    torch.save(Payload(marker), run_dir / "checkpoints" / "last.zip")
    with pytest.raises(
        ConfigError, match=r"last.zip: a stable-baselines3 checkpoint \(a pickle\) is never loaded"
    ):
        run.resume(run_dir, {"total_timesteps": 2048}, progress=False)
    assert not marker.exists()
    torch.load(run_dir / "checkpoints" / "last.zip", weights_only=False)  # the control: unpickling runs it
    assert marker.exists()
