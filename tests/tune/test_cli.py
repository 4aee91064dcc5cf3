"""``thetagym tune`` run as a user runs it, in a subprocess, with a tiny budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.tune.conftest import ROOT, SMOKE


def test_tune_command_writes_every_output_and_refuses_a_used_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "thetagym", "tune", str(SMOKE), "--trials", "2", "--workers", "1"]
    done = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "held-out sharpe" in done.stdout
    names = {"trials.csv", "study.db", "history.png", "importance.png", "dynamic_exposure.yaml", "tune.json"}
    assert names <= {p.name for p in out.iterdir()}
    again = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert again.returncode == 2 and "--resume" in again.stderr
