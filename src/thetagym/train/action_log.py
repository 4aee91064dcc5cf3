"""The actions the training envs took, so that a resumed run rebuilds their state exactly.

``checkpoints/actions.bin`` holds one row per vector-env step, ``n_envs * parts`` bytes (each
action part fits a byte), appended as training steps. A checkpoint records how many rows it
covers and their sha256. The batched env is a pure function of its seed and the actions it was
given, so replaying those rows through a fresh env seeded as the run was brings back its episodes
in progress (positions, paths, each env's path generator) bit for bit, without storing any of it.
The log is about ``6 * n_envs`` bytes per vector step (15 MB for 2.5 million env-steps).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from thetagym.policies.stored import ModelLoadError

ACTION_LOG = "actions.bin"


class ActionLog(BaseCallback):
    """Append every vector step's actions to ``path``, after its first ``rows`` rows (the rest,
    steps a resumed run redoes, is cut off)."""

    def __init__(self, path: Path, row_bytes: int, rows: int = 0) -> None:
        super().__init__()
        self.path = path
        self.row_bytes = row_bytes
        self.rows = rows
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = path.read_bytes()[: rows * row_bytes] if rows else b""
        self.hash = hashlib.sha256(kept)
        self.file = path.open("wb")
        self.file.write(kept)

    def _on_step(self) -> bool:
        data = np.asarray(self.locals["actions"], dtype=np.uint8).tobytes()
        self.file.write(data)
        self.hash.update(data)
        self.rows += 1
        return True

    def mark(self) -> dict[str, Any]:
        """What a checkpoint records of the log: rows so far and their sha256 (the file flushed)."""
        self.file.flush()
        return {"action_rows": self.rows, "action_sha256": self.hash.hexdigest()}

    def close(self) -> None:
        self.file.close()


def replay(path: Path, rows: int, digest: str, env: Any) -> tuple[np.ndarray, np.ndarray]:
    """Reset the SB3 vec ``env`` (seeded as the run was) and step it through the first ``rows``
    logged rows, checked against ``digest``; the last observations and episode starts."""
    n_envs, parts = env.num_envs, len(env.action_space.nvec)
    size = rows * n_envs * parts
    data = path.read_bytes()[:size] if path.is_file() else b""
    if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        raise ModelLoadError(
            f"{path}: the logged actions do not match the checkpoint's record ({rows} steps, sha256); "
            "the envs' state cannot be rebuilt"
        )
    actions = np.frombuffer(data, dtype=np.uint8).reshape(rows, n_envs, parts).astype(np.int64)
    observations = env.reset()
    starts = np.ones(n_envs, dtype=bool)
    for step in actions:
        observations, _, starts, _ = env.step(step)
    return observations, starts
