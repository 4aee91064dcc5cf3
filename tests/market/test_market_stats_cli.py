"""``thetagym market-stats`` run for real in a subprocess with a tiny budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from thetagym.market.stats import TARGETS
from thetagym.outputs import check_complete


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thetagym.cli", "market-stats", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_json_output_has_every_figure_with_value_and_target(tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    done = _run("--paths", "3", "--years", "0.5", "--json", "--plot-dir", str(plots), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = json.loads(done.stdout, parse_constant=_not_json)
    assert set(table) == set(TARGETS)
    for row in table.values():
        assert {"value", "target", "tolerance", "within"} <= set(row)
    assert sorted(p.name for p in plots.iterdir()) == [
        "complete.json",
        "paths.png",
        "returns.png",
        "term_structure.png",
        "vix_distribution.png",
    ]
    assert str(plots) in done.stderr
    again = _run("--paths", "3", "--years", "0.5", "--plot-dir", str(plots), cwd=tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr and "--force" in again.stderr
    check_complete(plots)


def _not_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def test_table_output_for_a_scenario(tmp_path: Path) -> None:
    done = _run("--scenario", "vol_spike", "--paths", "2", "--years", "0.3", "--no-plots", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "annualised_volatility" in done.stdout and "within" in done.stdout
    assert not (tmp_path / "reports").exists()


def test_unknown_scenario_gets_a_did_you_mean_error(tmp_path: Path) -> None:
    done = _run("--scenario", "crsh", "--no-plots", cwd=tmp_path)
    assert done.returncode == 2
    assert "did you mean 'crash'" in done.stderr
