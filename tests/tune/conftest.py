"""Shared tuning runs: the smoke config tuned once per engine per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from thetagym.tune.config import TuneConfig, load_tune_config
from thetagym.tune.runner import TuneResult, tune

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "tune" / "smoke.yaml"


@pytest.fixture(scope="session")
def smoke_config() -> TuneConfig:
    return load_tune_config(SMOKE)


@pytest.fixture(scope="session")
def local_run(smoke_config: TuneConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TuneResult]:
    """The smoke config tuned by the local engine in this process (1 worker)."""
    out = tmp_path_factory.mktemp("tune") / "local"
    return out, tune(smoke_config, out, source=str(SMOKE), engine="local", workers=1)
