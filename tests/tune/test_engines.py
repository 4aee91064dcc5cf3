"""Local processes and a local Ray instance of 2 CPUs choose the same best trial as one process."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from thetagym.tune.config import TuneConfig
from thetagym.tune.runner import TuneResult, tune

pytest.importorskip("ray")

COMPARED = [
    "number",
    "state",
    "objective",
    "feasible",
    "param.thresholds.roll_delta",
    "param.thresholds.imbalance",
]


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_two_workers_give_the_trials_and_best_of_one(
    engine: str, smoke_config: TuneConfig, local_run: tuple[Path, TuneResult], tmp_path: Path
) -> None:
    _, reference = local_run
    result = tune(smoke_config, tmp_path / engine, engine=engine, workers=2)
    pd.testing.assert_frame_equal(result.trials[COMPARED], reference.trials[COMPARED])
    assert result.best is not None and reference.best is not None
    assert int(result.best["number"]) == int(reference.best["number"])
    assert result.held_out == reference.held_out
