"""``thetagym market-stats``: simulate the market and compare its stylized facts with published figures.

Prints a table (figure, simulated value, target, tolerance, within or not) or, with ``--json``, one
object keyed by figure name with ``value``, ``target``, ``tolerance``, ``within``, ``unit`` and
``label`` (strict JSON: a figure that cannot be computed is ``null``). Writes four plots
(matplotlib, Agg) to a new folder under ``reports/`` (or ``--plot-dir``) unless ``--no-plots``.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import click

from thetagym.cli.options import FiniteFloat, claim_output, force_option, seed_option
from thetagym.config import ConfigError
from thetagym.outputs import REPORTS_FOLDER, dumps_json
from thetagym.seeds import MAX_SEED

DEFAULT_PLOT_DIR = REPORTS_FOLDER / "market-stats"
MAX_PATHS = 100_000
MAX_YEARS = 100.0
MAX_PATH_YEARS = 20_000.0
"""Largest simulation: 20,000 path-years at 4 bars a day hold about 2 GB of market series."""


@click.command("market-stats")
@click.option("--scenario", default=None, help="Simulate one named scenario (calm, crash, ...).")
@click.option("--mix", default=None, help="Simulate a weighted scenario mix [default: calm-to-stressed].")
@click.option(
    "--paths", "n_paths", default=64, show_default=True, type=click.IntRange(1, MAX_PATHS), help="Paths."
)
@click.option(
    "--years",
    default=5.0,
    show_default=True,
    type=FiniteFloat(0.1, MAX_YEARS),
    help="Years per path (252 days).",
)
@seed_option(0, "Path i uses seed + i.")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MarketConfig YAML (e.g. configs/market/default.yaml).",
)
@click.option(
    "--scenarios",
    "scenarios_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Scenario and mix definitions YAML (e.g. configs/market/scenarios.yaml).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by figure name.")
@click.option(
    "--plot-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Folder for the plots (refused if not empty) [default: a new {DEFAULT_PLOT_DIR}-N].",
)
@force_option
@click.option("--no-plots", is_flag=True, help="Do not write plots.")
def market_stats(
    scenario: str | None,
    mix: str | None,
    n_paths: int,
    years: float,
    seed: int,
    config_path: Path | None,
    scenarios_path: Path | None,
    as_json: bool,
    plot_dir: Path | None,
    force: bool,
    no_plots: bool,
) -> None:
    """Simulate the market and print its stylized facts beside the published targets."""
    if scenario is not None and mix is not None:
        raise click.UsageError("give --scenario or --mix, not both")
    if n_paths * years > MAX_PATH_YEARS:
        raise click.BadParameter(
            f"{n_paths} paths x {years:g} years is {n_paths * years:,.0f} path-years, more than "
            f"{MAX_PATH_YEARS:,.0f}; use fewer paths or years",
            param_hint="--paths/--years",
        )
    if seed + n_paths - 1 > MAX_SEED:
        raise click.BadParameter(
            f"{seed}: the last path's seed {seed + n_paths - 1} exceeds {MAX_SEED}", param_hint="--seed"
        )
    folder = None if no_plots else claim_output(plot_dir, force, DEFAULT_PLOT_DIR)
    with folder if folder is not None else contextlib.nullcontext():
        import numpy as np
        from tqdm import tqdm

        from thetagym.config import load
        from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
        from thetagym.market.params import MarketConfig
        from thetagym.market.scenarios import DEFAULT_MIX, ScenarioBook, load_scenarios
        from thetagym.market.simulator import simulate, simulate_in_chunks
        from thetagym.market.stats import compare, stylized_facts

        config = load(MarketConfig, config_path) if config_path else MarketConfig()
        book = load_scenarios(scenarios_path) if scenarios_path else ScenarioBook.builtin()
        name = scenario or mix or DEFAULT_MIX
        if scenario is not None and scenario not in book.scenarios:
            book.weights(scenario)  # raises the did-you-mean error for unknown names
            raise ConfigError(f"{scenario!r} is a mix, not a scenario: use --mix {scenario}")
        if mix is not None and mix not in book.mixes:
            book.weights(mix)
            raise ConfigError(f"{mix!r} is a scenario, not a mix: use --scenario {mix}")
        n_days = max(round(years * TRADING_DAYS_PER_YEAR), 2)
        seeds = np.arange(seed, seed + n_paths)

        # Time a small batch; show a progress bar when the whole run should take more than a second.
        started = time.perf_counter()
        probe = simulate(config, name, n_days, seeds[:1], scenarios=book)
        estimate = (time.perf_counter() - started) * n_paths / 4.0
        if estimate > 1.0:
            with tqdm(total=n_paths, desc="simulating", unit="path", disable=None) as bar:
                path = simulate_in_chunks(config, name, n_days, seeds, scenarios=book, progress=bar.update)
        else:
            path = probe if n_paths == 1 else simulate(config, name, n_days, seeds, scenarios=book)
        table = compare(stylized_facts(path))

        if as_json:
            click.echo(dumps_json(table))
        else:
            click.echo(
                f"{name}: {n_paths} paths x {n_days} days ({n_paths * n_days / TRADING_DAYS_PER_YEAR:.0f} "
                f"path-years), {config.bars_per_day} bars a day, seed {seed}"
            )
            click.echo(_format_table(table))
            inside = sum(bool(row["within"]) for row in table.values())
            click.echo(f"{inside} of {len(table)} figures within tolerance")
        if folder is not None:
            written = write_plots(path, table, folder.staging)
    if folder is not None:
        click.echo(f"plots written to {folder.path}/: {', '.join(p.name for p in written)}", err=as_json)


def _format_table(table: dict[str, dict[str, object]]) -> str:
    lines = [f"{'figure':<24} {'simulated':>10} {'target':>8} {'tolerance':>10}  {'unit':<4} within"]
    for name, row in table.items():
        value = float(row["value"])  # type: ignore[arg-type]
        shown = "nan" if math.isnan(value) else f"{value:.2f}"
        lines.append(
            f"{name:<24} {shown:>10} {float(row['target']):>8.2f} "  # type: ignore[arg-type]
            f"{'±' + format(float(row['tolerance']), '.2f'):>10}  {row['unit']!s:<4} "  # type: ignore[arg-type]
            f"{'yes' if row['within'] else 'NO'}"
        )
    return "\n".join(lines)


def write_plots(path: object, table: dict[str, dict[str, object]], plot_dir: Path) -> list[Path]:
    """Into the existing folder ``plot_dir``: sample paths, return histogram, VIX distribution and a term-structure snapshot as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from thetagym.market.path import MarketPath
    from thetagym.market.stats import VIX_PERCENTILES, daily, daily_log_returns
    from thetagym.market.surface import atm_variance
    from thetagym.market.vix import vix_future_price

    assert isinstance(path, MarketPath)
    bpd = path.bars_per_day
    written: list[Path] = []
    days = np.arange(path.n_days + 1)

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    names = path.scenario_names
    for row in range(min(path.n_paths, 6)):
        label = names[path.scenario[row]]
        top.plot(days, daily(path.index, bpd)[row], lw=0.8, label=label)
        bottom.plot(days, daily(path.vix, bpd)[row], lw=0.8)
    top.set_ylabel("index")
    top.legend(fontsize=7, ncol=3)
    bottom.set_ylabel("VIX")
    bottom.set_xlabel("trading day")
    figure.suptitle("sample simulated paths")
    written.append(_save(figure, plot_dir / "paths.png"))

    returns = daily_log_returns(path).ravel()
    figure, axis = plt.subplots(figsize=(8, 5))
    sd = returns.std()
    bins = np.linspace(-8 * sd, 8 * sd, 161)
    axis.hist(returns, bins=bins.tolist(), density=True, alpha=0.6, label="simulated daily log returns")
    grid = np.linspace(bins[0], bins[-1], 400)
    axis.plot(grid, np.exp(-0.5 * (grid / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), label="normal, same sd")
    axis.set_yscale("log")
    axis.set_xlabel("daily log return")
    axis.legend()
    axis.set_title(
        f"skewness {float(table['return_skewness']['value']):.2f}, "  # type: ignore[arg-type]
        f"excess kurtosis {float(table['return_excess_kurtosis']['value']):.1f}"  # type: ignore[arg-type]
    )
    written.append(_save(figure, plot_dir / "returns.png"))

    vix = daily(path.vix, bpd)[:, 1:].ravel()
    figure, axis = plt.subplots(figsize=(8, 5))
    axis.hist(
        vix, bins=np.linspace(5, 90, 171).tolist(), density=True, alpha=0.6, label="simulated VIX closes"
    )
    for q in VIX_PERCENTILES:
        figure_row = table[f"vix_p{q:02d}"]
        axis.axvline(float(figure_row["target"]), color="black", lw=0.7, ls="--")  # type: ignore[arg-type]
        axis.axvline(float(figure_row["value"]), color="tab:red", lw=0.7)  # type: ignore[arg-type]
    axis.set_xlabel("VIX (dashed: 1990-2023 percentiles 1/5/25/50/75/95/99; red: simulated)")
    axis.legend()
    written.append(_save(figure, plot_dir / "vix_distribution.png"))

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    closes = np.arange(bpd, path.n_bars + 1, bpd)
    vix_close = path.vix[:, closes]
    median_at = np.unravel_index(np.argmin(np.abs(vix_close - np.median(vix_close))), vix_close.shape)
    calm = (int(median_at[0]), int(closes[median_at[1]]))
    highest_at = np.unravel_index(np.argmax(vix_close), vix_close.shape)
    stressed = (int(highest_at[0]), int(closes[highest_at[1]]))
    maturities = np.linspace(0.0, 0.75, 40)
    for label, (r, b) in (("median VIX day", calm), ("highest VIX day", stressed)):
        rows, bars = np.array([r]), np.array([b])
        futures = vix_future_price(path, rows, bars, maturities[None, :])[0]
        left.plot(maturities * 12, futures, label=f"{label} (VIX {path.vix[r, b]:.1f})")
        atm = np.sqrt(atm_variance(path.surface_at(rows, bars), np.maximum(maturities, 1 / 252)[None, :]))[0]
        right.plot(maturities * 12, 100 * atm, label=label)
    left.set_xlabel("months to expiry")
    left.set_ylabel("VIX future (points)")
    left.legend()
    right.set_xlabel("months to expiry")
    right.set_ylabel("ATM implied volatility (%)")
    right.legend()
    figure.suptitle("term structures: contango in calm, backwardation in stress")
    written.append(_save(figure, plot_dir / "term_structure.png"))
    return written


def _save(figure: object, target: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.savefig(target, dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(figure)  # type: ignore[arg-type]
    return target
