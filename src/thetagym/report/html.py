"""The self-contained ``report.html`` of an evaluation.

One file, no external resources: figures are inline SVG (text kept as text, ids prefixed per figure
so several SVGs can share the page), CSS is inline, there is no script. The markup is also
well-formed XML, so it can be checked with :mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from thetagym import __version__
from thetagym.evaluate.bootstrap import summary_measures
from thetagym.measures import SUMMARY_FIELDS
from thetagym.report import figures

MEASURE_ORDER = (
    *(field for field in SUMMARY_FIELDS if field not in ("steps", "margin_call", "reward")),
    "cvar_5",
)
"""Display order of the known measures: the episode summary's, then CVaR; any other measure
follows, alphabetically."""

FIGURE_IDS = ("theta-vs-drawdown", "equity-drawdown", "gross-contracts", "attribution")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem; font-size: 0.9rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
figure { margin: 2rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #444; max-width: 60rem; }
.missing { color: #a33; font-style: italic; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.82rem; }
th, td { padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th.agent, td.agent { text-align: left; }
tr.group th { text-align: left; background: #eee; }
.ci { color: #666; font-size: 0.75rem; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; border-radius: 2px; }
"""


def render_report(
    summary_table: pd.DataFrame,
    episodes: pd.DataFrame,
    traces: Mapping[str, pd.DataFrame],
    out_path: Path,
    title: str,
    metadata: Mapping[str, Any],
) -> Path:
    """Write the evaluation report to ``out_path`` and return it.

    ``summary_table`` is :func:`thetagym.evaluate.summary_table` (a row per agent and scenario,
    ``<measure>_mean/_low/_high[/_n]`` columns); ``episodes`` has a row per episode and optional
    ``attr_<layer>_<component>`` columns; ``traces[agent]`` is that agent's bar-by-bar trace on the
    representative path (``bar, equity, drawdown, gross_contracts, pnl_<layer>_<component>``).
    ``metadata`` is shown in the header; ``confidence`` and ``representative_path`` are also used
    in the text, and ``date`` and ``package version`` are filled in when absent. Figures whose data
    is missing are replaced by a note, never an error.
    """
    if "agent" not in summary_table.columns:
        raise ValueError(f"summary table needs an 'agent' column; it has {list(summary_table.columns)}")
    agents = [*summary_table["agent"], *traces]
    if "agent" in episodes.columns:
        agents += list(episodes["agent"])
    colours = figures.agent_colours(map(str, agents))
    summary_table = summary_table.assign(agent=summary_table["agent"].astype(str))
    metadata = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "package version": f"thetagym {__version__}",
        **metadata,
    }
    confidence = float(metadata.get("confidence", 0.95))
    path_name = escape(str(metadata.get("representative_path", "the representative path")))
    interval = f"{confidence:.0%} bootstrap interval"
    blocks = [
        _figure_block(
            "theta-vs-drawdown",
            figures.theta_vs_drawdown(summary_table, colours),
            f"Theta capture against max drawdown, one point per agent (colour) and scenario (marker); "
            f"whiskers are the {interval} of each mean over episodes. Up and to the left is better.",
        ),
        _figure_block(
            "equity-drawdown",
            figures.equity_and_drawdown(traces, colours),
            f"Equity and drawdown of every agent on {path_name}: all agents saw the same market.",
        ),
        _figure_block(
            "gross-contracts",
            figures.gross_contracts(traces, colours),
            f"Gross contracts over time on {path_name}. A staircase that keeps climbing is the "
            "rebalancing spiral; rolling keeps the line flat.",
        ),
        _figure_block(
            "attribution",
            figures.attribution(figures.attribution_table(episodes, traces), colours),
            "P&amp;L attribution per layer (panels) and agent (bars), stacked by component: gains above "
            "zero, losses below, the dot is the net. Mean per episode for each scenario when the "
            f"episodes table has attribution columns, else summed over {path_name}.",
        ),
    ]
    body = "\n".join(
        [
            f"<header><h1>{escape(title)}</h1>{_metadata_block(metadata)}</header>",
            _how_to_read(interval),
            *blocks,
            _measure_table(summary_table, colours, interval),
        ]
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(_document(title, body), encoding="utf-8")
    return out_path


def figure_svg(figure: Figure, prefix: str) -> str:
    """``figure`` as an inline ``<svg>`` element: no prolog, no metadata, ids prefixed with ``prefix``.

    Output is deterministic (fixed hash salt), and text stays ``<text>`` so the SVG stays small.
    """
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "thetagym", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)


def format_number(value: Any) -> str:
    """Compact display of a measure: thousands separators for large values, 3 digits for small.

    >>> [format_number(x) for x in (12345.6, 12.345, 0.012345, 0.0, float("nan"))]
    ['12,346', '12.35', '0.0123', '0', '–']
    """
    number = float(value)
    if not math.isfinite(number):
        return "–"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:.2f}"
    return f"{number:.3g}"


def ordered_measures(summary_table: pd.DataFrame) -> list[str]:
    """The table's measures: known ones in :data:`MEASURE_ORDER`, then the rest alphabetically."""
    present = summary_measures(summary_table)
    known = [m for m in MEASURE_ORDER if m in present]
    return known + sorted(set(present) - set(known))


def _figure_block(figure_id: str, figure: Figure | None, caption: str) -> str:
    content = (
        figure_svg(figure, figure_id)
        if figure is not None
        else '<p class="missing">No data for this figure in the evaluation output.</p>'
    )
    return f'<figure id="{figure_id}">\n{content}\n<figcaption>{caption}</figcaption>\n</figure>'


def _measure_table(summary_table: pd.DataFrame, colours: Mapping[str, str], interval: str) -> str:
    """Every measure as ``mean [low, high]``, agents as rows, a group of rows per scenario."""
    measures = ordered_measures(summary_table)
    n_columns = [f"{m}_n" for m in measures if f"{m}_n" in summary_table.columns]
    header = "".join(f"<th>{escape(m)}</th>" for m in measures)
    header = f'<tr><th class="agent">agent</th>{"<th>episodes</th>" if n_columns else ""}{header}</tr>'
    groups = (
        summary_table.groupby("scenario", sort=False)
        if "scenario" in summary_table.columns
        else [("", summary_table)]
    )
    bodies = []
    for scenario, rows in groups:
        lines = [
            f'<tr class="group"><th colspan="{len(measures) + 1 + bool(n_columns)}">{escape(str(scenario))}</th></tr>'
        ]
        for _, row in rows.iterrows():
            cells = "".join(
                f'<td>{format_number(row[f"{m}_mean"])} <span class="ci">[{format_number(row[f"{m}_low"])}, '
                f"{format_number(row[f'{m}_high'])}]</span></td>"
                for m in measures
            )
            episodes = f"<td>{int(row[n_columns].max())}</td>" if n_columns else ""
            swatch = f'<span class="swatch" style="background: {colours[row["agent"]]}"></span>'
            lines.append(f'<tr><td class="agent">{swatch}{escape(row["agent"])}</td>{episodes}{cells}</tr>')
        bodies.append("<tbody>" + "\n".join(lines) + "</tbody>")
    return (
        '<section id="measures"><h2>Measures</h2>'
        f"<p>Mean over episodes with its {interval} in brackets.</p>"
        f'<div class="table-wrap"><table id="measures-table"><thead>{header}</thead>\n'
        + "\n".join(bodies)
        + "</table></div></section>"
    )


def _metadata_block(metadata: Mapping[str, Any]) -> str:
    """A definition list of the metadata; nested values (a config) shown as indented JSON."""
    items = []
    for key, value in metadata.items():
        if isinstance(value, Mapping | list | tuple):
            shown = f"<pre>{escape(json.dumps(value, indent=2, default=str))}</pre>"
        else:
            shown = escape(str(value))
        items.append(f"<dt>{escape(str(key))}</dt><dd>{shown}</dd>")
    return f'<dl class="meta">{"".join(items)}</dl>'


def _how_to_read(interval: str) -> str:
    return (
        '<section id="how-to-read"><h2>How to read this</h2><p>'
        "Every agent ran on the same market paths. <em>Theta capture</em> is net P&amp;L over the theta "
        "the book accrued: 1 means the book kept all the decay it was positioned to earn, 0 that delta, "
        "gamma, vega, costs and assignments ate all of it, below 0 that they cost more than it. "
        "<em>Max drawdown</em> is the largest peak-to-trough fall of equity as a fraction of starting "
        f"capital. Brackets and whiskers are the {interval} of the mean over episodes; overlapping "
        "intervals mean the data cannot tell the agents apart on that measure. A <em>spiral index</em> "
        "above 1 means the book ended up larger than it started: size was added instead of rolled."
        "</p></section>"
    )


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
