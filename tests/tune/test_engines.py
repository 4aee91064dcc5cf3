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


def test_a_two_node_ray_cluster_gives_the_trials_of_one_process(
    smoke_config: TuneConfig, local_run: tuple[Path, TuneResult], tmp_path: Path
) -> None:
    """Trials sent to a cluster at ``--address`` (two simulated nodes of one CPU each)
    come back with the trials and best trial of one local process."""
    import ray
    from ray.cluster_utils import Cluster

    _, reference = local_run
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        assert len(cluster.list_all_nodes()) == 2
        result = tune(smoke_config, tmp_path / "cluster", engine="ray", workers=2, address=cluster.address)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    pd.testing.assert_frame_equal(result.trials[COMPARED], reference.trials[COMPARED])
    assert result.best is not None and reference.best is not None
    assert int(result.best["number"]) == int(reference.best["number"])
