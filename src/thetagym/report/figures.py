"""Figures of the evaluation report and of a ``simulate`` trace.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``: no
global figure registry, no interactive backend, and PNGs are rasterised by Agg whatever backend the
caller has selected. Each report figure takes ``colours`` from :func:`agent_colours` so an agent has
one colour everywhere. A figure whose data is missing is ``None``; the report says so in its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

COMPONENTS = ("theta", "delta", "gamma", "vega", "costs", "assignment", "residual")
"""P&L attribution components, in stacking order (DESIGN §5)."""
COMPONENT_COLOURS = dict(
    zip(
        COMPONENTS, ("#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#7f7f7f", "#d62728", "#c7c7c7"), strict=True
    )
)
SCENARIO_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SIMULATION_FILES = ("path.png", "greeks.png", "equity.png")


def agent_colours(agents: Iterable[str]) -> dict[str, str]:
    """A distinct colour per agent, assigned in the order given (tab10, then tab20 beyond ten)."""
    names = list(dict.fromkeys(agents))
    palette = mpl.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: mpl.colors.to_hex(palette(i % palette.N)) for i, name in enumerate(names)}


def theta_vs_drawdown(summary_table: pd.DataFrame, colours: Mapping[str, str]) -> Figure | None:
    """Theta capture against max drawdown: a point per agent and scenario, interval whiskers both ways."""
    needed = [f"{m}_{f}" for m in ("theta_capture", "max_drawdown") for f in ("mean", "low", "high")]
    if not set(needed) <= set(summary_table.columns) or summary_table.empty:
        return None
    scenarios = _scenarios(summary_table)
    markers = {s: SCENARIO_MARKERS[i % len(SCENARIO_MARKERS)] for i, s in enumerate(scenarios)}
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for _, row in summary_table.iterrows():
        scenario = row.get("scenario", "all")
        axes.errorbar(
            row["max_drawdown_mean"],
            row["theta_capture_mean"],
            xerr=_whiskers(row, "max_drawdown"),
            yerr=_whiskers(row, "theta_capture"),
            fmt=markers[scenario],
            color=colours[row["agent"]],
            markersize=6,
            capsize=2,
            linewidth=1,
        )
    axes.axhline(0.0, color="black", linewidth=0.6)
    axes.set_xlabel("max drawdown (fraction of starting capital)")
    axes.set_ylabel("theta capture (net P&L / theta accrued)")
    axes.grid(alpha=0.3)
    handles = [Line2D([], [], color=c, marker="o", linestyle="", label=a) for a, c in colours.items()]
    if len(scenarios) > 1:
        handles += [Line2D([], [], color="grey", marker=m, linestyle="", label=s) for s, m in markers.items()]
    figure.legend(handles=handles, loc="outside right upper", fontsize="small", frameon=False)
    return figure


def equity_and_drawdown(traces: Mapping[str, pd.DataFrame], colours: Mapping[str, str]) -> Figure | None:
    """Equity (top) and drawdown (bottom) of every agent on the representative path."""
    return _trace_lines(traces, colours, [("equity", "equity ($)"), ("drawdown", "drawdown")])


def gross_contracts(traces: Mapping[str, pd.DataFrame], colours: Mapping[str, str]) -> Figure | None:
    """Gross contracts over time, one line per agent: a rising staircase is the rebalancing spiral."""
    return _trace_lines(traces, colours, [("gross_contracts", "gross contracts")])


def attribution_table(episodes: pd.DataFrame, traces: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table ``scenario, agent, layer, component, pnl`` of the P&L attribution.

    From the episodes' ``attr_<layer>_<component>`` columns (mean per episode, by agent and
    scenario) when there are any, else from the traces' ``pnl_<layer>_<component>`` columns (summed
    over the representative path). Empty when neither exists.
    """
    columns = _attribution_columns(episodes.columns, "attr_")
    if columns and "agent" in episodes.columns:
        keys = [k for k in ("scenario", "agent") if k in episodes.columns]
        wide = episodes.groupby(keys, sort=False)[list(columns)].mean().reset_index()
        if "scenario" not in wide.columns:
            wide.insert(0, "scenario", "all scenarios")
    else:
        wide = pd.DataFrame(
            [
                {"scenario": "representative path", "agent": agent, **trace.sum(numeric_only=True).to_dict()}
                for agent, trace in traces.items()
            ]
        )
        columns = _attribution_columns(wide.columns, "pnl_")
    if not columns:
        return pd.DataFrame(columns=["scenario", "agent", "layer", "component", "pnl"])
    long = wide.melt(id_vars=["scenario", "agent"], value_vars=list(columns), value_name="pnl")
    long["layer"] = long["variable"].map(lambda c: columns[c][0])
    long["component"] = long["variable"].map(lambda c: columns[c][1])
    return long[["scenario", "agent", "layer", "component", "pnl"]]


def attribution(table: pd.DataFrame, colours: Mapping[str, str]) -> Figure | None:
    """Stacked P&L bars per agent, a panel per layer (columns) and scenario (rows); dots mark the net."""
    if table.empty:
        return None
    scenarios = list(dict.fromkeys(table["scenario"]))
    layers = list(dict.fromkeys(table["layer"]))
    agents = [a for a in colours if a in set(table["agent"])]
    figure = Figure(
        figsize=(1.2 + 0.45 * len(agents) * len(layers) + 0.4 * len(layers), 0.6 + 2.0 * len(scenarios)),
        layout="constrained",
    )
    grid = figure.subplots(len(scenarios), len(layers), squeeze=False, sharey="row")
    cube = table.pivot_table(
        index=["scenario", "layer", "agent"], columns="component", values="pnl", aggfunc="sum", fill_value=0.0
    ).reindex(columns=list(COMPONENTS), fill_value=0.0)
    x = np.arange(len(agents))
    for (i, scenario), (j, layer) in ((r, c) for r in enumerate(scenarios) for c in enumerate(layers)):
        axes = grid[i, j]
        values = cube.reindex(pd.MultiIndex.from_product([[scenario], [layer], agents]), fill_value=0.0)
        above, below = np.zeros(len(agents)), np.zeros(len(agents))
        for component in COMPONENTS:
            height = values[component].to_numpy(dtype=float)
            axes.bar(
                x, height, bottom=np.where(height >= 0, above, below), color=COMPONENT_COLOURS[component]
            )
            above, below = above + np.maximum(height, 0), below + np.minimum(height, 0)
        axes.plot(x, above + below, "o", color="black", markersize=3)
        axes.axhline(0.0, color="black", linewidth=0.6)
        axes.set_xticks(x, agents, rotation=45, ha="right", fontsize="small")
        for label in axes.get_xticklabels():
            label.set_color(colours[label.get_text()])
        axes.set_title(layer if i == 0 else "", fontsize="medium")
        if j == 0:
            axes.set_ylabel(f"{scenario}\nP&L ($)", fontsize="small")
    handles: list[Artist] = [Patch(color=COMPONENT_COLOURS[c], label=c) for c in COMPONENTS]
    handles.append(Line2D([], [], color="black", marker="o", linestyle="", markersize=3, label="net"))
    figure.legend(handles=handles, loc="outside right upper", fontsize="small", frameon=False)
    return figure


def plot_simulation(trace: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``path.png`` (index, VIX), ``greeks.png`` (net delta/gamma/vega/theta) and ``equity.png``.

    ``trace`` has one row per bar with columns ``bar, date, index, vix, equity, drawdown,
    net_delta, net_gamma, net_vega, net_theta, gross_contracts``. Returns the written paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    panels = [
        [("index", "S&P 500 index"), ("vix", "VIX")],
        [
            ("net_delta", "net delta"),
            ("net_gamma", "net gamma"),
            ("net_vega", "net vega"),
            ("net_theta", "net theta"),
        ],
        [("equity", "equity ($)"), ("drawdown", "drawdown"), ("gross_contracts", "gross contracts")],
    ]
    span = _date_span(trace)
    paths = []
    for name, columns in zip(SIMULATION_FILES, panels, strict=True):
        figure = _stacked_panels({"": trace}, {"": "#1f77b4"}, columns)
        figure.suptitle(f"{name.removesuffix('.png')}{span}", fontsize="medium")
        path = out_dir / name
        figure.savefig(path, dpi=110)
        paths.append(path)
    return paths


def _trace_lines(
    traces: Mapping[str, pd.DataFrame], colours: Mapping[str, str], columns: list[tuple[str, str]]
) -> Figure | None:
    """Panels of ``columns`` against ``bar``, one line per agent; ``None`` if a column is missing."""
    if not traces or any(c not in t.columns for t in traces.values() for c, _ in columns):
        return None
    figure = _stacked_panels(traces, colours, columns)
    handles = [Line2D([], [], color=colours[a], label=a) for a in traces]
    figure.legend(handles=handles, loc="outside right upper", fontsize="small", frameon=False)
    return figure


def _stacked_panels(
    traces: Mapping[str, pd.DataFrame], colours: Mapping[str, str], columns: list[tuple[str, str]]
) -> Figure:
    """One panel per ``(column, label)`` sharing the bar axis, one line per trace."""
    figure = Figure(figsize=(7.0, 0.6 + 1.7 * len(columns)), layout="constrained")
    grid = figure.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0]
    for axes, (column, label) in zip(grid, columns, strict=True):
        for agent, trace in traces.items():
            if column in trace.columns:
                x = trace["bar"] if "bar" in trace.columns else np.arange(len(trace))
                axes.plot(x, trace[column], color=colours[agent], linewidth=1.0)
        axes.set_ylabel(label, fontsize="small")
        axes.grid(alpha=0.3)
    grid[-1].set_xlabel("bar")
    return figure


def _whiskers(row: pd.Series, measure: str) -> np.ndarray:
    """Asymmetric error bar ``[[below], [above]]`` from ``<measure>_low/_high``, never negative."""
    mean, low, high = (float(row[f"{measure}_{f}"]) for f in ("mean", "low", "high"))
    return np.nan_to_num(np.maximum([[mean - low], [high - mean]], 0.0))


def _scenarios(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["scenario"])) if "scenario" in table.columns else ["all"]


def _attribution_columns(columns: Iterable[object], prefix: str) -> dict[str, tuple[str, str]]:
    """``{column: (layer, component)}`` for columns named ``<prefix><layer>_<component>``.

    >>> _attribution_columns(["attr_call_wing_theta", "attr_vix_etp_costs", "attr_x_other"], "attr_")
    {'attr_call_wing_theta': ('call_wing', 'theta'), 'attr_vix_etp_costs': ('vix_etp', 'costs')}
    """
    parsed = {}
    for column in map(str, columns):
        layer, _, component = column.removeprefix(prefix).rpartition("_")
        if column.startswith(prefix) and layer and component in COMPONENTS:
            parsed[column] = (layer, component)
    return parsed


def _date_span(trace: pd.DataFrame) -> str:
    if "date" not in trace.columns or trace.empty:
        return ""
    return f": {trace['date'].iloc[0]} to {trace['date'].iloc[-1]}"
