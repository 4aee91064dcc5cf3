"""Every ``thetagym`` command in the README's examples parses and runs.

Each command runs in this process from a scratch folder that links the project's ``configs/`` and
``agents/`` (so its outputs land there, not in the project). Short commands run whole, with options
appended that shrink the work (fewer days, paths, trials or seconds); the long ones (a full
comparison, a training run, an export, a 64-trial tune, the pricing, env and training benchmarks) run up to the call that would start the
work, which the test replaces by one that stops the command: everything before it (options, config
files, agents, output folders) is checked for real. A replay without the historical data must be
refused with one line naming ``THETAGYM_DATA``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from thetagym.cli import main
from thetagym.market.history import has_shared_data, shared_data_dir

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[list[str]]:
    """The ``thetagym`` command lines of the README's ``bash`` blocks, as argument lists."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words[:1] == ["thetagym"]:
                    commands.append(words[1:])
    return commands


SHRINK = {
    "simulate": ["--days", "3"],
    "market-stats": ["--paths", "2", "--years", "0.2"],
    "backtest": ["--start", "2020-01-02", "--end", "2020-02-28"],
    "tune": ["--trials", "2", "--workers", "1"],
    "bench market": ["--seconds", "0.1"],
    "bench summary": ["--agents", "2", "--episodes", "8"],
}
"""Options appended to a command (click keeps the last value given) so that it runs in seconds."""
STOPPED = {
    "bench env": "thetagym.env.benchmark.benchmark_env",
    "bench pricing": "thetagym.pricing.benchmark.benchmark_pricing",
    "bench train": "thetagym.train.benchmark.benchmark_training",
    "compare": "thetagym.evaluate.runner.evaluate",
    "evaluate": "thetagym.evaluate.runner.evaluate",
    "train": "thetagym.train.run.train",
    "export-thresholds": "thetagym.export.export_thresholds",
}
"""Commands too long for a test, and the function at which they start the work."""
LONG_TUNE = "thetagym.tune.runner.tune"


class Started(Exception):
    """Raised where a long command would start its work."""


def _stop(*args: object, **kwargs: object) -> None:
    raise Started


COMMANDS = readme_commands()


def test_the_readme_shows_every_command() -> None:
    shown = {command[0] for command in COMMANDS}
    assert {"compare", "evaluate", "simulate", "train", "export-thresholds", "market-stats"} <= shown
    assert {"backtest", "tune", "bench"} <= shown
    assert {" ".join(c[:2]) for c in COMMANDS if c[0] == "bench"} == {
        "bench pricing",
        "bench market",
        "bench env",
        "bench train",
        "bench summary",
    }


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_readme_command_runs(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("configs", "agents", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    command = " ".join(args[:2]) if args[0] == "bench" else args[0]
    needs_data = "--replay" in args or command == "backtest"
    if needs_data and not has_shared_data():
        if "--benchmark" in args:  # the example's own data file is absent too
            at = args.index("--benchmark")
            args = args[:at] + args[at + 2 :]
        with pytest.raises(SystemExit) as ended:
            main(args)
        assert ended.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "THETAGYM_DATA" in err, err
        assert not (tmp_path / "reports").exists()
        return
    if needs_data:  # the example names the data folder beside the project
        args = [str(shared_data_dir() / Path(a).name) if "shared/data" in a else a for a in args]
    long_tune = command == "tune" and "--trials" not in args and "smoke" not in " ".join(args)
    if command in STOPPED or long_tune:
        monkeypatch.setattr(STOPPED.get(command, LONG_TUNE), _stop)
        with pytest.raises(Started):
            main(args)
        leftovers = list((tmp_path / "reports").rglob("*")) if (tmp_path / "reports").exists() else []
        assert leftovers == [], "a stopped command left its output folder behind"
        return
    result = main([*args, *SHRINK.get(command, [])])
    assert result is None
    out = capsys.readouterr().out
    assert out.strip(), "the command printed nothing"
    for folder in (tmp_path / "reports").glob("*") if (tmp_path / "reports").exists() else []:
        assert (folder / "complete.json").is_file(), folder
