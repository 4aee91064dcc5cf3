"""Trained PPO / MaskablePPO models behind the :class:`~thetagym.policies.base.Policy` interface.

A trained agent lives in a folder holding ``model.zip`` (or ``best_model.zip``, or a run folder's
``checkpoints/last.zip``) and ``spaces.yaml``, the observation names and action layout it was trained
on. Loading refuses a model whose layout does not match the env it is asked to act in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from thetagym.config import ConfigError
from thetagym.policies.base import PolicyContext

MODEL_FILES = ("model.zip", "best_model.zip", "checkpoints/last.zip")
SPACES_FILE = "spaces.yaml"


class ModelLoadError(ConfigError):
    """A trained agent folder that cannot be used with the env at hand."""


def find_model(agent_dir: Path) -> Path:
    """The model file of an agent or run folder, with a clear error when there is none."""
    agent_dir = Path(agent_dir)
    if agent_dir.is_file() and agent_dir.suffix == ".zip":
        return agent_dir
    if not agent_dir.is_dir():
        raise ModelLoadError(f"{agent_dir}: no such agent folder")
    for name in MODEL_FILES:
        if (agent_dir / name).is_file():
            return agent_dir / name
    raise ModelLoadError(f"{agent_dir}: no model found (looked for {', '.join(MODEL_FILES)})")


def write_spaces(
    folder: Path, observation_names: Sequence[str], action_nvec: Sequence[int], algorithm: str
) -> None:
    """Record the layout a model is trained on, so loading can check it against an env."""
    record = {
        "algorithm": algorithm,
        "action_nvec": [int(n) for n in action_nvec],
        "observation_names": list(observation_names),
    }
    (folder / SPACES_FILE).write_text(yaml.safe_dump(record, sort_keys=False))


def read_spaces(folder: Path) -> dict[str, Any]:
    """The layout record of an agent folder (see :func:`write_spaces`)."""
    path = folder / SPACES_FILE
    if not path.is_file():
        raise ModelLoadError(f"{folder}: {SPACES_FILE} is missing; cannot check the model's layout")
    record = yaml.safe_load(path.read_text()) or {}
    for key in ("algorithm", "action_nvec", "observation_names"):
        if key not in record:
            raise ModelLoadError(f"{path}: key {key!r} is missing")
    return dict(record)


def check_layout(
    folder: Path, record: dict[str, Any], observation_names: Sequence[str], action_nvec: Sequence[int]
) -> None:
    """Raise :class:`ModelLoadError` naming the first difference between model and env layouts."""
    trained_nvec = [int(n) for n in record["action_nvec"]]
    if trained_nvec != [int(n) for n in action_nvec]:
        raise ModelLoadError(
            f"{folder}: the model's action layout {trained_nvec} does not match the env's "
            f"{[int(n) for n in action_nvec]} (a different book?)"
        )
    trained_names = list(record["observation_names"])
    if trained_names != list(observation_names):
        if len(trained_names) != len(observation_names):
            detail = f"{len(trained_names)} features, the env has {len(observation_names)}"
        else:
            index = next(
                i for i, (a, b) in enumerate(zip(trained_names, observation_names, strict=True)) if a != b
            )
            detail = f"feature {index} is {trained_names[index]!r} in the model, {observation_names[index]!r} in the env"
        raise ModelLoadError(f"{folder}: the model's observation layout does not match the env: {detail}")


class TrainedPolicy:
    """A saved PPO or MaskablePPO model acting deterministically (masked when it supports masks)."""

    def __init__(self, model: Any, name: str, masked: bool) -> None:
        self.model = model
        self.name = name
        self.masked = masked

    @classmethod
    def load(
        cls,
        agent_dir: str | Path,
        observation_names: Sequence[str],
        action_nvec: Sequence[int],
        name: str = "",
    ) -> TrainedPolicy:
        """Load the model of ``agent_dir`` after checking its layout against the env's."""
        model_file = find_model(Path(agent_dir))
        folder = model_file.parent.parent if model_file.parent.name == "checkpoints" else model_file.parent
        record = read_spaces(folder)
        check_layout(folder, record, observation_names, action_nvec)
        algorithm = record["algorithm"]
        if algorithm == "maskable_ppo":
            from sb3_contrib import MaskablePPO

            model: Any = MaskablePPO.load(model_file, device="cpu")
        elif algorithm == "ppo":
            from stable_baselines3 import PPO

            model = PPO.load(model_file, device="cpu")
        else:
            raise ModelLoadError(f"{folder / SPACES_FILE}: unknown algorithm {algorithm!r}")
        return cls(model, name or folder.name, masked=algorithm == "maskable_ppo")

    def act(self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        """Deterministic actions ``(num_envs, n_parts)``; masked models never pick an illegal action."""
        if self.masked:
            actions, _ = self.model.predict(observations, action_masks=action_masks, deterministic=True)
        else:
            actions, _ = self.model.predict(observations, deterministic=True)
        return np.asarray(actions, dtype=np.int64).reshape(len(observations), -1)

    def reset(self, rows: np.ndarray) -> None:
        """Stateless: nothing to forget."""


def load_trained_agent(agent_dir: str | Path, book: Any = None) -> TrainedPolicy:
    """A trained agent acting in an env of ``book`` (a :class:`thetagym.book.BookConfig`; None: the
    default book), its layout checked against that env's."""
    from thetagym.env.config import resolve_config
    from thetagym.env.observation import observation_names

    config = resolve_config(None, {"book": book} if book is not None else {})
    nvec = action_nvec(len(config.book.layers))
    return TrainedPolicy.load(agent_dir, observation_names(config), nvec)


def action_nvec(n_layers: int) -> list[int]:
    """The ``MultiDiscrete`` layout of a book of ``n_layers`` layers: one part per layer plus the balancer."""
    from thetagym.book import BalancerAction, LayerAction

    return [len(LayerAction)] * n_layers + [len(BalancerAction)]
