"""Throughput of the pricing kernels, for ``thetagym bench pricing``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from thetagym.pricing.black76 import black76_greeks, black76_price


def _random_inputs(size: int, rng: np.random.Generator) -> dict[str, Any]:
    """ES-like options: forward near 5000, strikes within about +-20%, 1 day to 6 months."""
    forward = 5000.0 * np.exp(rng.normal(0.0, 0.01, size))
    return {
        "forward": forward,
        "strike": forward * np.exp(rng.normal(0.0, 0.08, size)),
        "time_to_expiry": rng.uniform(1.0 / 365.0, 0.5, size),
        "volatility": rng.uniform(0.10, 0.60, size),
        "is_call": rng.random(size) < 0.5,
        "rate": 0.04,
    }


def _seconds_per_call(function: Callable[[], object], budget: float) -> float:
    """Best of five timed rounds, each about ``budget / 5`` seconds (at least one call)."""
    function()  # warm-up
    start = time.perf_counter()
    function()
    single = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(budget / 5.0 / single))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def benchmark_pricing(
    batch_sizes: Sequence[int] = (1, 100, 10_000, 1_000_000),
    repeat_seconds: float = 0.5,
    seed: int = 0,
) -> dict[str, float]:
    """Options priced per second by :func:`black76_greeks` and :func:`black76_price`.

    Inputs are random ES-like options (forward near 5000, strikes within about +-20%, 1 day to
    6 months, 10-60% volatility, calls and puts mixed, scalar rate 4%).

    Args:
        batch_sizes: numbers of options priced per call.
        repeat_seconds: time budget per kernel and batch size (best of 5 timed rounds).
        seed: seed of the input generator.

    Returns:
        A flat mapping, for ``kernel`` in ``greeks`` and ``price`` and each batch size ``n``:
        ``"{kernel}_batch_{n}_options_per_second"``, ``"{kernel}_batch_{n}_microseconds_per_call"``
        and ``"{kernel}_overhead_microseconds"``, the time of a call on a single option (the fixed
        cost of a call, always measured).

    >>> result = benchmark_pricing(batch_sizes=(10,), repeat_seconds=0.01)
    >>> sorted(result)  # doctest: +NORMALIZE_WHITESPACE
    ['greeks_batch_10_microseconds_per_call', 'greeks_batch_10_options_per_second',
     'greeks_overhead_microseconds', 'price_batch_10_microseconds_per_call',
     'price_batch_10_options_per_second', 'price_overhead_microseconds']
    >>> result["greeks_batch_10_options_per_second"] > 0
    True
    """
    rng = np.random.default_rng(seed)
    kernels: dict[str, Callable[..., object]] = {"greeks": black76_greeks, "price": black76_price}
    result: dict[str, float] = {}
    for name, kernel in kernels.items():
        for size in batch_sizes:
            call = functools.partial(kernel, **_random_inputs(int(size), rng))
            seconds = _seconds_per_call(call, repeat_seconds)
            result[f"{name}_batch_{size}_options_per_second"] = size / seconds
            result[f"{name}_batch_{size}_microseconds_per_call"] = 1e6 * seconds
        single = functools.partial(kernel, **_random_inputs(1, rng))
        result[f"{name}_overhead_microseconds"] = 1e6 * _seconds_per_call(single, repeat_seconds)
    return result
