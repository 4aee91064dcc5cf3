"""Options shared by several commands (kept free of heavy imports, so ``--help`` stays fast)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from thetagym.outputs import OutputFolder
from thetagym.seeds import MAX_SEED

F = TypeVar("F", bound=Callable[..., Any])

agent_option = click.option(
    "--agent",
    "agent_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A rule config YAML, or a trained agent's folder.",
)
"""``--agent RULES_OR_AGENT``: passed to the command as ``agent_path``."""


def claim_output(out: Path | None, force: bool, default: Path) -> OutputFolder:
    """Claim the output folder ``out`` (``--force`` writes into a used one), else a fresh folder
    named after ``default`` (``default-2`` ... when taken); before any heavy import, so a used or
    locked folder is refused at once."""
    folder = OutputFolder(out, replace=force) if out is not None else OutputFolder(default, fresh=True)
    folder.claim()
    return folder


out_option = click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output folder (refused if not empty) [default: under reports/].",
)
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty output folder (only this command's files are replaced).",
)


def seed_option(default: int, help: str, low: int = 0, name: str = "--seed") -> Callable[[F], F]:
    """``--seed`` (or ``name``): a whole number from ``low`` to :data:`thetagym.seeds.MAX_SEED`."""
    return click.option(
        name, default=default, show_default=True, type=click.IntRange(low, MAX_SEED), help=help
    )


class FiniteFloat(click.FloatRange):
    """A number from ``low`` to ``high`` (both inclusive); ``nan`` and infinities are refused."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__(min=low, max=high)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FloatRange.convert(self, value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def engine_options(command: F) -> F:
    """``--engine local|ray`` and ``--address``: where a command's many runs go (see
    :mod:`thetagym.engines`); passed as ``engine`` and ``address``."""
    command = click.option(
        "--address", help="Ray cluster address (with --engine ray) [default: start a local Ray]."
    )(command)
    return click.option(
        "--engine",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
        help="Local worker processes, or Ray tasks (needs the 'ray' extra).",
    )(command)
