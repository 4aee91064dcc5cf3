"""``bench env`` reports consistent figures and leaves the env's compiled step as it found it."""

from __future__ import annotations

import pytest

from thetagym.env import kernels
from thetagym.env.benchmark import TARGETS, benchmark_env, format_benchmark

from .conftest import DEFAULT_CONFIG


def test_benchmark_figures_are_consistent_and_the_step_is_unwrapped_after() -> None:
    run, run_parallel = kernels.run, kernels.run_parallel
    results = benchmark_env(config_paths=(DEFAULT_CONFIG,), env_counts=(1, 2), seconds=0.2)
    assert kernels.run is run and kernels.run_parallel is run_parallel
    assert results["targets"] == TARGETS
    for num_envs, figures in results["default"].items():
        assert figures["steps_per_second"] == pytest.approx(int(num_envs) / figures["step_seconds"])
        assert 0.0 < figures["compiled_seconds"] < figures["step_seconds"]
        assert figures["python_seconds"] == pytest.approx(
            figures["step_seconds"] - figures["compiled_seconds"]
        )
        assert figures["ratio_to_floor"] == pytest.approx(
            figures["step_seconds"] / figures["kernel_floor_seconds"]
        )
        assert figures["open_legs"] == 4.0 * int(num_envs)  # the default book opens four legs
    lines = format_benchmark(results).splitlines()
    assert lines[0].split()[:3] == ["config", "envs", "env-steps/s"]
    assert [line.split()[:2] for line in lines[1:]] == [["default", "1"], ["default", "2"]]
