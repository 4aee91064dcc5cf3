"""``thetagym simulate``: one agent on one scenario and seed (or a historical replay), traced bar by bar."""

from __future__ import annotations

from pathlib import Path

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import agent_option
from thetagym.env.config import default_config_path
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec, ScenarioSpec, check_replay_name, check_scenario_name
from thetagym.evaluate.outputs import REPORTS_FOLDER, fresh_folder, prepare_output, write_table
from thetagym.evaluate.rollout import env_config, rollout
from thetagym.report import plot_simulation
from thetagym.seeds import EVALUATION_SEED_BASE

TRACE_FILE = "trace.csv"


@click.command()
@agent_option
@click.option(
    "--env", "env_path", type=click.Path(path_type=Path), help="Env (book) config [default: the default env]."
)
@click.option("--scenario", help="A simulated scenario or scenario mix (calm, crash, calm-to-stressed, ...).")
@click.option("--replay", help="A historical window: a name (covid_2020, gfc_2008, ...) or START:END dates.")
@click.option(
    "--index-csv", type=click.Path(exists=True, path_type=Path), help="Daily index closes for --replay."
)
@click.option(
    "--vix-csv", type=click.Path(exists=True, path_type=Path), help="Daily VIX closes for --replay."
)
@click.option(
    "--seed", default=EVALUATION_SEED_BASE, show_default=True, type=click.IntRange(min=0), help="Env seed."
)
@click.option(
    "--days", type=click.IntRange(min=1), help="Trading days [default: the env's; a replay's whole window]."
)
@click.option("--out", type=click.Path(path_type=Path), help="Output folder [default: reports/simulate-...].")
@click.option("--force", is_flag=True, help="Write into a non-empty output folder (other files are kept).")
def simulate(
    agent_path: Path,
    env_path: Path | None,
    scenario: str | None,
    replay: str | None,
    index_csv: Path | None,
    vix_csv: Path | None,
    seed: int,
    days: int | None,
    out: Path | None,
    force: bool,
) -> None:
    """Run one agent on one market path; write a CSV trace of every bar and plots of the path, the
    book's Greeks and the equity."""
    if (scenario is None) == (replay is None):
        raise click.UsageError("give exactly one of --scenario or --replay")
    if (index_csv or vix_csv) and replay is None:
        raise click.UsageError("--index-csv and --vix-csv apply to --replay only")
    if scenario is not None:
        check_scenario_name(scenario, "--scenario")
    if replay is not None:
        check_replay_name(replay, "--replay")
    spec = ScenarioSpec(scenario=scenario, replay=replay, index_csv=index_csv, vix_csv=vix_csv)
    agent = AgentSpec.from_path(agent_path)
    config = env_config(env_path or default_config_path(), spec, days)
    label = spec.label.replace(":", "_to_")
    folder = out or fresh_folder(REPORTS_FOLDER / f"simulate-{agent.name}-{label}-{seed}")
    prepare_output(folder, force)
    compile_if_cold()
    result = rollout(load_policy(agent, config.book), config, (seed,), trace=True)
    assert result.trace is not None
    trace_path = write_table(result.trace, folder / TRACE_FILE)
    plots = plot_simulation(result.trace, folder)
    episode = result.episodes.iloc[0]
    click.echo(
        f"{agent.name} on {spec.label} (seed {seed}): {int(episode['steps'])} bars, "
        f"P&L {episode['pnl']:,.0f} USD, max drawdown {episode['max_drawdown']:.1%}, "
        f"theta capture {episode['theta_capture']:.2f}"
    )
    click.echo(f"trace: {trace_path}")
    click.echo(f"plots: {', '.join(str(p) for p in plots)}")
