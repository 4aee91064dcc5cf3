"""Where many independent runs go: this process, local worker processes, or Ray tasks.

Tuning trials, evaluation tasks and training seeds are all lists of tasks whose results depend only
on the task (its parameters and seeds), never on the engine or on which worker ran it. An engine
maps a module-level function over such tasks and yields each result as it finishes, with its
position; :meth:`Engine.ordered` puts them back in task order. Workers start with one
BLAS/OpenMP/torch/numba thread each, so results do not depend on thread counts either.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any, Literal, TypeVar

from thetagym.config import ConfigError

Task = TypeVar("Task")
Result = TypeVar("Result")

EngineName = Literal["local", "ray"]
ENGINES: tuple[str, ...] = ("local", "ray")

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def require_extra(module: str, extra: str = "ray") -> None:
    """Raise a :class:`ConfigError` saying which extra to install when ``module`` is missing."""
    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"this command needs {module!r}, which is not installed; "
            f'install the {extra!r} extra: pip install -c constraints.txt -e ".[{extra}]"'
        )


@contextmanager
def single_threaded() -> Iterator[None]:
    """Environment under which worker processes start with one BLAS/OpenMP/torch/numba thread each."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Engine:
    """Runs tasks in this process, one after another; use engines as context managers so their
    workers are stopped afterwards.

    ``prepare`` runs once in this process before the first task goes to a worker (for example to
    compile the kernels once, where workers starting together would each compile them).
    """

    workers: int = 1

    def __init__(self, prepare: Callable[[], None] | None = None) -> None:
        self._prepare = prepare

    def map(self, function: Callable[[Task], Result], tasks: Sequence[Task]) -> Iterator[tuple[int, Result]]:
        """``(position, function(task))`` for every task of ``tasks``, in the order they finish
        (here, one after another in this process)."""
        for position, task in enumerate(tasks):
            yield position, function(task)

    def ordered(self, function: Callable[[Task], Result], tasks: Sequence[Task]) -> Iterator[Result]:
        """``function(task)`` for every task of ``tasks`` in task order, each as soon as every
        earlier one is in."""
        yield from in_order(self.map(function, tasks))

    def prepare(self) -> None:
        """Run ``prepare`` (once)."""
        if self._prepare is not None:
            self._prepare()
            self._prepare = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers."""


class LocalEngine(Engine):
    """``workers`` spawned processes (one thread each); this process when ``workers == 1``."""

    def __init__(self, workers: int, prepare: Callable[[], None] | None = None) -> None:
        super().__init__(prepare)
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def map(self, function: Callable[[Task], Result], tasks: Sequence[Task]) -> Iterator[tuple[int, Result]]:
        """``(position, function(task))`` for every task of ``tasks``, in the order the worker
        processes finish them (``function`` must be importable by the workers)."""
        if self.workers == 1 or len(tasks) <= 1:
            yield from super().map(function, tasks)
            return
        if self._pool is None:
            self.prepare()
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        with single_threaded():  # workers are spawned on submit: one thread each
            pending: dict[Future[Result], int] = {
                self._pool.submit(function, task): position for position, task in enumerate(tasks)
            }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayEngine(Engine):
    """Tasks as Ray tasks (one CPU each) on a cluster at ``address``, or on a local Ray instance of
    ``workers`` CPUs started here (and stopped on close)."""

    def __init__(
        self, workers: int, address: str | None = None, prepare: Callable[[], None] | None = None
    ) -> None:
        require_extra("ray")
        import ray

        super().__init__(prepare)
        self.workers = workers
        self._started = False
        self._remotes: dict[Callable[..., Any], Any] = {}
        if not ray.is_initialized():
            runtime_env = {"env_vars": dict.fromkeys(THREAD_VARIABLES, "1")}
            if address:
                ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
            else:
                ray.init(
                    address="local",  # a new instance of its own, never another run's cluster
                    num_cpus=workers,
                    include_dashboard=False,
                    runtime_env=runtime_env,
                    log_to_driver=False,
                    configure_logging=False,
                )
            self._started = True

    def map(self, function: Callable[[Task], Result], tasks: Sequence[Task]) -> Iterator[tuple[int, Result]]:
        """``(position, function(task))`` for every task of ``tasks``, each run as a Ray task, in the
        order they finish."""
        import ray

        self.prepare()
        if function not in self._remotes:
            self._remotes[function] = ray.remote(num_cpus=1, max_retries=0)(function)
        remote = self._remotes[function]
        positions = {remote.remote(task): position for position, task in enumerate(tasks)}
        pending = list(positions)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield positions[ref], ray.get(ref)

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
        self._started = False


def check_engine(name: str, address: str | None = None) -> None:
    """Refuse (a :class:`ConfigError`) an unknown engine ``name``, a cluster ``address`` without
    Ray, or Ray when it is not installed, before any work starts."""
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "local" and address:
        raise ConfigError("--address names a Ray cluster; use it with --engine ray")
    if name == "ray":
        require_extra("ray")


def make_engine(
    name: str,
    workers: int | None = None,
    address: str | None = None,
    prepare: Callable[[], None] | None = None,
) -> Engine:
    """The engine ``name`` (``local`` or ``ray``) with ``workers`` workers (default: the machine's
    cores); ``address`` is a Ray cluster's (None: a local Ray instance); ``prepare`` runs once
    before the first task (compiling kernels, say, so that workers need not)."""
    check_engine(name, address)
    count = max(1, workers or os.cpu_count() or 1)
    if name == "ray":
        return RayEngine(count, address, prepare)
    return LocalEngine(count, prepare)


def in_order(results: Iterable[tuple[int, Result]]) -> Iterator[Result]:
    """``(position, result)`` pairs (in any order) re-yielded as results in position order, each as
    soon as every earlier one is in.

    >>> list(in_order([(1, "b"), (0, "a"), (2, "c")]))
    ['a', 'b', 'c']
    """
    waiting: dict[int, Result] = {}
    position = 0
    for index, result in results:
        waiting[index] = result
        while position in waiting:
            yield waiting.pop(position)
            position += 1
