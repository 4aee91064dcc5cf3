"""``thetagym bench``: speed of the pricing kernels, the market simulator, the environment, training
and the evaluation summary.

Benchmarks print figures; they are not timed tests. Each subcommand prints a table, or one JSON
object with ``--json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import FiniteFloat
from thetagym.outputs import dumps_json

MAX_SECONDS = 600.0
"""Longest time a benchmark may spend per case."""

_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
"""The ``--json`` flag every benchmark takes."""


def figure_text(value: object) -> str:
    """A measured figure with three significant digits, thousands separated.

    >>> figure_text(0.0029), figure_text(12.345), figure_text(1534567.8), figure_text(7)
    ('0.0029', '12.3', '1,534,568', '7')
    """
    if not isinstance(value, float):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _emit(results: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(dumps_json(results))
        return
    width = max(len(name) for name in results)
    for name, value in results.items():
        click.echo(f"{name:<{width}}  {figure_text(value)}")


def _run(benchmark: Callable[..., Mapping[str, Any]], as_json: bool, **kwargs: Any) -> None:
    results = benchmark(**kwargs)
    _emit(results, as_json)


@click.group()
def bench() -> None:
    """Benchmarks that print figures (options/s, bars/s, env-steps/s, episodes/s)."""


@bench.command("pricing")
@_json_option
@click.option(
    "--seconds",
    default=0.5,
    show_default=True,
    type=FiniteFloat(0.05, MAX_SECONDS),
    help="Time per batch size.",
)
def bench_pricing(as_json: bool, seconds: float) -> None:
    """Options priced per second for batches of 1, 100, 10,000 and 1,000,000 options."""
    from thetagym.pricing.benchmark import benchmark_pricing

    _run(benchmark_pricing, as_json, repeat_seconds=seconds)


@bench.command("market")
@_json_option
@click.option(
    "--seconds",
    default=1.0,
    show_default=True,
    type=FiniteFloat(0.05, MAX_SECONDS),
    help="Time per batch size.",
)
def bench_market(as_json: bool, seconds: float) -> None:
    """Simulated path-bars per second for 1 and 256 paths."""
    from thetagym.market.benchmark import benchmark_market

    _run(benchmark_market, as_json, repeat_seconds=seconds)


@bench.command("env")
@_json_option
@click.option(
    "--seconds", default=2.0, show_default=True, type=FiniteFloat(0.1, MAX_SECONDS), help="Time per setup."
)
def bench_env(as_json: bool, seconds: float) -> None:
    """Env-steps per second of the single and vector env beside the pricing and margin kernel floor."""
    from thetagym.env.benchmark import benchmark_env, format_benchmark

    compile_if_cold()
    results = benchmark_env(seconds=seconds)
    click.echo(dumps_json(results) if as_json else format_benchmark(results))


@bench.command("train")
@_json_option
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--steps",
    default=262_144,
    show_default=True,
    type=click.IntRange(1_024, 100_000_000),
    help="Env-steps to train for (rounded up to whole rollouts).",
)
def bench_train(as_json: bool, config: Path, steps: int) -> None:
    """Env-steps per second of training CONFIG end to end, and of its rollouts and updates."""
    from thetagym.train.benchmark import benchmark_training

    compile_if_cold()
    _run(benchmark_training, as_json, config_path=config, steps=steps)


@bench.command("summary")
@_json_option
@click.option("--agents", default=4, show_default=True, type=click.IntRange(2, 100), help="Agents.")
@click.option(
    "--episodes",
    default=1_024,
    show_default=True,
    type=click.IntRange(2, 100_000),
    help="Episodes per agent and scenario (7 scenarios).",
)
def bench_summary(as_json: bool, agents: int, episodes: int) -> None:
    """Episodes per second of an evaluation's summary and paired intervals (synthetic episodes)."""
    from thetagym.evaluate.benchmark import benchmark_summary

    _run(benchmark_summary, as_json, agents=agents, episodes=episodes)
