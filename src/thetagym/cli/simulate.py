"""``thetagym simulate``: one agent on one scenario and seed (or a historical replay), traced bar by bar."""

from __future__ import annotations

from pathlib import Path

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import agent_option, claim_output, force_option, out_option, seed_option
from thetagym.outputs import REPORTS_FOLDER
from thetagym.seeds import EVALUATION_SEED_BASE

TRACE_FILE = "trace.csv"


@click.command()
@agent_option
@click.option(
    "--env",
    "env_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Env (book) config [default: the default env].",
)
@click.option("--scenario", help="A simulated scenario or scenario mix (calm, crash, calm-to-stressed, ...).")
@click.option("--replay", help="A historical window: a name (covid_2020, gfc_2008, ...) or START:END dates.")
@click.option(
    "--index-csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Daily index closes for --replay.",
)
@click.option(
    "--vix-csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Daily VIX closes for --replay.",
)
@seed_option(EVALUATION_SEED_BASE, "Env seed.")
@click.option(
    "--days", type=click.IntRange(min=1), help="Trading days [default: the env's; a replay's whole window]."
)
@out_option
@force_option
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
    label = (scenario or str(replay)).replace(":", "_to_")
    default = REPORTS_FOLDER / f"simulate-{agent_path.stem}-{label}-{seed}"
    with claim_output(out, force, default) as folder:
        from thetagym.env.config import default_config_path
        from thetagym.evaluate.agents import load_policy
        from thetagym.evaluate.config import AgentSpec, ScenarioSpec, check_replay_name, check_scenario_name
        from thetagym.evaluate.outputs import write_table
        from thetagym.evaluate.rollout import env_config, rollout
        from thetagym.report import plot_simulation

        if scenario is not None:
            check_scenario_name(scenario, "--scenario")
        if replay is not None:
            check_replay_name(replay, "--replay")
        spec = ScenarioSpec(scenario=scenario, replay=replay, index_csv=index_csv, vix_csv=vix_csv)
        agent = AgentSpec.from_path(agent_path)
        config = env_config(env_path or default_config_path(), spec, days)
        policy = load_policy(agent, config.book)
        compile_if_cold(parallel=False)  # one env: its serial kernels only
        result = rollout(policy, config, (seed,), trace=True)
        assert result.trace is not None
        write_table(result.trace, folder.file(TRACE_FILE))
        plots = [folder.final(p.name) for p in plot_simulation(result.trace, folder.staging)]
    episode = result.episodes.iloc[0]
    click.echo(
        f"{agent.name} on {spec.label} (seed {seed}): {int(episode['steps'])} bars, "
        f"P&L {episode['pnl']:,.0f} USD, max drawdown {episode['max_drawdown']:.1%}, "
        f"theta capture {episode['theta_capture']:.2f}"
    )
    click.echo(f"trace: {folder.final(TRACE_FILE)}")
    click.echo(f"plots: {', '.join(str(p) for p in plots)}")
