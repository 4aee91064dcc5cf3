"""Training checkpoints that load without unpickling.

A checkpoint is a folder (``checkpoints/last/``, ``checkpoints/step_<n>/``) that is also a
stored policy (:mod:`thetagym.policies.stored`), plus what continues training:

- ``optimizer.pt``: the Adam state dict (tensors and numbers only), read with
  ``torch.load(weights_only=True)``;
- ``random.safetensors``: the global random states training draws from: torch's generator,
  numpy's legacy ``MT19937`` key (SB3 shuffles minibatches with ``np.random``) and Python's
  ``random``;
- ``state.yaml``: SB3's counters (env-steps, updates, episodes), the last 100 episodes' returns
  behind ``rollout/ep_rew_mean``, the values logged but not yet written, the next evaluation and
  checkpoint steps, and the rest of those random states.

A checkpoint is taken at the start of a rollout (after the previous update), when the model's
state is complete; Ctrl-C writes the latest such snapshot, so the steps of an unfinished rollout
are redone on resume.
"""

from __future__ import annotations

import copy
import io
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from thetagym.policies.stored import (
    SPEC_FILE,
    WEIGHTS_FILE,
    ModelLoadError,
    PolicySpec,
    load_stored_policy,
    read_verified,
    record_digests,
    save_policy,
    write_atomically,
)
from thetagym.policies.trained import SPACES_FILE

OPTIMIZER_FILE = "optimizer.pt"
RANDOM_FILE = "random.safetensors"
STATE_FILE = "state.yaml"
CHECKPOINT_FILES = (SPEC_FILE, WEIGHTS_FILE, SPACES_FILE, OPTIMIZER_FILE, RANDOM_FILE, STATE_FILE)


@dataclass
class Snapshot:
    """A copy of everything a checkpoint holds, taken between updates."""

    policy: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    torch_random: torch.Tensor
    numpy_random: Any
    python_random: tuple[Any, ...]
    state: dict[str, Any]

    @property
    def timesteps(self) -> int:
        return int(self.state["num_timesteps"])


def take_snapshot(model: Any, schedule: dict[str, Any]) -> Snapshot:
    """Copy the model's weights, optimizer, counters and the global random states now;
    ``schedule``: the callbacks' own state (next evaluation and checkpoint steps, best score)."""
    logged = {
        key: float(value)
        for key, value in model.logger.name_to_value.items()
        if isinstance(value, int | float | np.number)
    }
    state = {
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(model._n_updates),
        "episode_num": int(model._episode_num),
        "episode_returns": [
            {"r": float(info["r"]), "l": int(info["l"]), "t": float(info["t"])}
            for info in (model.ep_info_buffer or [])
        ],
        "logged": logged,
        **schedule,
    }
    return Snapshot(
        policy={key: value.detach().clone() for key, value in model.policy.state_dict().items()},
        optimizer=copy.deepcopy(model.policy.optimizer.state_dict()),
        torch_random=torch.get_rng_state(),
        numpy_random=np.random.get_state(),  # noqa: NPY002 (SB3 shuffles with it)
        python_random=random.getstate(),
        state=state,
    )


def write_checkpoint(
    snapshot: Snapshot,
    spec: PolicySpec,
    spaces_text: str,
    folder: Path,
    companions: dict[str, bytes] | None = None,
) -> Path:
    """Write ``snapshot`` into ``folder`` (files replaced atomically, digests recorded last), with
    ``companions`` (file name to bytes, e.g. a residual agent's base rules) beside it."""
    save_policy(snapshot.policy, spec, folder)
    write_atomically(folder / SPACES_FILE, spaces_text.encode())
    for name, data in (companions or {}).items():
        write_atomically(folder / name, data)
    buffer = io.BytesIO()
    torch.save(snapshot.optimizer, buffer)
    write_atomically(folder / OPTIMIZER_FILE, buffer.getvalue())
    _, key, position, has_gauss, cached_gaussian = snapshot.numpy_random
    version, python_state, python_gauss = snapshot.python_random
    from safetensors.torch import save

    tensors = {
        "torch": snapshot.torch_random,
        "numpy_key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
        "python_state": torch.tensor(python_state, dtype=torch.int64),
    }
    write_atomically(folder / RANDOM_FILE, save(tensors))
    randoms = {
        "numpy_position": int(position),
        "numpy_has_gauss": int(has_gauss),
        "numpy_cached_gaussian": float(cached_gaussian),
        "python_version": int(version),
        "python_gauss": python_gauss,
    }
    text = yaml.safe_dump({**snapshot.state, "random": randoms}, sort_keys=False)
    write_atomically(folder / STATE_FILE, text.encode())
    record_digests(folder, [*CHECKPOINT_FILES, *(companions or {})])
    return folder


def read_checkpoint(folder: Path) -> tuple[Snapshot, PolicySpec]:
    """The snapshot in ``folder``, every file checked against its digest first."""
    from safetensors.torch import load

    files = read_verified(folder, CHECKPOINT_FILES)
    network, spec = load_stored_policy(folder, files)
    try:
        optimizer = torch.load(io.BytesIO(files[OPTIMIZER_FILE]), weights_only=True)
        tensors = load(files[RANDOM_FILE])
        record = yaml.safe_load(files[STATE_FILE].decode("utf-8"))
        randoms = record.pop("random")
        numpy_random = (
            "MT19937",
            tensors["numpy_key"].numpy().astype(np.uint32),
            randoms["numpy_position"],
            randoms["numpy_has_gauss"],
            randoms["numpy_cached_gaussian"],
        )
        python_random = (
            randoms["python_version"],
            tuple(int(v) for v in tensors["python_state"].tolist()),
            randoms["python_gauss"],
        )
        snapshot = Snapshot(
            network.state_dict(), optimizer, tensors["torch"], numpy_random, python_random, record
        )
        snapshot.timesteps  # noqa: B018 (checks the counter is there)
    except Exception as error:  # a damaged checkpoint is one line, whatever broke
        raise ModelLoadError(f"{folder}: damaged checkpoint ({type(error).__name__}: {error})") from None
    return snapshot, spec


def restore(model: Any, snapshot: Snapshot) -> None:
    """Put ``snapshot`` back into a freshly built ``model`` and the global random generators."""
    model.policy.load_state_dict(snapshot.policy, strict=True)
    model.policy.optimizer.load_state_dict(snapshot.optimizer)
    state = snapshot.state
    model.num_timesteps = int(state["num_timesteps"])
    model._n_updates = int(state["n_updates"])
    model._episode_num = int(state["episode_num"])
    model.ep_info_buffer = deque(state["episode_returns"], maxlen=model._stats_window_size)
    model.ep_success_buffer = deque(maxlen=model._stats_window_size)
    torch.set_rng_state(snapshot.torch_random)
    np.random.set_state(snapshot.numpy_random)  # noqa: NPY002 (SB3 shuffles with it)
    random.setstate(snapshot.python_random)
