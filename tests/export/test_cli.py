"""The real command on a tiny model trained in the test: a rule config that loads, a fidelity
table, and the evaluation report in its own complete folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from tests.export.conftest import ROOT, RULES
from thetagym.cli import cli
from thetagym.outputs import check_complete
from thetagym.policies.rules import load_rule_agent
from thetagym.train.config import load_train_config
from thetagym.train.run import train


@pytest.fixture(scope="module")
def tiny_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    run_dir = tmp_path_factory.mktemp("tiny") / "run"
    train(load_train_config(ROOT / "configs/train/tiny.yaml"), run_dir, progress=False)
    return run_dir


def test_export_thresholds_command(tiny_agent: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "tiny_rules.yaml"
    args = [
        "export-thresholds", str(tiny_agent), "--rules", str(RULES), "--out", str(out),
        "--fit-episodes", "4", "--heldout-episodes", "2", "--days", "5", "--sweeps", "1",
        "--eval-episodes", "2", "--eval-days", "5", "--workers", "1", "--no-progress",
        "--eval-out", str(tmp_path / "evaluation"),
    ]  # fmt: skip
    done = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    for expected in (
        "held-out states",
        "roll_closer",
        "balanced",
        "regimes:",
        "report:",
        "exported-tiny_rules",
    ):
        assert expected in done.output
    agent = load_rule_agent(out, expect="dynamic_exposure")
    assert agent.name == "tiny_rules"
    text = out.read_text()
    assert f"source agent: {tiny_agent}" in text and "evaluation on held-out paths" in text
    assert "report.html" in check_complete(tmp_path / "evaluation")["files"]
    assert (
        not (ROOT / "tiny_rules-evaluation").exists()
        and not (ROOT / "reports" / "export-tiny_rules").exists()
    )
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "file exists" in str(again.exception)
