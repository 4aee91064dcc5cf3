"""Subprocess smoke runs of ``thetagym evaluate`` and ``thetagym simulate``, and output-folder safety."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from thetagym.cli import cli
from thetagym.evaluate.outputs import OUTPUT_FILES
from thetagym.market.history import has_shared_data
from thetagym.outputs import OutputError, OutputFolder, check_complete

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "evaluate" / "smoke.yaml"
RULES = ROOT / "configs" / "rules" / "dynamic_exposure.yaml"
ENV = ROOT / "configs" / "env" / "default.yaml"


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def launch(*args: str) -> subprocess.Popen[str]:
    """Start ``thetagym ARGS`` in a subprocess from the project folder."""
    command = [sys.executable, "-c", "from thetagym.cli import main; main()", *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int, str, str]]:
    """The smoke runs, started together so they overlap: ``{name: (out, returncode, stdout, stderr)}``."""
    if not ENV.is_file():
        pytest.skip("configs/env/default.yaml has not landed yet")
    root = tmp_path_factory.mktemp("cli")
    commands = {
        "evaluate": ["evaluate", str(SMOKE), "--json"],
        "simulate": ["simulate", "--agent", str(RULES), "--scenario", "crash", "--days", "5"],
    }
    if has_shared_data():
        commands["replay"] = ["simulate", "--agent", str(RULES), "--replay", "covid_2020", "--days", "5"]
    started = {
        name: (root / name, launch(*args, "--out", str(root / name))) for name, args in commands.items()
    }
    results = {}
    for name, (out, process) in started.items():
        stdout, stderr = process.communicate(timeout=180)
        results[name] = (out, process.returncode, stdout, stderr)
    return results


def test_evaluate_smoke_writes_every_output_and_a_report_with_every_figure(runs):
    from thetagym.report import FIGURE_IDS

    out, code, stdout, stderr = runs["evaluate"]
    assert code == 0, stderr
    printed = json.loads(stdout)
    assert Path(printed["report"]) == out / "report.html"
    summary = printed["summary"]
    assert set(summary) == {"dynamic_exposure", "naive_rebalancer", "paired", "leaderboard"}
    for measure in ("theta_capture", "sharpe", "sortino", "volatility", "risk_matched_return", "cvar_5"):
        assert {"mean", "low", "high", "n"} <= set(summary["dynamic_exposure"]["calm"][measure]), measure
    paired = summary["paired"]
    assert paired["headline"] == "sharpe" and paired["baseline"] in {"dynamic_exposure", "naive_rebalancer"}
    other = ({"dynamic_exposure", "naive_rebalancer"} - {paired["baseline"]}).pop()
    assert {"mean", "low", "high", "n"} <= set(paired["differences"][other]["calm"]["sharpe"])
    board = summary["leaderboard"]["calm"]
    assert [row["rank"] for row in board["rows"]] == [1, 2]
    assert json.loads((out / "summary.json").read_text()) == summary
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    assert set(OUTPUT_FILES) == set(check_complete(out)["files"])
    parser = _Ids()
    parser.feed((out / "report.html").read_text())
    assert set(FIGURE_IDS) <= parser.ids


def test_evaluate_refuses_a_used_output_folder_and_keeps_user_files(runs):
    out = runs["evaluate"][0]
    (out / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(cli, ["evaluate", str(SMOKE), "--out", str(out)])
    assert refused.exit_code != 0
    assert "not empty" in str(refused.exception) and "--force" in str(refused.exception)
    check_complete(out)
    assert (out / "notes.txt").read_text() == "mine"


def test_simulate_scenario_writes_trace_and_plots(runs):
    out, code, stdout, stderr = runs["simulate"]
    assert code == 0, stderr
    assert "trace:" in stdout
    for name in ("trace.csv", "path.png", "greeks.png", "equity.png"):
        assert (out / name).is_file(), name
    header = (out / "trace.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["bar", "date", "index", "vix"]
    assert {"net_delta", "executed_balancer", "blocked", "pnl_put_wing_theta"} <= set(header)


def test_simulate_replay_of_march_2020(runs):
    if "replay" not in runs:
        pytest.skip("no shared historical data (../shared/data)")
    out, code, _, stderr = runs["replay"]
    assert code == 0, stderr
    lines = (out / "trace.csv").read_text().splitlines()
    assert len(lines) > 2 and lines[1].split(",")[1].startswith("2020-02")


def test_simulate_needs_one_market():
    result = CliRunner().invoke(cli, ["simulate", "--agent", str(RULES)])
    assert result.exit_code == 2
    assert "exactly one of --scenario or --replay" in result.output


def test_an_existing_folder_is_refused_unless_forced_and_user_files_survive(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep")
    with pytest.raises(OutputError, match="not empty"):
        OutputFolder(folder).claim()
    with OutputFolder(folder, replace=True) as out:
        out.file("episodes.csv").write_text("a\n1\n")
    assert (folder / "mine.txt").read_text() == "keep"
    assert set(check_complete(folder)["files"]) == {"episodes.csv"}
    with OutputFolder(tmp_path / "out", fresh=True) as fresh:
        pass
    assert fresh.path.name == "out-2"
