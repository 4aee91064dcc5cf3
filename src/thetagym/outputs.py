"""Output folders that are never half-written, never shared by two runs, and marked complete last.

Every command that writes a folder of results (``evaluate``, ``compare``, ``simulate``,
``backtest``, ``tune``, ``market-stats``, the evaluation of ``export-thresholds``) goes through
:class:`OutputFolder`:

- **Locked.** Claiming a folder takes an exclusive lock (``flock`` on ``.thetagym.lock`` inside
  it); a second run into the same folder fails at once, naming the process that holds it. The
  kernel drops the lock when its holder dies, even by ``kill -9``, so a killed run never blocks
  the next one.
- **Staged.** Files are written into a hidden staging folder inside it (``.thetagym-partial``)
  and moved to their final names (``os.replace``, atomic on one file system) only when the run
  succeeds. A run that fails, is interrupted or is killed leaves none of its files under a final
  name; whatever it staged is removed (at once, or by the next run that claims the folder).
- **Marked complete last.** ``complete.json`` is written after every file is in place: it lists
  each file with its size in bytes and its SHA-256 digest. A folder without it, or whose files do
  not match it (:func:`check_complete`), is not a finished result.
- **Nothing of the user's is replaced silently.** A folder that holds anything but this module's
  own leftovers is refused unless the caller passes ``replace=True`` (``--force``); even then only
  the files the run writes are replaced, plus those the folder's previous ``complete.json`` listed.

Only the standard library (and :mod:`thetagym.config`) is imported, so commands refuse a used or locked folder before they
load the simulator.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as root:
...     with OutputFolder(Path(root) / "run") as out:
...         _ = out.file("table.csv").write_text("a,b\\n1,2\\n")
...     sorted(p.name for p in (Path(root) / "run").iterdir())
['complete.json', 'table.csv']
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from thetagym.config import ConfigError

REPORTS_FOLDER = Path("reports")
"""Where outputs go when no folder is given (relative to the working directory)."""
LOCK_FILE = ".thetagym.lock"
"""The lock a run holds on its output folder."""
STAGING_FOLDER = ".thetagym-partial"
"""Where a run writes before its files are moved into place."""
MANIFEST_FILE = "complete.json"
"""Written last: the folder's files with their sizes and SHA-256 digests."""
LEFTOVERS = frozenset({LOCK_FILE, STAGING_FOLDER})
"""This module's own bookkeeping, which a folder may hold and still count as empty."""


class OutputError(ConfigError):
    """An output folder that cannot be used: not a folder, in use by another run, or not empty."""


class OutputFolder:
    """A locked output folder whose files appear, complete, only when the run succeeds.

    Use it as a context manager: ``__enter__`` claims and locks the folder, :meth:`file` gives the
    staging path of an output (write it there as if it were the folder), and a clean ``__exit__``
    moves every staged file into place and writes ``complete.json``; an exception discards them.

    Args:
        path: the output folder (created, with its parents, when missing).
        replace: write into a folder that already holds files, replacing only this run's outputs.
        refusal: what the error for a non-empty folder suggests (it names ``--force`` by default).
        fresh: ``path`` is a default name: if it exists, take ``path-2``, ``path-3``, ... instead.
        resume_file: with ``replace``, a used folder must hold this file (the state a run resumes
            from, written with :meth:`live`).
    """

    def __init__(
        self,
        path: Path,
        *,
        replace: bool = False,
        refusal: str = "choose another --out, or pass --force to replace this command's files in it "
        "(other files are kept)",
        fresh: bool = False,
        resume_file: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.replace = replace
        self.refusal = refusal
        self.fresh = fresh
        self.resume_file = resume_file
        self._lock: int | None = None
        self._created: list[Path] = []
        self._live: list[str] = []

    @property
    def staging(self) -> Path:
        """The folder this run writes into; its files move to :attr:`path` on success."""
        return self.path / STAGING_FOLDER

    def __enter__(self) -> OutputFolder:
        if self._lock is None:
            self.claim()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
            return
        self.abandon()
        if isinstance(error, OSError) and not error.filename:  # a failed write: name the folder
            raise OSError(error.errno, error.strerror or str(error), str(self.path)) from error

    def claim(self) -> None:
        """Create and lock the folder, clear a killed run's leftovers, refuse a used folder."""
        if self.path.exists() and not self.path.is_dir() and not self.fresh:
            raise OutputError(f"{self.path}: output path exists and is not a folder")
        self._created = [p for p in (self.path, *self.path.parents) if not p.exists()][::-1]
        if self.fresh:
            self.path = _claim_fresh(self.path)
            if self.path not in self._created:
                self._created.append(self.path)
        elif not self.path.exists():
            self.path.mkdir(parents=True)
        self._lock = _lock(self.path / LOCK_FILE)
        try:
            shutil.rmtree(self.staging, ignore_errors=True)
            used = sorted(p.name for p in self.path.iterdir() if p.name not in LEFTOVERS)
            if used and not self.replace:
                shown = ", ".join(used[:3]) + (", ..." if len(used) > 3 else "")
                raise OutputError(
                    f"{self.path}: output folder exists and is not empty ({shown}); {self.refusal}"
                )
            if used and self.resume_file and not (self.path / self.resume_file).is_file():
                raise OutputError(
                    f"{self.path}: nothing to resume (no {self.resume_file}); start a new run without --resume"
                )
            self.staging.mkdir()
        except BaseException:
            self.abandon()
            raise

    def file(self, name: str) -> Path:
        """The staging path of the output ``name`` (a path relative to the folder); its parent
        folders are created."""
        path = self.staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def final(self, name: str) -> Path:
        """Where the output ``name`` will be once the run succeeds."""
        return self.path / name

    def live(self, name: str) -> Path:
        """A file written in place, not staged (a database a later run resumes from); listed in
        ``complete.json`` like the rest."""
        self._live.append(name)
        return self.path / name

    def commit(self) -> None:
        """Move every staged file into place, drop outputs of an earlier run that this one did not
        write, write ``complete.json`` last, and release the folder."""
        try:
            manifest = self.path / MANIFEST_FILE
            previous = _listed(manifest)
            manifest.unlink(missing_ok=True)
            staged = sorted(p for p in self.staging.rglob("*") if p.is_file())
            names = [p.relative_to(self.staging).as_posix() for p in staged]
            for source, name in zip(staged, names, strict=True):
                _flush(source)
                target = self.path / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
            names += [name for name in self._live if (self.path / name).is_file()]
            for stale in set(previous) - set(names):
                (self.path / stale).unlink(missing_ok=True)
            write_atomically(manifest, lambda tmp: tmp.write_text(_manifest(self.path, names)))
        finally:
            self._release()

    def abandon(self) -> None:
        """Discard what this run staged and release the folder (removed, with the parents this run
        created, if nothing else is in it)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        self._release()
        for created in reversed(self._created):
            try:
                created.rmdir()
            except OSError:
                break

    def _release(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            (self.path / LOCK_FILE).unlink(missing_ok=True)
            os.close(self._lock)
            self._lock = None


def _claim_fresh(stem: Path) -> Path:
    """Create ``stem``, or the first of ``stem-2``, ``stem-3``, ... that does not exist yet
    (``mkdir`` is atomic, so two runs started together never get the same folder)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    candidate, number = stem, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1
            candidate = stem.with_name(f"{stem.name}-{number}")


def _lock(path: Path) -> int:
    """An exclusive lock on ``path`` (created if missing), or an :class:`OutputError` naming the
    process that holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: a lock file created exclusively stands in for flock
        return _exclusive_file(path)
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.read(handle, 200).decode(errors="replace").strip() or "another process"
            os.close(handle)
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise OutputError(
                    f"{path.parent}: another thetagym run ({holder}) is writing into this folder; "
                    "wait for it to finish or choose another --out"
                ) from None
            raise
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = -1
        if current == os.fstat(handle).st_ino:
            break
        os.close(handle)  # the holder released and removed the file meanwhile: lock the new one
    os.ftruncate(handle, 0)
    os.write(handle, f"pid {os.getpid()}, started {_now()}".encode())
    return handle


def _exclusive_file(path: Path) -> int:
    try:
        path.unlink(missing_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        raise OutputError(
            f"{path.parent}: another thetagym run is writing into this folder; wait for it or choose another --out"
        ) from None


def _flush(path: Path) -> None:
    """Push ``path``'s bytes to the disk before it takes its final name."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _manifest(folder: Path, names: list[str]) -> str:
    files = {
        name: {"bytes": (folder / name).stat().st_size, "sha256": _digest(folder / name)}
        for name in sorted(set(names))
    }
    record = {"complete": True, "finished": _now(), "command": " ".join(sys.argv), "files": files}
    return json.dumps(record, indent=2) + "\n"


def _listed(manifest: Path) -> list[str]:
    """The files an existing ``complete.json`` lists (none when it is missing or unreadable)."""
    try:
        files = json.loads(manifest.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [name for name in files if isinstance(name, str) and ".." not in Path(name).parts]


def check_complete(folder: Path) -> dict[str, Any]:
    """The ``complete.json`` record of ``folder``, or an :class:`OutputError` saying why the folder
    is not a finished result (no record, or a listed file missing or changed)."""
    manifest = Path(folder) / MANIFEST_FILE
    try:
        record: dict[str, Any] = json.loads(manifest.read_text())
    except FileNotFoundError:
        raise OutputError(f"{folder}: no {MANIFEST_FILE}; the run that wrote it did not finish") from None
    except (OSError, ValueError) as error:
        raise OutputError(f"{manifest}: unreadable ({error})") from None
    for name, entry in record.get("files", {}).items():
        path = Path(folder) / name
        if not path.is_file():
            raise OutputError(f"{folder}: {name} is listed in {MANIFEST_FILE} but missing")
        if path.stat().st_size != entry["bytes"] or _digest(path) != entry["sha256"]:
            raise OutputError(f"{folder}: {name} differs from what {MANIFEST_FILE} records")
    return record


def check_new_file(path: Path, replace: bool, option: str = "--out") -> None:
    """Refuse to write the file ``path`` over an existing file unless ``replace`` (``--force``),
    and over a folder always."""
    if path.is_dir():
        raise OutputError(f"{path}: {option} is a folder; give the path of the file to write")
    if path.exists() and not replace:
        raise OutputError(f"{path}: file exists; choose another {option}, or pass --force to replace it")


def write_atomically(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``: readers
    see the old file or the whole new one, never a part. The temporary file is removed on error."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        _flush(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def json_ready(data: Any) -> Any:
    """``data`` with every NaN or infinite float replaced by None (JSON ``null``) and tuples and
    numpy scalars made plain, so that ``json.dumps(..., allow_nan=False)`` gives strict JSON.

    >>> json.dumps(json_ready({"sharpe": float("nan"), "n": (1, 2.5)}), allow_nan=False)
    '{"sharpe": null, "n": [1, 2.5]}'
    """
    if isinstance(data, dict):
        return {str(key): json_ready(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_ready(value) for value in data]
    if hasattr(data, "item") and callable(data.item) and getattr(data, "shape", None) == ():
        data = data.item()  # a numpy scalar
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def dumps_json(data: Any) -> str:
    """Strict, indented JSON text of ``data`` (NaN and infinities as ``null``)."""
    return json.dumps(json_ready(data), indent=2, allow_nan=False)
