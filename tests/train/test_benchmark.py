"""The training benchmark trains a config for the asked env-steps and splits the time into rollouts
and updates."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from thetagym.train.benchmark import TARGET, benchmark_training

ROOT = Path(__file__).resolve().parents[2]


def test_the_training_benchmark_times_rollouts_and_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    torch.set_num_threads(1)
    figures = benchmark_training(ROOT / "configs/train/tiny.yaml", steps=1024)
    assert figures["env_steps"] == 1024  # two rollouts of 8 envs x 64 steps
    assert figures["env_steps_per_second"] == pytest.approx(1024 / figures["seconds"])
    assert 0 < figures["collecting_seconds"] < figures["seconds"]
    assert figures["collecting_seconds"] + figures["updating_seconds"] == pytest.approx(figures["seconds"])
    assert figures["target"] == TARGET and figures["residual"] is False
