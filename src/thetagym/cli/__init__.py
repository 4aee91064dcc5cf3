"""The ``thetagym`` command. Each subcommand lives in its own module and is imported on use."""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
from typing import Any, NoReturn

import click

from thetagym import __version__
from thetagym.config import ConfigError

COMMANDS = {
    "market-stats": (
        "thetagym.cli.market_stats",
        "market_stats",
        "Simulate the market and compare its stylized facts with published figures.",
    ),
    "bench": (
        "thetagym.cli.bench",
        "bench",
        "Benchmarks of the pricing kernels, the market simulator and the environment.",
    ),
    "simulate": (
        "thetagym.cli.simulate",
        "simulate",
        "Run one agent on one scenario or historical replay and trace every bar.",
    ),
    "evaluate": (
        "thetagym.cli.evaluate",
        "evaluate",
        "Compare agents on the same market paths and write a report.",
    ),
    "compare": (
        "thetagym.cli.evaluate",
        "compare",
        "The default comparison of the built-in agents (the main job).",
    ),
    "backtest": (
        "thetagym.cli.backtest",
        "backtest",
        "Replay one continuous stretch of real history for one agent, with a report.",
    ),
    "advise": (
        "thetagym.cli.advise",
        "advise",
        "Advise on today's book: risk, stress and guard-checked actions.",
    ),
    "train": ("thetagym.cli.train", "train", "Train a PPO agent from a YAML config."),
    "convert-agent": (
        "thetagym.cli.convert",
        "convert_agent",
        "Convert a trusted stable-baselines3 zip into an agent folder that loads without unpickling.",
    ),
    "tune": (
        "thetagym.cli.tune",
        "tune",
        "Tune a rule config's thresholds with Optuna; judge the winner on held-out seeds.",
    ),
    "export-thresholds": (
        "thetagym.cli.export",
        "export_thresholds",
        "Fit a rule config's thresholds to a trained policy.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when they run (keeps ``--help`` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _, _) in COMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(COMMANDS[cmd_name][0]):
            return None
        module_name, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if not rows:
            return
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="thetagym")
def cli() -> None:
    """thetagym: manage a book of short S&P 500 options without the rebalancing spiral."""


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the command line, turning bad input and system errors (a missing
    permission, a full disk) into one clear line; ``THETAGYM_DEBUG=1`` shows the traceback."""
    try:
        return cli.main(args=argv, standalone_mode=False)
    except ConfigError as error:
        _fail(error, f"error: {error}", 2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        raise SystemExit(130) from None
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "thetagym"
        message = " ".join(error.format_message().split())
        click.echo(f"error: {message} (see '{command} --help')", err=True)
        raise SystemExit(error.exit_code) from None
    except click.ClickException as error:
        error.show()
        raise SystemExit(error.exit_code) from None
    except click.exceptions.Exit as done:
        raise SystemExit(done.exit_code) from None
    except OSError as error:
        _fail(error, f"error: {system_error_text(error)}", 1)


def system_error_text(error: OSError) -> str:
    """One line for an error of the operating system: the file, then what went wrong."""
    where = f"{error.filename}: " if error.filename else ""
    if error.errno == errno.ENOSPC:
        return f"{where}no space left on the device; free some space and run the command again"
    return f"{where}{error.strerror or error}"


def _fail(error: BaseException, line: str, code: int) -> NoReturn:
    if os.environ.get("THETAGYM_DEBUG"):
        raise error
    click.echo(line, err=True)
    raise SystemExit(code) from None
