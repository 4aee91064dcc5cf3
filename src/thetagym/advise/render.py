"""The advice as a terminal report, a self-contained HTML page and one JSON object."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from thetagym.advise.advisor import Advice, BookState, LayerRisk
from thetagym.advise.stress import INDEX_GRID
from thetagym.advise.verdicts import GUARD_RULES
from thetagym.report.html import html_document

RISK_COLUMNS = (
    ("layer", "layer"),
    ("kind", "kind"),
    ("contracts", "contracts"),
    ("cap", "cap"),
    ("counter", "counter"),
    ("delta", "delta (ES)"),
    ("delta_usd", "delta $/1%"),
    ("gamma_usd", "gamma $/1% move"),
    ("vega_usd", "vega $/vol pt"),
    ("theta_usd", "theta $/day"),
    ("unrealised_pnl", "unrealised $"),
)
ACTION_COLUMNS = ("part", "agent wants", "guard's verdict", "advised")
STRESS_COLUMNS = ("scenario", "index", "volatility", "P&L $", "margin use after")
LEG_COLUMNS = (
    "layer",
    "role",
    "instrument",
    "expiry",
    "strike",
    "quantity",
    "avg price",
    "mark",
    "delta",
    "unrealised $",
    "line",
)


def advice_json(advice: Advice) -> str:
    """One strict JSON object (no NaN)."""
    return json.dumps(advice.as_dict(), indent=2, allow_nan=False)


def _money(value: float) -> str:
    return f"{round(value):,}"


def _risk_cells(risk: LayerRisk) -> list[str]:
    return [
        risk.name,
        risk.kind,
        f"{risk.contracts:g}",
        f"{risk.max_contracts:g}",
        f"{risk.counter_contracts:g}",
        f"{risk.delta:+.2f}",
        _money(risk.delta_usd),
        _money(risk.gamma_usd),
        _money(risk.vega_usd),
        _money(risk.theta_usd),
        _money(risk.unrealised_pnl),
    ]


def _margin_call(advice: Advice) -> str:
    bound = f"{max(INDEX_GRID):.0%}"
    fall = (
        "none within -" + bound
        if advice.margin_call_index_fall is None
        else f"{advice.margin_call_index_fall:+.1%}"
    )
    rise = (
        "none within +" + bound
        if advice.margin_call_index_rise is None
        else f"{advice.margin_call_index_rise:+.1%}"
    )
    return f"index {fall} (falling) / {rise} (rising), surface unchanged"


def _margin_line(state: BookState, cap: float) -> str:
    return (
        f"equity ${_money(state.equity)}, margin requirement ${_money(state.margin_requirement)}, "
        f"margin use {state.margin_use:.1%} (cap {cap:.0%}), excess ${_money(state.equity - state.margin_requirement)}"
    )


def _stress_cells(advice: Advice) -> list[list[str]]:
    return [
        [
            row.name,
            f"{row.index_move:+.1%}",
            row.volatility,
            _money(row.pnl),
            "" if row.margin_use is None else f"{row.margin_use:.1%}",
        ]
        for row in advice.stress
    ]


def _action_cells(advice: Advice) -> list[list[str]]:
    return [[part.part, part.wants, part.verdict, part.advised] for part in advice.actions]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 2) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for position, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            out.append(str(cell).rjust(width) if position >= right_from else str(cell).ljust(width))
        return "  ".join(out).rstrip()

    return "\n".join([line(header), *(line(row) for row in rows)])


def terminal_report(advice: Advice) -> str:
    """The advice as plain text for a terminal (legs are in the HTML page and the JSON)."""
    market = advice.market
    header = [name for _, name in RISK_COLUMNS]
    blocks = [
        f"thetagym advise: {advice.agent} on {advice.book_config}, {advice.timestamp.replace('T', ' ')} (bar {advice.bar})",
        f"market: index {market['index']:,.2f}, VIX {market['vix']:.2f}, VIX3M {market['vix3m']:.2f}, "
        f"rate {market['rate']:.2%}, one-month at-the-money volatility {market['atm_volatility_1m']:.1%}",
        "",
        f"Book by layer ({len(advice.today.legs)} legs)",
        _table(header, [_risk_cells(risk) for risk in advice.today.layers]),
        "",
        "Margin: " + _margin_line(advice.today, advice.margin_cap),
        "Margin call at: " + _margin_call(advice),
        "",
        "Stress (P&L of today's book)",
        _table(STRESS_COLUMNS, _stress_cells(advice), right_from=1),
        "",
        "Actions (what the agent wants, the guard's verdict, what it advises under the guard)",
        _table(ACTION_COLUMNS, _action_cells(advice), right_from=4),
        "",
        f"Book after the advised actions (one bar later, market unchanged; costs ${_money(advice.after_costs)})",
        _table(header, [_risk_cells(risk) for risk in advice.after.layers]),
        "Margin after: " + _margin_line(advice.after, advice.margin_cap),
    ]
    if advice.breaches:
        blocks += [
            "",
            "Over a cap (only risk-reducing actions are offered):",
            *(f"  {text}" for text in advice.breaches),
        ]
    if advice.notes:
        blocks += ["", *advice.notes]
    return "\n".join(blocks)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _leg_cells(state: BookState) -> list[list[str]]:
    return [
        [
            leg.layer,
            leg.role,
            leg.instrument,
            leg.expiry,
            f"{leg.strike:g}" if leg.strike else "",
            f"{leg.quantity:g}",
            f"{leg.average_price:.2f}",
            f"{leg.mark:.2f}",
            f"{leg.delta:+.3f}",
            _money(leg.unrealised_pnl),
            str(leg.line) if leg.line else "",
        ]
        for leg in state.legs
    ]


def html_report(advice: Advice) -> str:
    """The advice as one self-contained HTML page (the report's style sheet, no external files)."""
    title = f"thetagym advise: {advice.agent}, {advice.timestamp.replace('T', ' ')}"
    market = advice.market
    header = [name for _, name in RISK_COLUMNS]
    rules = "".join(f"<li>rule {k}: {escape(text)}</li>" for k, text in GUARD_RULES.items())
    sections = [
        f"<header><h1>{escape(title)}</h1><p>Book config {escape(advice.book_config)}; market: index "
        f"{market['index']:,.2f}, VIX {market['vix']:.2f}, VIX3M {market['vix3m']:.2f}, rate {market['rate']:.2%}.</p></header>",
        '<section id="actions"><h2>Actions</h2><p>What the agent wants with only the impossible ruled '
        "out, the guard's verdict on it, and what it advises under the guard.</p>"
        + _html_table(ACTION_COLUMNS, _action_cells(advice))
        + f"<ul>{rules}</ul></section>",
    ]
    if advice.breaches:
        items = "".join(f"<li>{escape(text)}</li>" for text in advice.breaches)
        sections.append(
            f'<section id="breaches"><h2>Over a cap</h2><p>Only risk-reducing actions are offered.</p><ul>{items}</ul></section>'
        )
    sections += [
        '<section id="risk"><h2>Book by layer</h2>'
        + _html_table(header, [_risk_cells(risk) for risk in advice.today.layers])
        + f"<p>Margin: {escape(_margin_line(advice.today, advice.margin_cap))}. Margin call at: "
        f"{escape(_margin_call(advice))}.</p></section>",
        '<section id="stress"><h2>Stress</h2><p>The margin\'s scenarios (index move and relative '
        "volatility shift, priced from today's marks), then historical shocks applied to the whole "
        "market and re-marked by the book.</p>"
        + _html_table(STRESS_COLUMNS, _stress_cells(advice))
        + "</section>",
        f'<section id="after"><h2>Book after the advised actions</h2><p>One bar later on an unchanged '
        f"market; the trades cost ${_money(advice.after_costs)}. "
        f"{escape(_margin_line(advice.after, advice.margin_cap))}.</p>"
        + _html_table(header, [_risk_cells(risk) for risk in advice.after.layers])
        + "</section>",
        '<section id="legs"><h2>Legs</h2>'
        + _html_table(LEG_COLUMNS, _leg_cells(advice.today))
        + "</section>",
    ]
    if advice.notes:
        sections.append(
            "<section id='notes'><h2>Notes</h2>"
            + "".join(f"<p>{escape(n)}</p>" for n in advice.notes)
            + "</section>"
        )
    return html_document(title, "\n".join(sections))
