"""The self-contained ``report.html`` of an evaluation, answer first.

Order: who wins (a leaderboard per scenario, pooled first, with the sentence that says it), the
risk-return picture, the spiral, P&L attribution, equity on a common path, then every measure in
grouped tables, how to read it and the run's details. A winner is named only where the
leaderboard's paired intervals make it one (:class:`thetagym.evaluate.leaderboard.Leaderboard`);
otherwise the report says it is a tie.

One file, no external resources: figures are inline SVG (text kept as text, ids prefixed per figure
so several SVGs can share the page), CSS is inline, there is no script. The markup is also
well-formed XML, so it can be checked with :mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from thetagym import __version__
from thetagym.evaluate.bootstrap import summary_measures
from thetagym.evaluate.leaderboard import BASELINE, BEHIND, WINNER, Leaderboard
from thetagym.evaluate.summary import POOLED, without_attribution
from thetagym.measures import MeasureLabel, measure_label
from thetagym.report import figures

if TYPE_CHECKING:
    from thetagym.evaluate.runner import EvaluationResult

FIGURE_IDS = ("risk-return", "risk-return-scenarios", "spiral", "attribution", "equity-drawdown")
"""Ids of the report's figures, in page order."""
GUARD_OFF_NOTE = "guard off, demonstration"
"""Shown after the name of every agent that ran with the guard off."""
LEADERBOARD_CONTEXT = ("pnl", "premium_sold", "volatility", "cvar_5", "matched_max_drawdown")
"""Money, book size and risk shown beside the headline in the leaderboard."""
RISK_MEASURE = "volatility"
"""The x axis of the risk-return picture."""
MEASURE_GROUPS = (
    ("Risk-adjusted return", ("sharpe", "sortino", "risk_matched_return", "matched_max_drawdown", "calmar")),
    (
        "Money and book size",
        ("pnl", "total_return", "annualised_return", "premium_sold", "theta_accrued", "theta_capture"),
    ),
    ("Risk", ("volatility", "cvar_5", "max_drawdown", "margin_peak", "margin_call")),
    (
        "Activity and the guard",
        ("spiral_index", "rolls", "assignments", "counter_trades", "blocked", "adds_blocked"),
    ),
)
"""The measures tables: a table per group, its measures in column order; other measures go to a
last group, alphabetically."""
HIDDEN_MEASURES = ("steps", "reward")
"""Not shown: the episode length is in the metadata, the reward is the training signal."""
FOREST_WIDTH, FOREST_HEIGHT = 150, 18

CSS = """
:root { --ink: #1f2328; --muted: #5b636e; --rule: #d8dde3; --soft: #f4f6f8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 76rem; padding: 1.2rem 1.2rem 3rem; color: var(--ink); line-height: 1.45; }
h1 { margin: 0 0 0.2rem; font-size: 1.6rem; }
h2 { margin: 2.4rem 0 0.6rem; font-size: 1.3rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.2rem; }
h3 { margin: 1.6rem 0 0.4rem; font-size: 1.05rem; }
p { max-width: 62rem; }
.subtitle { color: var(--muted); margin: 0 0 0.6rem; }
nav { font-size: 0.9rem; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin: 0.4rem 0 0; }
nav a { color: #0b5cad; text-decoration: none; }
.answer { font-size: 1.15rem; background: var(--soft); border-left: 4px solid #0b5cad;
          padding: 0.7rem 1rem; margin: 0.8rem 0; max-width: none; }
.answer.win { border-left-color: #1a7f37; }
.by-scenario { margin: 0.2rem 0 1rem; padding-left: 1.2rem; }
.by-scenario a { color: inherit; }
.verdict { margin: 0.2rem 0 0.5rem; }
.table-wrap { overflow-x: auto; margin: 0.4rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.86rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.35rem 0.55rem; border-bottom: 1px solid var(--rule); text-align: right; vertical-align: top; }
thead th { font-weight: 600; vertical-align: bottom; border-bottom: 2px solid var(--rule); }
th .unit { display: block; font-weight: 400; color: var(--muted); font-size: 0.75rem; }
th.agent, td.agent { text-align: left; }
td.agent { white-space: nowrap; }
td.rank { color: var(--muted); }
tr.group th { text-align: left; background: var(--soft); font-weight: 600; }
tr.group th .unit { display: inline; margin-left: 0.5rem; }
.ci { display: block; color: var(--muted); font-size: 0.74rem; white-space: nowrap; }
.value { white-space: nowrap; }
table.leaderboard td.headline .value { font-weight: 600; font-size: 0.95rem; }
table.leaderboard tr.winner td { background: #eef8f0; }
tr.guard-off td { background: #fbf6ea; }
.demo { display: block; font-size: 0.74rem; color: #8a5a00; font-style: italic; }
.swatch { display: inline-block; width: 0.75em; height: 0.75em; margin-right: 0.4em; border-radius: 2px;
          vertical-align: baseline; }
.badge { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 0.6rem; font-size: 0.75rem;
         font-weight: 600; white-space: nowrap; background: #e8ebef; color: #3d444d; }
.badge.winner, .badge.better { background: #d3f0da; color: #135c27; }
.badge.worse { background: #fbdcdc; color: #8c1d1d; }
.badge.tied, .badge.tie { background: #fff1c2; color: #6b4e00; }
.badge.baseline { background: #dde8f6; color: #0b4a8b; }
td.forest svg { display: block; }
td.agent .name { font-weight: 500; }
td.agent .below { display: block; margin-top: 0.15rem; }
table.leaderboard { width: 100%; }
table caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
.block { margin: 0.8rem 0 1.2rem; }
.block h3 .unit, .block summary .unit { font-weight: 400; color: var(--muted); font-size: 0.85rem; margin-left: 0.6rem; }
details.block summary { cursor: pointer; font-weight: 600; font-size: 1.05rem; padding: 0.4rem 0;
                        border-top: 1px solid var(--rule); }
figure { margin: 1rem 0 2rem; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9rem; color: #3d444d; max-width: 62rem; margin-top: 0.3rem; }
.missing { color: #a33; font-style: italic; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; font-size: 0.88rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
dl.glossary dt { font-weight: 600; margin-top: 0.5rem; }
dl.glossary dd { margin: 0 0 0 1rem; max-width: 60rem; }
pre { background: var(--soft); padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
@media (max-width: 900px) {
  body { padding: 0.8rem 0.6rem 2rem; }
  .answer { font-size: 1.02rem; }
  table { font-size: 0.8rem; }
  th, td { padding: 0.3rem 0.35rem; }
  td.forest, th.forest { display: none; }
  td.agent { white-space: normal; min-width: 8.5rem; }
  .ci { font-size: 0.68rem; }
}
"""


def render_report(
    result: EvaluationResult,
    out_path: Path,
    title: str,
    metadata: Mapping[str, Any],
) -> Path:
    """Write the report of ``result`` (an :class:`~thetagym.evaluate.runner.EvaluationResult`) to
    ``out_path`` under the heading ``title``, and return it.

    Reads the result's ``leaderboards``, ``summary``, ``episodes``, ``traces``, ``spiral_traces``,
    ``guard_off``, ``headline``, ``baseline`` and path captions. ``metadata`` is listed under the
    run's details; ``confidence`` sets the interval wording, and ``date`` and ``package version``
    are filled in when absent. Figures whose data is missing are replaced by a note, never an error.
    """
    summary = without_attribution(result.summary)
    if len(summary.columns) and "agent" not in summary.columns:
        raise ValueError(f"summary table needs an 'agent' column; it has {list(summary.columns)}")
    summary = summary.assign(agent=summary["agent"].astype(str)) if "agent" in summary.columns else summary
    episodes = result.episodes
    agents = [
        *(episodes["agent"].astype(str) if "agent" in episodes.columns else []),
        *(summary["agent"] if "agent" in summary.columns else []),
        *result.traces,
        *result.spiral_traces,
    ]
    colours = figures.agent_colours(agents)
    labels = {agent: agent_label(agent, result.guard_off) for agent in colours}
    metadata = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "package version": f"thetagym {__version__}",
        **metadata,
    }
    confidence = float(metadata.get("confidence", 0.95))
    page = _Page(result, summary, colours, labels, confidence)
    body = "\n".join(
        [
            _header(title, result, metadata, confidence),
            page.leaderboard(),
            *page.figures(),
            page.measures(),
            _how_to_read(result.headline, result.baseline, confidence),
            f'<section id="run-details"><h2>Run details</h2>{_metadata_block(metadata)}</section>',
        ]
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html_document(title, body), encoding="utf-8")
    return out_path


def agent_label(agent: str, guard_off: Sequence[str]) -> str:
    """The name of ``agent`` as shown: with :data:`GUARD_OFF_NOTE` when it is among ``guard_off``,
    the agents run with the guard off.

    >>> agent_label("naive", ["naive"]), agent_label("roll", ["naive"])
    ('naive (guard off, demonstration)', 'roll')
    """
    return f"{agent} ({GUARD_OFF_NOTE})" if agent in guard_off else agent


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


def measure_groups(summary: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """The measures of ``summary`` in :data:`MEASURE_GROUPS` (empty groups dropped), then an
    ``Other`` group of any other measure, alphabetically; :data:`HIDDEN_MEASURES` left out."""
    present = [m for m in summary_measures(summary) if m not in HIDDEN_MEASURES]
    groups = [(name, [m for m in members if m in present]) for name, members in MEASURE_GROUPS]
    grouped = {m for _, members in groups for m in members}
    groups.append(("Other", sorted(m for m in present if m not in grouped)))
    return [(name, members) for name, members in groups if members]


def verdict(board: Leaderboard, where: str, confidence: float) -> str:
    """The sentence (HTML) that says who wins ``board``, or that it is a tie and between whom;
    ``where`` says which scenarios it covers ("pooled over calm and crash (equal weight)", "in crash").

    A winner is named only when the board marks one: every other agent's paired difference
    against the leader lies below zero at ``confidence``.
    """
    name = escape(measure_label(board.headline).name)
    table = board.table.sort_values("rank", kind="stable")
    if board.winner is not None:
        others = len(table) - 1
        reason = (
            f"every other agent's paired difference against it is below zero with {confidence:.0%} confidence"
            if others
            else "it is the only agent"
        )
        return f"<strong>{escape(board.winner)} wins</strong> on {name} {where}: {reason}."
    tied = [str(a) for a in table.loc[table["standing"] != BEHIND, "agent"]]
    leader, rest = tied[0], tied[1:]
    return (
        f"<strong>No winner: a tie</strong> on {name} {where}. {escape(leader)} has the highest mean, "
        f"but the {confidence:.0%} paired interval of its difference with {_and(rest)} includes zero, "
        f"so {'they tie' if len(rest) > 1 else 'the two tie'} for first."
    )


def short_verdict(board: Leaderboard) -> str:
    """Who wins ``board`` in a few words (HTML): ``x wins`` or ``no winner: x and y tie for first``."""
    if board.winner is not None:
        return f"<strong>{escape(board.winner)} wins</strong>"
    table = board.table.sort_values("rank", kind="stable")
    tied = [str(a) for a in table.loc[table["standing"] != BEHIND, "agent"]]
    return f"<strong>no winner</strong>: {_and(tied)} tie for first"


class _Page:
    """The report's sections for one result: shared colours, labels and rank orders."""

    def __init__(
        self,
        result: EvaluationResult,
        summary: pd.DataFrame,
        colours: dict[str, str],
        labels: dict[str, str],
        confidence: float,
    ) -> None:
        self.result = result
        self.summary = summary
        self.colours = colours
        self.labels = labels
        self.confidence = confidence
        self.interval = f"{confidence:.0%} bootstrap interval"
        self.boards = {str(k): v for k, v in result.leaderboards.items()}
        first = next(iter(self.boards), None)
        self.order = self.rank_order(first) if first is not None else list(colours)

    def rank_order(self, scenario: str) -> list[str]:
        """Agents of ``scenario`` best first by its leaderboard, then any others in colour order."""
        board = self.boards.get(scenario)
        ranked = (
            [str(a) for a in board.table.sort_values("rank", kind="stable")["agent"]]
            if board is not None
            else []
        )
        return ranked + [a for a in self.colours if a not in ranked]

    def agent_cell(self, agent: str, badge: str = "") -> str:
        """The agent's swatch and name, its guard-off note and ``badge`` on lines below."""
        note = f'<span class="demo">({GUARD_OFF_NOTE})</span>' if agent in self.result.guard_off else ""
        swatch = f'<span class="swatch" style="background: {self.colours.get(agent, "#999999")}"></span>'
        below = f'<span class="below">{badge}</span>' if badge else ""
        name = re.sub(r"([_-])", r"\1<wbr/>", escape(agent))
        return f'<td class="agent">{swatch}<span class="name">{name}</span>{note}{below}</td>'

    # -- who wins ---------------------------------------------------------------------------------

    def leaderboard(self) -> str:
        heading = escape(measure_label(self.result.headline).heading)
        if not self.boards:
            return (
                f'<section id="leaderboard"><h2>Who wins: {heading}</h2>'
                '<p class="missing">No leaderboard in the evaluation output.</p></section>'
            )
        scenarios = [s for s in self.boards if s != POOLED]
        first_name, first = next(iter(self.boards.items()))
        where = self.where(first_name, scenarios)
        win = " win" if first.winner is not None else ""
        parts = [
            f'<section id="leaderboard"><h2>Who wins: {heading}</h2>',
            f'<p class="answer{win}" id="answer">{verdict(first, where, self.confidence)}</p>',
        ]
        if first_name == POOLED and scenarios:
            items = "".join(
                f'<li><a href="#leaderboard-{_slug(s)}">{escape(s)}</a>: {short_verdict(self.boards[s])}</li>'
                for s in scenarios
            )
            parts.append(f'<ul class="by-scenario">{items}</ul>')
        parts.append(
            f"<p>Agents ranked by {escape(measure_label(self.result.headline).name)} "
            f"{'pooled over the scenarios' if first_name == POOLED else 'in ' + escape(first_name)}, "
            f"with its {self.interval}. <em>Standing</em> compares each agent with the leader on the same "
            f"market paths; <em>vs {escape(self.result.baseline or 'baseline')}</em> is the paired "
            "difference against the baseline, path by path. P&amp;L and premium sold show the book's size.</p>"
        )
        parts.append(self.board_table(first, f"leaderboard-{_slug(first_name)}"))
        if first_name == POOLED and scenarios:
            for scenario in scenarios:
                board = self.boards[scenario]
                parts.append(
                    f'<h3 class="scenario">In {escape(scenario)}</h3>'
                    f'<p class="verdict">{verdict(board, self.where(scenario, scenarios), self.confidence)}</p>'
                )
                parts.append(self.board_table(board, f"leaderboard-{_slug(scenario)}"))
        parts.append("</section>")
        return "\n".join(parts)

    def where(self, scenario: str, scenarios: Sequence[str]) -> str:
        if scenario == POOLED:
            return f"pooled over {_and(scenarios)} (equal weight)"
        return f"in {escape(scenario)}"

    def board_table(self, board: Leaderboard, table_id: str) -> str:
        """A leaderboard as a table: rank order, standing and baseline badges, an interval strip."""
        headline = board.headline
        label = measure_label(headline)
        table = board.table.sort_values("rank", kind="stable")
        context = [m for m in LEADERBOARD_CONTEXT if f"{m}_mean" in table.columns]
        scale = figures.robust_limits(
            table[f"{headline}_mean"].to_numpy(dtype=float),
            table[f"{headline}_low"].to_numpy(dtype=float),
            table[f"{headline}_high"].to_numpy(dtype=float),
            pad=0.04,
        )
        scale = (min(scale[0], 0.0), max(scale[1], 0.0))
        head = (
            '<tr><th>#</th><th class="agent">agent<span class="unit">standing against the leader</span></th>'
            f'<th>{escape(label.name)}<span class="unit">{escape(label.unit)} · {self.confidence:.0%} interval</span></th>'
            f'<th class="forest">interval<span class="unit">0 marked</span></th>'
            f'<th>vs {escape(board.baseline)}<span class="unit">paired difference</span></th>'
            + "".join(_heading(m) for m in context)
            + "</tr>"
        )
        rows = []
        for record in table.to_dict("records"):
            agent = str(record["agent"])
            standing = str(record["standing"])
            mean, low, high = (float(record[f"{headline}_{f}"]) for f in ("mean", "low", "high"))
            classes = " ".join(
                c for c in (standing, "guard-off" if agent in self.result.guard_off else "") if c
            )
            rows.append(
                f'<tr class="{classes}" data-agent="{escape(agent)}">'
                f'<td class="rank">{int(record["rank"])}</td>'
                + self.agent_cell(
                    agent, f'<span class="badge standing {standing}">{_standing_text(standing)}</span>'
                )
                + f'<td class="headline">{_value_cell(label.format(mean), label.format(low), label.format(high))}</td>'
                f'<td class="forest">{_forest(mean, low, high, scale, self.colours.get(agent, "#999999"))}</td>'
                f"<td>{_baseline_cell(record, label)}</td>"
                + "".join(
                    f'<td><span class="value">{measure_label(m).format(float(record[f"{m}_mean"]))}</span></td>'
                    for m in context
                )
                + "</tr>"
            )
        return (
            f'<div class="table-wrap"><table class="leaderboard" id="{table_id}">'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    # -- figures ----------------------------------------------------------------------------------

    def figures(self) -> list[str]:
        result = self.result
        y, x = result.headline, RISK_MEASURE
        y_label, x_label = measure_label(y).heading, measure_label(x).heading
        scenarios = [
            s for s in dict.fromkeys(self.summary.get("scenario", pd.Series(dtype=str))) if s != POOLED
        ]
        spiral_traces = result.spiral_traces or result.traces
        spiral_path = result.spiral_path if result.spiral_traces else result.representative_path
        guard_off = [a for a in result.guard_off if a in spiral_traces]
        table = figures.attribution_table(result.episodes, result.traces)
        _, dropped = figures.attribution_layers(table) if not table.empty else ([], [])
        dropped_note = (
            f" Layers with no P&amp;L are left out: {escape(', '.join(d.replace('_', ' ') for d in dropped))}."
            if dropped
            else ""
        )
        if guard_off:
            spiral_text = (
                f"Gross contracts on {escape(spiral_path)}. {_and(guard_off)} ran with the guard off "
                "(a demonstration): each time a wing goes in the money it sells more of the other wing, "
                "and the book climbs: the rebalancing spiral. With the guard on, books stay near their "
                "starting size: the guard refuses those adds (blocked actions, added up, in the second panel). Equity and "
                "the index on the same path below."
            )
        else:
            spiral_text = (
                f"Gross contracts over time on {escape(spiral_path)} (no agent ran with the guard off). "
                "A staircase that keeps climbing would be the rebalancing spiral; rolling keeps the line "
                "flat. Blocked actions added up, equity and the index below."
            )
        risk_text = (
            f"{escape(y_label)} against {escape(x_label)}, one point per agent "
            f"{'pooled over the scenarios (equal weight)' if len(scenarios) > 1 else 'on the scenario'}; "
            f"whiskers are the {self.interval}s. Up and to the left is better: more return per unit of "
            "risk, less risk. The axes cover the bulk of the points; a point or whisker beyond them "
            "ends in an arrow at the edge, labelled with its value."
        )
        return [
            '<section id="risk-and-return"><h2>Risk and return</h2>',
            _figure_block(
                "risk-return", figures.risk_return(self.summary, self.colours, self.labels, y, x), risk_text
            ),
            _figure_block(
                "risk-return-scenarios",
                figures.risk_return_by_scenario(self.summary, self.colours, y, x),
                f"The same per scenario: {escape(y_label)} on one shared axis, {escape(x_label)} fitted to "
                "each scenario (colours as above).",
                missing="Only one scenario: the figure above is that scenario.",
            ),
            "</section>",
            '<section id="spiral-section"><h2>The rebalancing spiral</h2>',
            _figure_block(
                "spiral", figures.spiral(spiral_traces, self.colours, self.labels, guard_off), spiral_text
            ),
            "</section>",
            '<section id="attribution-section"><h2>Where the P&amp;L came from</h2>',
            _figure_block(
                "attribution",
                figures.attribution(table, self.colours, self.labels, self.order),
                "P&amp;L per episode by component (colours of their own, not agents'): gains right of "
                "zero, losses left, the diamond is the net. Top row: all layers together; below, each "
                "layer. Mean per episode for each scenario when the episodes carry attribution, else summed "
                f"over {escape(result.representative_path or 'the representative path')}.{dropped_note}",
            ),
            "</section>",
            '<section id="equity-section"><h2>Equity on a common path</h2>',
            _figure_block(
                "equity-drawdown",
                figures.equity_and_drawdown(result.traces, self.colours, self.labels),
                f"Equity and drawdown of every agent on {escape(result.representative_path or 'one path')}: "
                f"every agent saw the same market.{_coinciding_note(result.traces)}",
            ),
            "</section>",
        ]

    # -- every measure ----------------------------------------------------------------------------

    def measures(self) -> str:
        """Every measure, a block per scenario (pooled first and open, the others folded) holding a
        table per group of measures; agents in the block's rank order."""
        summary = self.summary
        if "agent" not in summary.columns or not len(summary):
            return '<section id="measures"><h2>All measures</h2><p class="missing">No measures.</p></section>'
        empty = [
            m
            for m in summary_measures(summary)
            if not np.isfinite(summary[f"{m}_mean"].to_numpy(float)).any()
        ]
        groups = [(n, [m for m in ms if m not in empty]) for n, ms in measure_groups(summary)]
        groups = [(n, ms) for n, ms in groups if ms]
        scenarios = (
            sorted(dict.fromkeys(summary["scenario"].astype(str)), key=lambda s: s != POOLED)
            if "scenario" in summary.columns
            else [""]
        )
        left_out = [m for m in empty if m not in HIDDEN_MEASURES]
        note = (
            " Not shown, as no episode has a value: "
            + ", ".join(
                f"{escape(measure_label(m).name)} ({escape(measure_label(m).unit)})" for m in left_out
            )
            + "."
            if left_out
            else ""
        )
        parts = [
            '<section id="measures"><h2>All measures</h2>',
            f"<p>Mean over episodes (for the ratios and CVaR, the statistic of all the episodes together) "
            f"with its {self.interval} below it; pooled rows weigh the scenarios equally. Agents in rank "
            f"order. Open a scenario to see its own numbers.{note}</p>",
        ]
        for k, scenario in enumerate(scenarios):
            rows = summary if scenario == "" else summary[summary["scenario"].astype(str) == scenario]
            rows = rows.set_index("agent")
            counts = [c for c in rows.columns if str(c).endswith("_n")]
            episodes = int(np.nanmax(rows[counts].to_numpy(dtype=float))) if counts else 0
            name = "Pooled over every scenario" if scenario == POOLED else scenario or "All episodes"
            count = f'<span class="unit">{episodes} episodes per agent</span>' if episodes else ""
            tables = "".join(self.measure_table(rows, scenario, group, members) for group, members in groups)
            block_id = f"measures-{_slug(scenario)}"
            if k == 0:
                parts.append(
                    f'<div class="block" id="{block_id}"><h3>{escape(name)}{count}</h3>{tables}</div>'
                )
            else:
                parts.append(
                    f'<details class="block" id="{block_id}"><summary>{escape(name)}{count}</summary>'
                    f"{tables}</details>"
                )
        parts.append("</section>")
        return "\n".join(parts)

    def measure_table(self, rows: pd.DataFrame, scenario: str, group: str, members: list[str]) -> str:
        """One group's measures for one scenario's ``rows`` (indexed by agent)."""
        head = '<tr><th class="agent">agent</th>' + "".join(_heading(m) for m in members) + "</tr>"
        lines = []
        for agent in self.rank_order(scenario):
            if agent not in rows.index:
                continue
            row = {str(k): v for k, v in rows.loc[agent].to_dict().items()}
            cells = "".join(
                "<td>"
                + _value_cell(
                    *(measure_label(m).format(float(row[f"{m}_{f}"])) for f in ("mean", "low", "high"))
                )
                + "</td>"
                for m in members
            )
            guard = ' class="guard-off"' if agent in self.result.guard_off else ""
            lines.append(f'<tr{guard} data-agent="{escape(agent)}">{self.agent_cell(agent)}{cells}</tr>')
        table_id = f"measures-{_slug(scenario)}-{_slug(group)}"
        return (
            f'<div class="table-wrap"><table class="measures" id="{table_id}"><caption>{escape(group)}</caption>'
            f"<thead>{head}</thead><tbody>{''.join(lines)}</tbody></table></div>"
        )


def _coinciding_note(traces: Mapping[str, pd.DataFrame]) -> str:
    """A sentence naming the agents whose equity lines lie on top of each other, if any."""
    groups = figures.coinciding(traces, "equity")
    if not groups:
        return ""
    named = "; ".join(_and(group) for group in groups)
    return (
        f" Identical equity on this path (they traded alike), drawn as one banded line, the first "
        f"named widest: {named}."
    )


def _standing_text(standing: str) -> str:
    return {WINNER: "winner", BEHIND: "behind"}.get(standing, "tied for first")


def _baseline_cell(record: Mapping[Any, Any], label: MeasureLabel) -> str:
    verdict_ = str(record["vs_baseline"])
    if verdict_ == BASELINE:
        return f'<span class="badge {BASELINE}">baseline</span>'
    mean, low, high = (float(record[f"vs_baseline_{f}"]) for f in ("mean", "low", "high"))
    sign = "+" if np.isfinite(mean) and mean >= 0 else ""
    badge = f' <span class="badge {escape(verdict_)}">{escape(verdict_)}</span>'
    return _value_cell(sign + label.format(mean), label.format(low), label.format(high), badge)


def _value_cell(mean: str, low: str, high: str, badge: str = "") -> str:
    """A value with its interval on the line below (none when both ends are missing)."""
    interval = f'<span class="ci">[{escape(low)}, {escape(high)}]</span>' if (low, high) != ("–", "–") else ""
    return f'<span class="value">{escape(mean)}{badge}</span>{interval}'


def _heading(measure: str) -> str:
    label = measure_label(measure)
    unit = f'<span class="unit">{escape(label.unit)}</span>' if label.unit else ""
    return f"<th>{escape(label.name)}{unit}</th>"


def _forest(mean: float, low: float, high: float, scale: tuple[float, float], colour: str) -> str:
    """A small inline SVG: the interval as a bar, the mean as a dot, zero as a grey line, on the
    board's common ``scale``; ends beyond the scale are cut at the edge."""
    lo, hi = scale
    span = hi - lo if hi > lo else 1.0

    def position(value: float) -> float:
        return 4 + (FOREST_WIDTH - 8) * (float(np.clip(value, lo, hi)) - lo) / span

    middle = FOREST_HEIGHT / 2
    parts = [
        f'<line x1="{position(0.0):.1f}" y1="1" x2="{position(0.0):.1f}" y2="{FOREST_HEIGHT - 1}" '
        'stroke="#888888" stroke-width="1"/>'
    ]
    if np.isfinite(low) and np.isfinite(high):
        parts.append(
            f'<line x1="{position(low):.1f}" y1="{middle}" x2="{position(high):.1f}" y2="{middle}" '
            f'stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
        )
    if np.isfinite(mean):
        parts.append(
            f'<circle cx="{position(mean):.1f}" cy="{middle}" r="4" fill="{colour}" stroke="white" stroke-width="1"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{FOREST_WIDTH}" height="{FOREST_HEIGHT}" '
        f'viewBox="0 0 {FOREST_WIDTH} {FOREST_HEIGHT}" role="img" aria-label="interval">{"".join(parts)}</svg>'
    )


def _figure_block(figure_id: str, figure: Figure | None, caption: str, missing: str | None = None) -> str:
    if figure is None:
        note = escape(missing or "No data for this figure in the evaluation output.")
        return f'<figure id="{figure_id}">\n<p class="missing">{note}</p>\n</figure>'
    return f'<figure id="{figure_id}">\n{figure_svg(figure, figure_id)}\n<figcaption>{caption}</figcaption>\n</figure>'


def _header(title: str, result: EvaluationResult, metadata: Mapping[str, Any], confidence: float) -> str:
    episodes = result.episodes
    facts = []
    if "agent" in episodes.columns:
        facts.append(f"{episodes['agent'].nunique()} agents")
    if "scenario" in episodes.columns:
        scenarios = list(dict.fromkeys(episodes["scenario"].astype(str)))
        facts.append(
            f"{len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} ({', '.join(scenarios)})"
        )
    if len(episodes):
        facts.append(f"{len(episodes)} episodes on common paths")
    facts += [
        f"{confidence:.0%} bootstrap intervals",
        str(metadata["date"]),
        str(metadata["package version"]),
    ]
    links = (
        ("leaderboard", "Who wins"),
        ("risk-and-return", "Risk and return"),
        ("spiral-section", "Spiral"),
        ("attribution-section", "Attribution"),
        ("equity-section", "Equity"),
        ("measures", "All measures"),
        ("how-to-read", "How to read"),
        ("run-details", "Run details"),
    )
    nav = "".join(f'<a href="#{target}">{text}</a>' for target, text in links)
    return (
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="subtitle">{escape(" · ".join(facts))}</p><nav>{nav}</nav></header>'
    )


def _metadata_block(metadata: Mapping[str, Any]) -> str:
    """A definition list of the metadata; nested values (a config) shown as indented JSON."""
    items = []
    for key, value in metadata.items():
        if isinstance(value, Mapping | list | tuple):
            shown = f"<pre>{escape(json.dumps(value, indent=2, default=str))}</pre>"
        else:
            shown = escape(str(value))
        items.append(f"<dt>{escape(str(key).replace('_', ' '))}</dt><dd>{shown}</dd>")
    return f'<dl class="meta">{"".join(items)}</dl>'


def _how_to_read(headline: str, baseline: str, confidence: float) -> str:
    name = escape(measure_label(headline).name)
    entries = (
        (
            "Winner or tie",
            f"Every agent ran on the same market paths, so agents are compared path by path. The leader on "
            f"{name} is called the winner only when, for every other agent, the {confidence:.0%} bootstrap "
            "interval of the paired difference lies below zero. If any interval includes zero, it is a tie: "
            "the data cannot tell those agents apart.",
        ),
        (
            f"vs {escape(baseline or 'baseline')}",
            "The paired difference agent − baseline on the headline, with its interval: <em>better</em> or "
            "<em>worse</em> when the interval excludes zero, else <em>tie</em>.",
        ),
        (
            "Sharpe and Sortino ratios",
            "Annualised mean daily excess return on capital over its volatility (Sortino: over the downside "
            "only). Scale-free: a book that is merely smaller does not score higher.",
        ),
        (
            "At matched risk",
            "Return and max drawdown after scaling each book's daily P&amp;L to 10% a year volatility: what "
            "each agent would earn, and lose at worst, at the same risk.",
        ),
        ("CVaR 5%", "Mean return of the worst 5% of episodes, as a share of capital."),
        (
            "Theta capture",
            "Net P&amp;L over the theta the book accrued: 1 means it kept all the decay it was positioned "
            "to earn, below 0 that delta, gamma, vega, costs and assignments cost more than that.",
        ),
        (
            "Spiral index and the guard",
            "Peak over starting gross contracts: above 1 the book grew. Agents marked "
            f"<em>({GUARD_OFF_NOTE})</em> ran with the spiral-prevention guard switched off to show the "
            "spiral; they are not candidates for use.",
        ),
    )
    items = "".join(f"<dt>{term}</dt><dd>{text}</dd>" for term, text in entries)
    return f'<section id="how-to-read"><h2>How to read this</h2><dl class="glossary">{items}</dl></section>'


def _and(names: Sequence[str]) -> str:
    """Names joined for a sentence, escaped: ``a``, ``a and b``, ``a, b and c``."""
    shown = [escape(str(n)) for n in names]
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "all"


def html_document(title: str, body: str) -> str:
    """A whole page: ``body`` under ``title``, with the report's inline style sheet."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
