"""Where trials run: this process, local worker processes, or Ray tasks.

An engine yields each trial's result as it finishes; the study puts them back in trial order. A
trial's result depends only on its task (parameters and seeds), never on the engine or on which
worker ran it, so every engine gives the same scores.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any, Literal

from thetagym.config import ConfigError
from thetagym.evaluate.runner import THREAD_VARIABLES, single_threaded
from thetagym.tune.trial import TrialResult, TrialTask, run_trial

EngineName = Literal["local", "ray"]
ENGINES: tuple[str, ...] = ("local", "ray")


def require_extra(module: str, extra: str = "ray") -> None:
    """Raise a :class:`ConfigError` saying which extra to install when ``module`` is missing."""
    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"this command needs {module!r}, which is not installed; "
            f'install the {extra!r} extra: pip install -c constraints.txt -e ".[{extra}]"'
        )


class Engine:
    """Runs trial tasks; use as a context manager so workers are stopped afterwards."""

    workers: int = 1

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[TrialResult]:
        """Each task's result, in the order they finish."""
        for task in tasks:
            yield run_trial(task)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers."""


class LocalEngine(Engine):
    """``workers`` spawned processes (one BLAS/numba thread each); this process when ``workers == 1``."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[TrialResult]:
        if self.workers == 1:
            yield from super().run(tasks)
            return
        if self._pool is None:
            from thetagym.env.warm_up import compile_kernels

            compile_kernels()  # once, here: workers starting together would each compile them
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        with single_threaded():  # workers are spawned on submit: one thread each
            pending: set[Future[TrialResult]] = {self._pool.submit(run_trial, task) for task in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayEngine(Engine):
    """Trials as Ray tasks (one CPU each) on a cluster at ``address``, or on a local Ray instance of
    ``workers`` CPUs started here (and stopped on close)."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        require_extra("ray")
        import ray

        self.workers = workers
        self._started = False
        if not ray.is_initialized():
            env = {"env_vars": dict.fromkeys(THREAD_VARIABLES, "1")}
            if address:
                ray.init(address=address, runtime_env=env, log_to_driver=False)
            else:
                ray.init(
                    num_cpus=workers,
                    include_dashboard=False,
                    runtime_env=env,
                    log_to_driver=False,
                    configure_logging=False,
                )
            self._started = True
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_trial)

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[TrialResult]:
        import ray

        pending: list[Any] = [self._remote.remote(task) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
        self._started = False


def make_engine(name: str, workers: int | None = None, address: str | None = None) -> Engine:
    """The engine ``name`` with ``workers`` workers (default: the machine's cores)."""
    count = max(1, workers or os.cpu_count() or 1)
    if name == "local":
        if address:
            raise ConfigError("--address names a Ray cluster; use it with --engine ray")
        return LocalEngine(count)
    if name == "ray":
        return RayEngine(count, address)
    raise ConfigError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


def in_order(results: Iterable[TrialResult], numbers: Sequence[int]) -> Iterator[TrialResult]:
    """``results`` (in any order) re-yielded in the order of ``numbers``, each as soon as every
    earlier one is in."""
    waiting: dict[int, TrialResult] = {}
    position = 0
    for result in results:
        waiting[result.number] = result
        while position < len(numbers) and numbers[position] in waiting:
            yield waiting.pop(numbers[position])
            position += 1
