"""The backtest report: figures of one long equity curve, and the self-contained page around them.

Equity (log scale, the benchmark rebased to the same capital) and drawdown from the peak over dated
axes, a heatmap of monthly returns, and tables of the figures and of calendar-year returns.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from thetagym.evaluate.backtest import Backtest
from thetagym.measures import TRACK_FIGURES
from thetagym.report.figures import report_style
from thetagym.report.html import figure_svg, html_document

AGENT_COLOUR = "#1f5fa8"
BENCHMARK_COLOUR = "#888888"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BACKTEST_FIGURE_IDS = ("equity", "monthly-returns")
FIGURE_LABELS = {
    "annualised_return": "Annualised return",
    "volatility": "Volatility (annualised)",
    "max_drawdown": "Max drawdown (from peak)",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "calmar": "Calmar ratio",
}
PERCENT_FIGURES = ("annualised_return", "volatility", "max_drawdown", "correlation", "tracking_error")


def equity_figure(backtest: Backtest) -> Figure:
    """Equity of ``backtest`` on a log scale (with the benchmark rebased to the starting capital)
    above the drawdown from the peak, both against dates."""
    daily = backtest.daily
    with report_style():
        figure = Figure(figsize=(9.6, 5.6), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.4))
        top.plot(daily["date"], daily["equity"], color=AGENT_COLOUR, linewidth=1.1, label=backtest.agent)
        if "benchmark" in daily.columns:
            rebased = backtest.capital * np.cumprod(1.0 + daily["benchmark_return"].to_numpy())
            top.plot(
                daily["date"], rebased, color=BENCHMARK_COLOUR, linewidth=0.9, label=backtest.benchmark_name
            )
            drawdown = 1.0 - rebased / np.maximum.accumulate(rebased)
            bottom.plot(daily["date"], -100 * drawdown, color=BENCHMARK_COLOUR, linewidth=0.8)
        top.set_yscale("log")
        top.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"${v / 1e6:,.2g}M"))
        top.yaxis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
        top.yaxis.set_minor_formatter(mpl.ticker.NullFormatter())
        top.set_ylabel("equity (USD, log scale)")
        top.legend(loc="upper left")
        bottom.fill_between(
            daily["date"], -100 * daily["drawdown"], 0.0, color=AGENT_COLOUR, alpha=0.35, linewidth=0
        )
        bottom.set_ylabel("drawdown from peak (%)")
        bottom.set_xlabel("date")
    return figure


def monthly_figure(backtest: Backtest) -> Figure:
    """Monthly returns of ``backtest`` as a heatmap (a row per year, a column per month), each cell
    labelled in percent."""
    table = backtest.monthly
    values = 100 * table.to_numpy(dtype=float)
    limit = float(np.nanpercentile(np.abs(values), 98)) if np.isfinite(values).any() else 1.0
    with report_style():
        figure = Figure(figsize=(9.6, 0.9 + 0.26 * len(table)), layout="constrained")
        axes = figure.add_subplot()
        axes.grid(False)
        image = axes.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
        for (row, column), value in np.ndenumerate(values):
            if np.isfinite(value):
                axes.text(column, row, f"{value:.1f}", ha="center", va="center", fontsize=7)
        axes.set_xticks(range(12), MONTH_NAMES)
        axes.set_yticks(range(len(table)), [str(year) for year in table.index])
        axes.tick_params(length=0)
        figure.colorbar(image, ax=axes, label="monthly return (%)", shrink=0.8)
    return figure


def render_backtest(backtest: Backtest, out_path: Path, metadata: dict[str, Any]) -> Path:
    """Write the page of ``backtest`` to ``out_path`` and return it; ``metadata`` (name -> value)
    is listed under the title."""
    title = f"thetagym backtest: {backtest.agent}, {backtest.start} to {backtest.end}"
    blocks = [
        f"<header><h1>{escape(title)}</h1>{_metadata(metadata)}</header>",
        _figures_table(backtest),
        _figure(
            "equity", equity_figure(backtest), "Equity at every close and its drawdown from the running peak."
        ),
        _figure(
            "monthly-returns",
            monthly_figure(backtest),
            f"Monthly returns of {escape(backtest.agent)} (%), compounded from daily returns on equity.",
        ),
        _yearly_table(backtest),
    ]
    out_path.write_text(html_document(title, "\n".join(blocks)), encoding="utf-8")
    return out_path


def format_figure(name: str, value: float) -> str:
    """The figure ``name`` of :func:`thetagym.measures.track_figures`, worth ``value``, as shown:
    percent or a plain ratio.

    >>> format_figure("volatility", 0.1234), format_figure("sharpe", 0.5432)
    ('12.3%', '0.54')
    """
    if not np.isfinite(value):
        return "–"
    if name in PERCENT_FIGURES:
        return f"{100 * value:.1f}%".replace("-0.0%", "0.0%")
    return f"{value:.2f}"


def _figures_table(backtest: Backtest) -> str:
    columns = ["agent"] + (["benchmark"] if "benchmark" in backtest.figures else [])
    names = {"agent": backtest.agent, "benchmark": backtest.benchmark_name or "benchmark"}
    header = "".join(f"<th>{escape(names[c])}</th>" for c in columns)
    rows = [
        f"<tr><th class='agent'>{FIGURE_LABELS[name]}</th>"
        + "".join(f"<td>{format_figure(name, backtest.figures[c][name])}</td>" for c in columns)
        + "</tr>"
        for name in TRACK_FIGURES
    ]
    for name, value in backtest.comparison.items():
        label = {
            "correlation": "Correlation of daily returns",
            "tracking_error": "Tracking error (annualised)",
        }
        rows.append(
            f"<tr><th class='agent'>{label[name]}</th><td colspan='2'>{format_figure(name, value)}</td></tr>"
        )
    note = (
        "Daily returns on the previous close's equity, compounded; Sharpe and Sortino in excess of the "
        "rate the book's cash earns. The benchmark is the file's closes as given (a price index "
        "excludes dividends)."
    )
    return (
        f'<section id="figures"><h2>Figures</h2><p>{note}</p><div class="table-wrap"><table>'
        f"<thead><tr><th></th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _yearly_table(backtest: Backtest) -> str:
    yearly = backtest.yearly
    has_benchmark = "benchmark_return" in yearly.columns
    head = (
        "<th>year</th><th>return</th>"
        + ("<th>benchmark</th>" if has_benchmark else "")
        + "<th>max drawdown</th>"
    )
    rows = []
    for record in yearly.to_dict("records"):
        cells = [escape(str(record["year"])), format_figure("annualised_return", record["return"])]
        if has_benchmark:
            cells.append(format_figure("annualised_return", record["benchmark_return"]))
        cells.append(format_figure("max_drawdown", record["max_drawdown"]))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        '<section id="yearly"><h2>Calendar years</h2><div class="table-wrap"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _figure(figure_id: str, figure: Figure, caption: str) -> str:
    return f'<figure id="{figure_id}">\n{figure_svg(figure, figure_id)}\n<figcaption>{caption}</figcaption>\n</figure>'


def _metadata(metadata: dict[str, Any]) -> str:
    items = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in metadata.items())
    return f'<dl class="meta">{items}</dl>'
