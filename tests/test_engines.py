"""Engines run a function over tasks and give each result its task's position, whatever the order
in which workers finish."""

from __future__ import annotations

import time

import pytest

from thetagym.config import ConfigError
from thetagym.engines import LocalEngine, check_engine, in_order, make_engine


def slow_square(value: int) -> int:
    """``value ** 2``, finishing later for smaller values (so workers finish out of order)."""
    time.sleep(0.05 * (3 - value % 4))
    return value * value


def test_local_processes_return_results_in_task_order() -> None:
    tasks = list(range(8))
    with LocalEngine(2) as engine:
        finished = list(engine.map(slow_square, tasks))
        ordered = list(engine.ordered(slow_square, tasks))
    assert sorted(finished) == [(i, i * i) for i in tasks]
    assert ordered == [i * i for i in tasks]


def test_prepare_runs_once_before_work_goes_to_workers() -> None:
    calls: list[str] = []
    with LocalEngine(2, prepare=lambda: calls.append("prepared")) as engine:
        list(engine.map(slow_square, [1, 2, 3]))
        list(engine.map(slow_square, [4, 5]))
    assert calls == ["prepared"]


def test_in_order_waits_for_earlier_positions() -> None:
    assert list(in_order([(2, "c"), (0, "a"), (3, "d"), (1, "b")])) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("name", "address", "message"),
    [
        ("dask", None, "unknown engine 'dask'; choose one of local, ray"),
        ("local", "10.0.0.1:6379", "--address names a Ray cluster; use it with --engine ray"),
    ],
)
def test_bad_engine_choices_are_refused_in_one_line(name: str, address: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        check_engine(name, address)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        make_engine(name, 1, address)


def test_ray_tasks_give_the_results_of_local_processes() -> None:
    pytest.importorskip("ray")
    with make_engine("ray", 2) as engine:
        assert list(engine.ordered(slow_square, list(range(6)))) == [i * i for i in range(6)]
