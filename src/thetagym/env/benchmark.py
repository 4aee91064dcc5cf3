"""Env-steps per second of the single and vector envs, beside the pricing-kernel floor.

For each env config and env count, :func:`benchmark_env` steps the env with random actions (the
guard blocks the illegal ones) for ``seconds`` and reports env-steps per second, and times the
kernels alone for the same legs: one :func:`~thetagym.pricing.black76_greeks` call over the open
legs of all envs and one over legs x 16 margin scenarios. ``ratio_to_floor`` is the step time
over that kernel time (the targets: at most 3). Steps and kernel calls run in alternating short
blocks, so that a change of the machine's speed during the run (other tenants, clock frequency)
weighs on both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from thetagym.book.margin import N_SCENARIOS
from thetagym.env import kernels as env_kernels
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.pricing import black76_greeks

TARGETS = {
    "single_default": 10_000.0,
    "vector": 100_000.0,
    "single_large": 1_000.0,
    "ratio_to_floor": 3.0,
}
"""Env-steps per second the env should reach (and the largest step-to-kernel time ratio)."""


def benchmark_env(
    config_paths: Sequence[str | Path] = ("configs/env/default.yaml", "configs/env/large_book.yaml"),
    env_counts: Sequence[int] = (1, 64, 256),
    seconds: float = 2.0,
    seed: int = 0,
) -> dict[str, Any]:
    """``{config stem: {num_envs: {steps_per_second, step_seconds, compiled_seconds, python_seconds,
    kernel_floor_seconds, ratio_to_floor, open_legs}}}`` plus ``targets``; ``num_envs == 1`` is the
    single env. ``compiled_seconds`` is the time per step inside the compiled step (book, measures,
    observation: :func:`thetagym.env.kernels.run`), ``python_seconds`` the rest (the call's
    arguments and outputs, resets)."""
    results: dict[str, Any] = {"targets": TARGETS}
    for path in config_paths:
        stem = Path(path).stem
        results[stem] = {str(n): _measure(path, n, seconds, seed) for n in env_counts}
    return results


def _measure(path: str | Path, num_envs: int, seconds: float, seed: int) -> dict[str, float]:
    env: ShortPremiumEnv | ShortPremiumVectorEnv
    if num_envs == 1:
        env = ShortPremiumEnv(path)
        env.reset(seed=seed)
        single = env

        def step(action: np.ndarray) -> None:
            _, _, terminated, truncated, _ = single.step(action[0])
            if terminated or truncated:
                single.reset()

    else:
        env = ShortPremiumVectorEnv(num_envs, path)
        env.reset(seed=seed)
        vector = env

        def step(action: np.ndarray) -> None:
            vector.step(action)

    nvec = env.core.action_nvec
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, nvec, size=(256, num_envs, len(nvec)))
    # Mostly HOLD, as a managed book is: one part in eight acts.
    actions *= rng.random(actions.shape) < 0.125
    legs = int(np.count_nonzero(env.core.book.view().quantity))
    kernels = _kernel_floor(max(legs, 1))
    for k in range(20):  # warm-up
        step(actions[k])
        kernels()
    steps, calls = _Clock(), _Clock()
    with _clock_compiled_step(steps):
        while steps.seconds < seconds:
            _time_block(lambda k: step(actions[k % len(actions)]), steps, seconds / BLOCKS)
            _time_block(lambda _: kernels(), calls, seconds / BLOCKS / 4)
    step_seconds, floor = steps.per_call(), calls.per_call()
    compiled_seconds = steps.inner_seconds / steps.calls
    return {
        "steps_per_second": num_envs / step_seconds,
        "step_seconds": step_seconds,
        "compiled_seconds": compiled_seconds,
        "python_seconds": step_seconds - compiled_seconds,
        "kernel_floor_seconds": floor,
        "ratio_to_floor": step_seconds / floor,
        "open_legs": float(legs),
    }


BLOCKS = 40
"""Blocks of steps (each followed by a quarter as long a block of kernel calls) per measurement."""


class _Clock:
    """Seconds and calls timed so far; ``inner_seconds``: the part spent in the compiled step."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.inner_seconds = 0.0

    def per_call(self) -> float:
        return self.seconds / max(self.calls, 1)


def _time_block(function: Callable[[int], object], clock: _Clock, seconds: float) -> None:
    """Call ``function(k)`` for about ``seconds``, adding the time and calls to ``clock``."""
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        function(clock.calls + calls)
        calls += 1
    clock.seconds += elapsed
    clock.calls += calls


@contextmanager
def _clock_compiled_step(clock: _Clock) -> Iterator[None]:
    """Within the block, time the env's compiled steps (:func:`thetagym.env.kernels.run` and
    :func:`~thetagym.env.kernels.run_parallel` called with :data:`~thetagym.env.kernels.STEP`)
    into ``clock.inner_seconds``."""
    originals = {name: getattr(env_kernels, name) for name in ("run", "run_parallel")}

    def timed(compiled: Callable[..., int]) -> Callable[..., int]:
        def call(operation: int, *args: Any) -> int:
            if operation != env_kernels.STEP:
                return compiled(operation, *args)
            start = time.perf_counter()
            ended = compiled(operation, *args)
            clock.inner_seconds += time.perf_counter() - start
            return ended

        return call

    for name, compiled in originals.items():
        setattr(env_kernels, name, timed(compiled))
    try:
        yield
    finally:
        for name, compiled in originals.items():
            setattr(env_kernels, name, compiled)


def _kernel_floor(legs: int) -> Callable[[], None]:
    """One greeks call over ``legs`` options plus one over ``legs * 16`` scenarios, on random inputs."""
    rng = np.random.default_rng(0)

    def inputs(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        forward = 5000.0 * np.exp(rng.normal(0.0, 0.03, size))
        return (
            forward,
            forward * np.exp(rng.normal(0, 0.05, size)),
            rng.uniform(1 / 252, 0.1, size),
            rng.uniform(0.1, 0.4, size),
            rng.random(size) < 0.5,
        )

    legs_inputs, scenario_inputs = inputs(legs), inputs(legs * N_SCENARIOS)

    def kernels() -> None:
        black76_greeks(*legs_inputs, rate=0.04)
        black76_greeks(*scenario_inputs, rate=0.04)

    return kernels


def format_benchmark(results: dict[str, Any]) -> str:
    """A small text table of :func:`benchmark_env` results (times in microseconds per step)."""
    columns = (
        ("env-steps/s", "steps_per_second", 1.0, ",.0f"),
        ("step us", "step_seconds", 1e6, ".0f"),
        ("compiled us", "compiled_seconds", 1e6, ".0f"),
        ("python us", "python_seconds", 1e6, ".0f"),
        ("floor us", "kernel_floor_seconds", 1e6, ".0f"),
        ("ratio", "ratio_to_floor", 1.0, ".1f"),
        ("legs", "open_legs", 1.0, ".0f"),
    )
    lines = [f"{'config':<14}{'envs':>6}" + "".join(f"{title:>13}" for title, *_ in columns)]
    for stem, by_count in results.items():
        if stem == "targets":
            continue
        for count, r in by_count.items():
            cells = "".join(f"{r[key] * scale:>13{spec}}" for _, key, scale, spec in columns)
            lines.append(f"{stem:<14}{count:>6}{cells}")
    return "\n".join(lines)
