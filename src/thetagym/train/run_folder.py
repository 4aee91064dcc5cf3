"""The folder a training run keeps everything in, so any result can be reproduced.

Layout::

    RUN_DIR/
      config.yaml         the resolved training config
      run.yaml            command line, package version, git revision, seed, start time
      env.yaml            the resolved env config
      policy.safetensors  the final policy's weights, with policy.yaml (its network) and spaces.yaml,
      metadata.yaml         and the sha256 of those files (written when training completes)
      best/               the best policy by periodic evaluation (same files; its score in metadata)
      checkpoints/        last/ (+ step_<n>/), written periodically and on Ctrl-C, and actions.bin,
                          the envs' actions, which resume replays
      progress.csv        training curves (a resumed run appends)
      evaluations.csv     the periodic evaluations
      tensorboard/        TensorBoard logs, when tensorboard is installed

Every policy folder loads without unpickling (:mod:`thetagym.policies.stored`).
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from thetagym import __version__
from thetagym.config import ConfigError

CHECKPOINTS = "checkpoints"
LAST_CHECKPOINT = "last"
BEST_POLICY = "best"
CONFIG_FILE = "config.yaml"
RUN_FILE = "run.yaml"
PROGRESS_FILE = "progress.csv"


class RunFolderError(ConfigError):
    """A run folder that cannot be created or resumed."""


def git_revision(directory: Path) -> str:
    """The git commit of ``directory``'s checkout (with ``-dirty`` when modified), or ``unknown``."""
    try:
        revision = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return revision or "unknown"


def create_run_folder(path: Path) -> Path:
    """Make a new, empty run folder; refuse one that already holds files (never overwrite a run)."""
    if path.exists() and any(path.iterdir()):
        raise RunFolderError(
            f"{path}: run folder already exists and is not empty; "
            "choose another --out, or continue it with --resume"
        )
    (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    return path


def write_run_record(path: Path, config_text: str, seed: int, extra: dict[str, Any] | None = None) -> None:
    """Write the resolved config and what reproduces the run (command line, version, revision)."""
    (path / CONFIG_FILE).write_text(config_text)
    record = {
        "command": " ".join(sys.argv),
        "thetagym_version": __version__,
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "python": sys.version.split()[0],
        "seed": seed,
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    runs = [record]
    if (path / RUN_FILE).exists():
        previous = yaml.safe_load((path / RUN_FILE).read_text()) or {}
        runs = [*previous.get("sessions", []), record]
    (path / RUN_FILE).write_text(yaml.safe_dump({"sessions": runs}, sort_keys=False))


def last_checkpoint(path: Path) -> Path:
    """The checkpoint a resumed run continues from, with a clear error when there is none."""
    if not path.is_dir():
        raise RunFolderError(f"{path}: no such run folder to resume")
    checkpoint = path / CHECKPOINTS / LAST_CHECKPOINT
    if not checkpoint.is_dir():
        if (path / CHECKPOINTS / "last.zip").is_file():
            raise RunFolderError(
                f"{path / CHECKPOINTS / 'last.zip'}: a stable-baselines3 checkpoint (a pickle) is never "
                "loaded; this run was written by an older thetagym and cannot be resumed"
            )
        raise RunFolderError(f"{path}: no checkpoint to resume from (expected {checkpoint})")
    if not (path / CONFIG_FILE).is_file():
        raise RunFolderError(f"{path}: {CONFIG_FILE} is missing; cannot resume without the run's config")
    return checkpoint
