"""Clear errors: no model in the agent folder, a rule config of the wrong agent, bad seeds,
an existing --out file (through the real command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.export.conftest import ROOT, RULES
from thetagym.cli import main
from thetagym.config import ConfigError
from thetagym.env.config import EnvConfig
from thetagym.export import export_thresholds
from thetagym.policies.rules import build_rule_agent, load_rule_config

ALVH = ROOT / "configs" / "rules" / "alvh.yaml"
HOLD = ROOT / "configs" / "rules" / "hold_to_expiry.yaml"


def _export(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as ended:
        main(["export-thresholds", *args, "--no-progress"])
    assert ended.value.code == 2
    assert not (tmp_path / "new.yaml").exists()
    return capsys.readouterr().err


def test_agent_folder_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "agent").mkdir()
    err = _export(
        tmp_path, capsys, str(tmp_path / "agent"), "--rules", str(RULES), "--out", str(tmp_path / "new.yaml")
    )
    assert "no model found" in err and "model.zip" in err


def test_rules_of_another_agent_than_expected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--out", str(tmp_path / "new.yaml"))
    err = _export(tmp_path, capsys, str(tmp_path), "--rules", str(RULES), "--agent", "alvh", *args)
    assert "dynamic_exposure.yaml" in err and "'alvh'" in err
    err = _export(tmp_path, capsys, str(tmp_path), "--rules", str(HOLD), *args)
    assert "hold_to_expiry" in err and "'dynamic_exposure' or 'alvh'" in err


def test_library_refuses_wrong_agent_and_overlapping_seeds(env_config: EnvConfig) -> None:
    policy = build_rule_agent(load_rule_config(ALVH), env_config.book)
    with pytest.raises(
        ConfigError, match=r"alvh.yaml: key 'agent': this is a 'alvh' rule config.*'dynamic_exposure'"
    ):
        export_thresholds(policy, ALVH, env_config, (0,), (1,), expect="dynamic_exposure")
    with pytest.raises(ConfigError, match="held-out seeds must differ"):
        export_thresholds(policy, ALVH, env_config, (0, 1), (1, 2))
    with pytest.raises(ConfigError, match="must be training seeds"):
        export_thresholds(policy, ALVH, env_config, (0,), (2_000_000_000,))


def test_existing_out_is_refused_by_the_command(tmp_path: Path) -> None:
    out = tmp_path / "taken.yaml"
    out.write_text("# mine\n")
    command = [
        sys.executable,
        "-m",
        "thetagym",
        "export-thresholds",
        str(tmp_path),
        "--rules",
        str(RULES),
        "--out",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "file exists" in done.stderr and "--force" in done.stderr
    assert out.read_text() == "# mine\n"
