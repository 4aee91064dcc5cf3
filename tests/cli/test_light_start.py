"""``--help`` and refusals of bad arguments and paths come before any heavy import.

The simulator's compiled kernels (numba), torch and pandas take seconds to import; the group's and
every command's ``--help`` and every refusal of an option or an output path must not wait for them.
One fresh interpreter runs every case in turn and reports, after each, which heavy modules are
loaded (speed itself is a benchmark: ``time thetagym simulate --help``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from thetagym.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
RULES = str(ROOT / "configs" / "rules" / "dynamic_exposure.yaml")
SMOKE = str(ROOT / "configs" / "evaluate" / "smoke.yaml")
TUNE = str(ROOT / "configs" / "tune" / "smoke.yaml")
HEAVY = ("numba", "torch", "pandas", "matplotlib", "stable_baselines3", "optuna", "scipy")

PROBE = """
import json, sys
from thetagym.cli import main
heavy = {heavy!r}
report = []
for args in json.loads(sys.argv[1]):
    try:
        main(args)
        code = 0
    except SystemExit as done:
        code = done.code
    report.append({{"args": args, "code": code, "heavy": [m for m in heavy if m in sys.modules]}})
print(json.dumps(report))
"""


def _probe(cases: list[list[str]], cwd: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(cases)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    report: list[dict[str, object]] = json.loads(done.stdout.splitlines()[-1])
    return report


def test_help_of_the_group_and_every_command_imports_nothing_heavy(tmp_path: Path) -> None:
    cases = [["--help"]] + [[name, "--help"] for name in COMMANDS]
    cases += [["bench", name, "--help"] for name in ("pricing", "market", "env")]
    report = _probe(cases, tmp_path)
    assert [entry["code"] for entry in report] == [0] * len(cases)
    assert [entry["heavy"] for entry in report] == [[]] * len(cases)


def test_refusals_come_before_heavy_imports(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "mine.txt").write_text("mine\n")
    (tmp_path / "rules.yaml").write_text("mine\n")
    cases = [
        ["simulate", "--agent", RULES, "--scenario", "calm", "--out", str(used)],
        ["simulate", "--agent", RULES, "--scenario", "calm", "--replay", "covid_2020"],
        ["simulate", "--agent", RULES, "--scenario", "calm", "--seed", "-3"],
        ["evaluate", SMOKE, "--out", str(used)],
        ["evaluate", str(tmp_path / "missing.yaml")],
        ["compare", "--out", str(used)],
        ["backtest", "--agent", RULES, "--start", "2020-01-01", "--end", "2021-01-01", "--out", str(used)],
        ["backtest", "--agent", RULES, "--start", "2020-13-01", "--end", "2021-01-01"],
        ["market-stats", "--plot-dir", str(used)],
        ["market-stats", "--years", "nan"],
        ["tune", TUNE, "--out", str(used)],
        ["export-thresholds", str(tmp_path), "--rules", RULES, "--out", str(tmp_path / "rules.yaml")],
        ["export-thresholds", str(tmp_path), "--rules", RULES, "--out", "new.yaml", "--vix-bands", "25,15"],
        ["export-thresholds", str(tmp_path), "--rules", RULES, "--out", "new.yaml", "--eval-out", str(used)],
        ["bench", "env", "--seconds", "inf"],
        ["train", str(tmp_path / "missing.yaml")],
    ]
    report = _probe(cases, tmp_path)
    assert [entry["code"] for entry in report] == [2] * len(cases)
    assert [entry["heavy"] for entry in report] == [[]] * len(cases)
    assert sorted(p.name for p in used.iterdir()) == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.yaml", "used"]
