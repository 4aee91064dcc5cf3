"""Shared env-test helpers: the env configs of the repository and a rollout runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV_CONFIGS = sorted((ROOT / "configs" / "env").glob("*.yaml"))
DEFAULT_CONFIG = ROOT / "configs" / "env" / "default.yaml"


@pytest.fixture(params=ENV_CONFIGS, ids=[p.stem for p in ENV_CONFIGS])
def config_path(request: pytest.FixtureRequest) -> Path:
    """Every env config file of the repository."""
    return Path(request.param)


def masked_random_actions(rng: np.random.Generator, masks: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    """One legal action per env (rows of ``masks``, flat over the parts of ``nvec``), uniformly drawn."""
    masks = np.atleast_2d(masks)
    bounds = np.concatenate([[0], np.cumsum(nvec)])
    actions = np.zeros((masks.shape[0], len(nvec)), dtype=np.int64)
    for part in range(len(nvec)):
        legal = masks[:, bounds[part] : bounds[part + 1]]
        scores = rng.random(legal.shape) * legal
        actions[:, part] = scores.argmax(axis=1)
    return actions
