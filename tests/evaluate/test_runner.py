"""The evaluation runner: deterministic, worker-count independent, common market paths for all agents."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thetagym.evaluate.config import load_evaluation_config
from thetagym.evaluate.outputs import write_table
from thetagym.evaluate.runner import evaluate, plan

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "evaluate" / "smoke.yaml"


@pytest.fixture(scope="module")
def smoke():
    return load_evaluation_config(SMOKE)


@pytest.fixture(scope="module")
def smoke_result(smoke):
    return evaluate(smoke, workers=1, progress=False)


def test_plan_gives_every_agent_the_same_seeds_per_scenario(smoke):
    config = dataclasses.replace(smoke, scenarios=("calm", "crash"), episodes=3)
    tasks = plan(config)
    assert len(tasks) == len(config.agents) * 2
    by_scenario: dict[str, set[tuple[int, ...]]] = {}
    for task in tasks:
        by_scenario.setdefault(task.scenario.label, set()).add(task.seeds)
    assert all(len(seeds) == 1 for seeds in by_scenario.values())
    assert by_scenario["calm"].isdisjoint(by_scenario["crash"])
    assert [t.trace for t in tasks] == [True, False] * len(config.agents)


def test_every_agent_sees_identical_paths(smoke_result):
    paths = smoke_result.index_paths
    agents = sorted({agent for agent, _ in paths})
    assert len(agents) >= 2
    for scenario in {s for _, s in paths}:
        reference = paths[(agents[0], scenario)]
        assert reference.shape[0] == 2 and np.unique(reference[:, -1]).size == 2
        for agent in agents[1:]:
            np.testing.assert_array_equal(paths[(agent, scenario)], reference)
    digests = smoke_result.episodes.pivot_table(
        index=["scenario", "episode"], columns="agent", values="path", aggfunc="first"
    )
    assert (digests.nunique(axis=1) == 1).all()


def test_episodes_hold_every_measure_and_attribution(smoke_result):
    columns = set(smoke_result.episodes.columns)
    from thetagym.measures import SUMMARY_FIELDS

    assert set(SUMMARY_FIELDS) <= columns
    assert any(c.startswith("attr_") and c.endswith("_theta") for c in columns)
    attribution = smoke_result.episodes.filter(like="attr_").sum(axis=1)
    np.testing.assert_allclose(attribution, smoke_result.episodes["pnl"], rtol=1e-6, atol=1e-3)
    trace = next(iter(smoke_result.traces.values()))
    for column in ("bar", "date", "index", "vix", "equity", "drawdown", "gross_contracts", "net_delta"):
        assert column in trace.columns
    assert {"cvar_5_mean", "theta_capture_low", "max_drawdown_high"} <= set(smoke_result.summary.columns)


def test_same_config_twice_and_two_workers_give_identical_episodes(smoke, smoke_result, tmp_path):
    """A second run, in two worker processes that finish in any order, writes the same file."""
    again = evaluate(smoke, workers=2, progress=False)
    first = write_table(smoke_result.episodes, tmp_path / "first.csv").read_text()
    second = write_table(again.episodes, tmp_path / "second.csv").read_text()
    assert first == second
    pd.testing.assert_frame_equal(smoke_result.summary, again.summary)


def test_ray_tasks_give_the_episodes_of_one_process(smoke, smoke_result):
    """The same evaluation as Ray tasks on a local Ray instance of 2 CPUs: identical episodes,
    summary and paired differences."""
    pytest.importorskip("ray")
    on_ray = evaluate(smoke, workers=2, progress=False, engine="ray")
    pd.testing.assert_frame_equal(smoke_result.episodes, on_ray.episodes)
    pd.testing.assert_frame_equal(smoke_result.summary, on_ray.summary)
    pd.testing.assert_frame_equal(smoke_result.paired, on_ray.paired)
