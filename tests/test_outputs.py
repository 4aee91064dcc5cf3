"""Output folders: locked against a second run, staged so that a failed or killed run leaves no
file under a final name, marked complete last, and never silently replacing a user's files."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest

from thetagym.cli import main
from thetagym.outputs import (
    LOCK_FILE,
    MANIFEST_FILE,
    STAGING_FOLDER,
    OutputError,
    OutputFolder,
    check_complete,
    json_ready,
    write_atomically,
)

ROOT = Path(__file__).resolve().parents[1]
RULES = str(ROOT / "configs" / "rules" / "dynamic_exposure.yaml")


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_a_finished_run_lists_every_file_with_its_digest(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "run") as out:
        out.file("table.csv").write_text("a,b\n1,2\n")
        out.file("heldout/summary.csv").write_text("x\n")
        assert _visible(out.path) == []  # nothing under a final name before the end
    record = check_complete(tmp_path / "run")
    assert set(record["files"]) == {"table.csv", "heldout/summary.csv"}
    assert record["files"]["table.csv"]["bytes"] == 8
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["complete.json", "heldout", "table.csv"]
    (tmp_path / "run" / "table.csv").write_text("a,b\n1,3\n")
    with pytest.raises(OutputError, match=r"table\.csv differs"):
        check_complete(tmp_path / "run")


def test_a_failed_run_leaves_nothing_and_keeps_the_previous_result(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), OutputFolder(tmp_path / "new" / "run") as out:
        out.file("episodes.csv").write_text("half")
        raise RuntimeError("killed in the middle")
    assert not (tmp_path / "new").exists()  # created by the run, removed with it
    folder = tmp_path / "done"
    with OutputFolder(folder) as out:
        out.file("episodes.csv").write_text("first\n")
    (folder / "notes.txt").write_text("mine\n")
    with pytest.raises(RuntimeError), OutputFolder(folder, replace=True) as out:
        out.file("episodes.csv").write_text("second, half")
        raise RuntimeError
    assert (folder / "episodes.csv").read_text() == "first\n"
    check_complete(folder)
    assert _visible(folder) == ["complete.json", "episodes.csv", "notes.txt"]


def test_replacing_drops_only_the_previous_run_s_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with OutputFolder(folder) as out:
        out.file("traces.csv").write_text("old\n")
        out.file("summary.csv").write_text("old\n")
    (folder / "notes.txt").write_text("mine\n")
    with pytest.raises(OutputError, match=r"not empty .*--force"):
        OutputFolder(folder).claim()
    with OutputFolder(folder, replace=True) as out:
        out.file("summary.csv").write_text("new\n")
    assert _visible(folder) == ["complete.json", "notes.txt", "summary.csv"]
    assert (folder / "summary.csv").read_text() == "new\n"


def test_a_second_run_into_a_locked_folder_fails_at_once(tmp_path: Path) -> None:
    first = OutputFolder(tmp_path / "run")
    first.claim()
    with pytest.raises(OutputError, match=r"another thetagym run \(pid \d+, started .*\) is writing"):
        OutputFolder(tmp_path / "run", replace=True).claim()
    first.commit()
    assert not (tmp_path / "run" / LOCK_FILE).exists()


def test_the_command_refuses_a_folder_another_run_is_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = OutputFolder(tmp_path / "sim")
    holder.claim()
    with pytest.raises(SystemExit) as ended:
        main(["simulate", "--agent", RULES, "--scenario", "calm", "--out", str(tmp_path / "sim")])
    assert ended.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another thetagym run" in err[0] and str(tmp_path / "sim") in err[0]
    holder.abandon()


def test_a_killed_run_leaves_no_valid_file_and_does_not_block_the_next(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    script = (
        "import os, sys\nfrom pathlib import Path\nfrom thetagym.outputs import OutputFolder\n"
        "out = OutputFolder(Path(sys.argv[1])); out.claim()\n"
        "out.file('traces.csv').write_text('a,b\\n1,2\\n' * 1000)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(folder)], check=False, timeout=60)
    assert done.returncode == -9
    assert _visible(folder) == [] and (folder / STAGING_FOLDER / "traces.csv").is_file()
    with pytest.raises(OutputError, match="did not finish"):
        check_complete(folder)
    with OutputFolder(folder) as out:  # the lock died with its holder; the leftovers are cleared
        out.file("traces.csv").write_text("x\n")
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_FILE, "traces.csv"]


def test_a_full_disk_is_one_line_and_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("thetagym.evaluate.outputs.write_table", full)
    out = tmp_path / "sim"
    with pytest.raises(SystemExit) as ended:
        main(["simulate", "--agent", RULES, "--scenario", "calm", "--days", "2", "--out", str(out)])
    assert ended.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {out}: no space left on the device; free some space and run the command again"]
    assert not out.exists()


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "rules.yaml"
    target.write_text("old\n")

    def half(tmp: Path) -> None:
        tmp.write_text("ne")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(target, half)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["rules.yaml"]
    write_atomically(target, lambda tmp: tmp.write_text("new\n"))
    assert target.read_text() == "new\n"


def test_json_is_strict() -> None:
    data = {"sharpe": float("nan"), "calmar": float("inf"), "rows": (1.5, -float("inf"))}
    assert (
        json.dumps(json_ready(data), allow_nan=False)
        == '{"sharpe": null, "calmar": null, "rows": [1.5, null]}'
    )
