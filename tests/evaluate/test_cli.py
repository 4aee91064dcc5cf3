"""Subprocess smoke runs of ``thetagym evaluate`` and ``thetagym simulate``, and output-folder safety."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from thetagym.evaluate.outputs import OUTPUT_FILES, fresh_folder, prepare_output
from thetagym.market.replay import shared_data_dir

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "evaluate" / "smoke.yaml"
RULES = ROOT / "configs" / "rules" / "dynamic_exposure.yaml"
ENV = ROOT / "configs" / "env" / "default.yaml"
needs_env = pytest.mark.skipif(not ENV.is_file(), reason="configs/env/default.yaml has not landed yet")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def thetagym(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from thetagym.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


@needs_env
def test_evaluate_smoke_writes_every_output_and_a_report_with_every_figure(tmp_path):
    from thetagym.report import FIGURE_IDS

    out = tmp_path / "out"
    run = thetagym("evaluate", str(SMOKE), "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    assert Path(printed["report"]) == out / "report.html"
    assert set(printed["summary"]) == {"dynamic_exposure", "naive_rebalancer"}
    assert {"mean", "low", "high", "n"} <= set(
        printed["summary"]["dynamic_exposure"]["calm"]["theta_capture"]
    )
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    parser = _Ids()
    parser.feed((out / "report.html").read_text())
    assert set(FIGURE_IDS) <= parser.ids

    (out / "notes.txt").write_text("mine")
    refused = thetagym("evaluate", str(SMOKE), "--out", str(out))
    assert refused.returncode == 2
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert (out / "notes.txt").read_text() == "mine"


@needs_env
def test_simulate_scenario_writes_trace_and_plots(tmp_path):
    out = tmp_path / "sim"
    run = thetagym("simulate", "--agent", str(RULES), "--scenario", "crash", "--days", "5", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "trace:" in run.stdout
    for name in ("trace.csv", "path.png", "greeks.png", "equity.png"):
        assert (out / name).is_file(), name
    header = (out / "trace.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["bar", "date", "index", "vix"]
    assert {"net_delta", "executed_balancer", "blocked"} <= set(header)


@needs_env
@pytest.mark.skipif(shared_data_dir() is None, reason="no shared historical data (../shared/data)")
def test_simulate_replay_of_march_2020(tmp_path):
    out = tmp_path / "replay"
    run = thetagym(
        "simulate", "--agent", str(RULES), "--replay", "covid_2020", "--days", "5", "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    lines = (out / "trace.csv").read_text().splitlines()
    assert lines[1].split(",")[1].startswith("2020-0")


def test_simulate_needs_one_market():
    run = thetagym("simulate", "--agent", str(RULES))
    assert run.returncode != 0
    assert "exactly one of --scenario or --replay" in run.stderr


def test_an_existing_folder_is_refused_unless_forced_and_user_files_survive(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="not empty"):
        prepare_output(folder, force=False)
    prepare_output(folder, force=True)
    assert (folder / "mine.txt").read_text() == "keep"
    assert fresh_folder(folder).name == "out-2"
