"""``thetagym evaluate`` and ``thetagym compare``: agents on common market paths, with a report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import F, claim_output, engine_options, force_option, out_option
from thetagym.config import ConfigError, read_yaml
from thetagym.engines import check_engine
from thetagym.outputs import REPORTS_FOLDER, dumps_json

DEFAULT_COMPARISON = Path("configs/evaluate/default.yaml")


def project_root() -> Path:
    """The folder holding ``configs/``: the working directory if it has one, else the checkout
    the package is installed from."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (candidate / "configs").is_dir():
            return candidate
    return Path.cwd()


def _run(
    config_path: Path,
    out: Path | None,
    workers: int | None,
    as_json: bool,
    force: bool,
    compare: bool,
    engine: str = "local",
    address: str | None = None,
) -> None:
    check_engine(engine, address)
    declared = read_yaml(config_path).get("out")
    if out is None and isinstance(declared, str):
        out = Path(declared)
    default = REPORTS_FOLDER / ("compare" if compare else f"evaluate-{config_path.stem}")
    with claim_output(out, force, default) as folder:
        from thetagym.evaluate.agents import check_trained_agents, with_builtin_agents
        from thetagym.evaluate.config import load_evaluation_config
        from thetagym.evaluate.leaderboard import leaderboard_text
        from thetagym.evaluate.outputs import REPORT_FILE, summary_json, write_evaluation
        from thetagym.evaluate.runner import evaluate as run_evaluation

        config = load_evaluation_config(config_path)
        check_trained_agents(config)
        if compare:
            config, skipped = with_builtin_agents(config, project_root())
            for note in skipped:
                click.echo(note, err=True)
        compile_if_cold()
        started = time.perf_counter()
        result = run_evaluation(config, workers=workers, progress=True, engine=engine, address=address)
        elapsed = time.perf_counter() - started
        title = "thetagym comparison" if compare else f"thetagym evaluation: {config_path.stem}"
        metadata = {"config": str(config_path), "run time": f"{elapsed:.0f} s"}
        write_evaluation(result, config, folder.staging, title, metadata)
    report = folder.final(REPORT_FILE)
    if as_json:
        click.echo(dumps_json({"report": str(report), "summary": summary_json(result)}))
        return
    boards = list(result.leaderboards.values())
    for board in boards[:1]:
        click.echo(leaderboard_text(board))
    if len(boards) > 1:
        click.echo("\nPer scenario:")
        for board in boards[1:]:
            click.echo(_scenario_line(board))
    click.echo(f"\n{len(result.episodes)} episodes in {elapsed:.1f} s; report: {report}")


def _scenario_line(board: Any) -> str:
    """One line per scenario: who leads, and whether the paired interval makes it a win."""
    from thetagym.evaluate.leaderboard import BEHIND
    from thetagym.measures import measure_label

    label = measure_label(board.headline)
    leader = board.table.iloc[0]
    tied = [str(a) for a in board.table.loc[board.table["standing"] != BEHIND, "agent"].iloc[1:]]
    verdict = "wins" if board.winner is not None else f"ties with {', '.join(tied)}"
    value = label.format(leader[f"{board.headline}_mean"])
    return f"  {board.scenario:<18} {leader['agent']} {verdict} ({label.name} {value})"


_workers = click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes [default: all cores]."
)
_json = click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")


def _run_options(command: F) -> F:
    """The options ``evaluate`` and ``compare`` share: --out, --workers, --engine, --address,
    --json, --force."""
    for option in (force_option, _json, engine_options, _workers, out_option):
        command = option(command)
    return command


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_run_options
def evaluate(
    config: Path,
    out: Path | None,
    workers: int | None,
    engine: str,
    address: str | None,
    as_json: bool,
    force: bool,
) -> None:
    """Run the agents of the evaluation CONFIG on common market paths and write a report."""
    _run(config, out, workers, as_json, force, compare=False, engine=engine, address=address)


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"Comparison config [default: {DEFAULT_COMPARISON}].",
)
@_run_options
def compare(
    config_path: Path | None,
    out: Path | None,
    workers: int | None,
    engine: str,
    address: str | None,
    as_json: bool,
    force: bool,
) -> None:
    """Compare every rule agent (and any trained agent in agents/) on the built-in scenarios."""
    path = config_path or project_root() / DEFAULT_COMPARISON
    if not path.is_file():
        raise ConfigError(
            f"{path}: comparison config not found; run from the project folder or pass --config"
        )
    _run(path, out, workers, as_json, force, compare=True, engine=engine, address=address)
