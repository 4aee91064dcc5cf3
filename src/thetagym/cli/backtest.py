"""``thetagym backtest``: one agent on one continuous stretch of real history, with a report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from thetagym.cli.options import agent_option, claim_output, force_option, out_option, seed_option
from thetagym.outputs import REPORTS_FOLDER, dumps_json
from thetagym.seeds import EVALUATION_SEED_BASE

DAILY_FILE = "equity.csv"
YEARLY_FILE = "yearly.csv"
MONTHLY_FILE = "monthly.csv"
FIGURES_FILE = "figures.json"
REPORT_FILE = "report.html"


def _date(value: str, option: str) -> str:
    """``value`` if it is an ISO date, else a usage error naming ``option``."""
    import numpy as np

    try:
        return str(np.datetime64(value, "D"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)", param_hint=option) from None


@click.command()
@agent_option
@click.option(
    "--env",
    "env_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Env (book) config [default: the default env].",
)
@click.option(
    "--start", required=True, help="First day, ISO date (the replay starts on the first trading day from it)."
)
@click.option("--end", required=True, help="Last day, ISO date.")
@click.option(
    "--benchmark",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A daily index CSV (Cboe, Yahoo or ISO layout) to set beside the agent.",
)
@seed_option(EVALUATION_SEED_BASE, "Seed of the intraday bars.")
@out_option
@force_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def backtest(
    agent_path: Path,
    env_path: Path | None,
    start: str,
    end: str,
    benchmark: Path | None,
    seed: int,
    out: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Replay history from --start to --end as one continuous path for one agent; write the daily
    equity curve, calendar-year and monthly returns, and a report with dated charts."""
    start, end = _date(start, "--start"), _date(end, "--end")
    if start >= end:
        raise click.BadParameter(f"--start {start} must come before --end {end}", param_hint="--start")
    default = REPORTS_FOLDER / f"backtest-{agent_path.stem}-{start}-{end}"
    with claim_output(out, force, default) as folder:
        from thetagym.cli.kernels import compile_if_cold
        from thetagym.env.config import default_config_path
        from thetagym.evaluate.backtest import backtest_json, run_backtest
        from thetagym.evaluate.config import AgentSpec
        from thetagym.evaluate.outputs import write_json, write_table
        from thetagym.report.backtest import render_backtest

        agent = AgentSpec.from_path(agent_path)
        compile_if_cold()
        started = time.perf_counter()
        result = run_backtest(agent, env_path or default_config_path(), start, end, seed, benchmark)
        elapsed = time.perf_counter() - started
        write_table(result.daily, folder.file(DAILY_FILE))
        write_table(result.yearly, folder.file(YEARLY_FILE))
        write_table(result.monthly.reset_index(), folder.file(MONTHLY_FILE))
        figures = backtest_json(result)
        write_json(figures, folder.file(FIGURES_FILE))
        metadata = {
            "agent": str(agent_path),
            "env": str(env_path or default_config_path()),
            "window": f"{result.start} to {result.end} ({len(result.daily)} trading days)",
            "seed": seed,
            "run time": f"{elapsed:.0f} s",
        }
        render_backtest(result, folder.file(REPORT_FILE), metadata)
    report = folder.final(REPORT_FILE)
    if as_json:
        click.echo(dumps_json(figures))
        return
    agent_figures = result.figures["agent"]
    click.echo(
        f"{agent.name}, {result.start} to {result.end}: annualised return {agent_figures['annualised_return']:.1%}, "
        f"volatility {agent_figures['volatility']:.1%}, max drawdown {agent_figures['max_drawdown']:.1%}, "
        f"Sharpe {agent_figures['sharpe']:.2f}"
    )
    if "benchmark" in result.figures:
        other = result.figures["benchmark"]
        click.echo(
            f"{result.benchmark_name}: annualised return {other['annualised_return']:.1%}, volatility "
            f"{other['volatility']:.1%}, max drawdown {other['max_drawdown']:.1%}, Sharpe {other['sharpe']:.2f}; "
            f"correlation {result.comparison['correlation']:.2f}"
        )
    click.echo(f"report: {report}")
