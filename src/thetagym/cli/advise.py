"""``thetagym advise``: today's positions and market in, the agent's guard-checked actions and a
risk report out."""

from __future__ import annotations

from pathlib import Path

import click

from thetagym.cli.options import agent_option

ADVICE_JSON = "advice.json"
ADVICE_HTML = "advice.html"


@click.command()
@click.option(
    "--book",
    "book_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Positions CSV: instrument, expiry, strike, quantity, average_price[, layer].",
)
@click.option(
    "--market",
    "market_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Market snapshot CSV: date, time, index or es, vix, vix3m, rate.",
)
@agent_option
@click.option(
    "--env",
    "env_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Env (book) config whose layers hold the positions [default: the default env].",
)
@click.option(
    "--quotes",
    "quotes_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Option quotes CSV (expiry, strike, right, iv or bid and ask) that calibrate the surface.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Output folder [default: reports/advise-...].")
@click.option("--force", is_flag=True, help="Write into a non-empty output folder (other files are kept).")
@click.option("--json", "as_json", is_flag=True, help="Print the advice as one JSON object.")
def advise(
    book_path: Path,
    market_path: Path,
    agent_path: Path,
    env_path: Path | None,
    quotes_path: Path | None,
    out: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Map the positions to the book's layers; report Greeks, margin, stress losses and the
    agent's action per layer with the guard's verdict, and the book after it."""
    from thetagym.cli.options import claim_output
    from thetagym.outputs import REPORTS_FOLDER

    with claim_output(out, force, REPORTS_FOLDER / f"advise-{agent_path.stem}") as folder:
        from thetagym.advise import Advisor, CsvBroker
        from thetagym.advise.render import advice_json, html_report, terminal_report
        from thetagym.cli.kernels import compile_if_cold
        from thetagym.env.config import default_config_path, load_env_config
        from thetagym.evaluate.agents import load_policy
        from thetagym.evaluate.config import AgentSpec

        config_path = env_path or default_config_path()
        config = load_env_config(config_path)
        agent = AgentSpec.from_path(agent_path)
        compile_if_cold()
        advisor = Advisor(config, load_policy(agent, config.book), agent.name, str(config_path))
        advice = advisor.advise(CsvBroker(book_path, market_path, quotes_path))
        text = advice_json(advice)
        folder.file(ADVICE_JSON).write_text(text + "\n", encoding="utf-8")
        folder.file(ADVICE_HTML).write_text(html_report(advice), encoding="utf-8")
    if as_json:
        click.echo(text)
        return
    click.echo(terminal_report(advice))
    click.echo(f"\nreport: {folder.path / ADVICE_HTML}")
