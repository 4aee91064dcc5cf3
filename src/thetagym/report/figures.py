"""Figures of the evaluation report and of a ``simulate`` trace.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``: no
global figure registry, no interactive backend, and PNGs are rasterised by Agg whatever backend the
caller has selected. An agent has one colour everywhere (:func:`agent_colours`); attribution
components have their own muted palette (:data:`COMPONENT_COLOURS`) that no agent is given, so a
bar segment is never mistaken for an agent. Every axis names its unit; a trace with a ``date``
column is drawn against dates. A figure whose data is missing is ``None``; the report says so in
its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from thetagym.book.attribution import ATTRIBUTION
from thetagym.evaluate.summary import POOLED
from thetagym.measures import measure_label

COMPONENTS = ATTRIBUTION
"""P&L attribution components, in stacking order (``docs/measures.md#per-layer-pl-attribution``)."""
AGENT_PALETTE = (
    *(mpl.colors.to_hex(mpl.colormaps["tab10"](i)) for i in range(10)),
    *(mpl.colors.to_hex(mpl.colormaps["tab20b"](i)) for i in range(0, 20, 2)),
)
"""Saturated colours for agents: tab10, then the darker half of tab20b beyond ten agents."""
COMPONENT_COLOURS = dict(
    zip(
        COMPONENTS,
        ("#66c2a5", "#8da0cb", "#fc8d62", "#e78ac3", "#b3b3b3", "#a6d854", "#e5c494", "#ffd92f"),
        strict=True,
    )
)
"""Muted (ColorBrewer Set2) colours of the attribution components; none is in :data:`AGENT_PALETTE`."""
SIMULATION_FILES = ("path.png", "greeks.png", "equity.png")
SESSION_OPEN_HOURS = 9.5
SESSION_HOURS = 6.5
"""Bars of one trading day are drawn spread over the 09:30-16:00 session."""
OUTLIER_GAP = 3.0
"""An extreme point is off-scale when its gap to the others exceeds this many times their spread."""
WHISKER_REACH = 0.75
"""Interval whiskers may widen an axis by at most this share of the points' own spread each way."""


@contextmanager
def report_style() -> Iterator[None]:
    """The report's matplotlib settings (small type, no top or right spine, light grid), for
    building a figure inside."""
    with mpl.rc_context(
        {
            "font.size": 10,
            "axes.titlesize": 10.5,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 9.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
        }
    ):
        yield


def agent_colours(agents: Iterable[str]) -> dict[str, str]:
    """A distinct colour per agent of ``agents`` from :data:`AGENT_PALETTE`, assigned in the order
    given.

    >>> agent_colours(["a", "b", "a"])
    {'a': '#1f77b4', 'b': '#ff7f0e'}
    """
    names = list(dict.fromkeys(agents))
    return {name: AGENT_PALETTE[i % len(AGENT_PALETTE)] for i, name in enumerate(names)}


def robust_limits(
    values: npt.ArrayLike,
    lows: npt.ArrayLike | None = None,
    highs: npt.ArrayLike | None = None,
    pad: float = 0.08,
) -> tuple[float, float]:
    """Axis limits that show every point except far outliers, and the intervals within reach.

    Extreme values are dropped while their gap to the rest is more than :data:`OUTLIER_GAP` times
    the spread of the rest (at most a third of the points, and never below three); the interval
    ends ``lows``/``highs`` then widen the range by at most :data:`WHISKER_REACH` times the larger
    of the points' spread and their narrowest interval's width, each way (so tightly clustered points
    still show their whiskers), and ``pad`` of the width is added on both sides. Points and whiskers outside
    are for the caller to mark as off-scale.

    >>> [round(v, 2) for v in robust_limits([1.0, 1.2, 0.9, 1.1, 40.0])]
    [0.88, 1.22]
    >>> [round(v, 2) for v in robust_limits([0.0, 1.0], lows=[-0.5, -9.0], highs=[0.5, 1.5])]
    [-0.93, 1.68]
    """
    points = np.asarray(values, dtype=float)
    keep = np.isfinite(points)
    if not keep.any():
        return (-1.0, 1.0)
    core = np.sort(points[keep])
    budget = (len(core) - 1) // 3
    while budget > 0 and len(core) > 3:
        low_gap, high_gap = core[1] - core[0], core[-1] - core[-2]
        if high_gap >= low_gap and high_gap > OUTLIER_GAP * (core[-2] - core[0]):
            core = core[:-1]
        elif low_gap > OUTLIER_GAP * (core[-1] - core[1]):
            core = core[1:]
        else:
            break
        budget -= 1
    low, high = float(core[0]), float(core[-1])
    inside = keep & (points >= low) & (points <= high)
    spread = max(high - low, _narrowest_width(lows, highs, inside))
    if spread <= 0:
        spread = max(abs(high) * 0.2, 1e-6)
    if lows is not None:
        ends = np.asarray(lows, dtype=float)[inside]
        ends = ends[np.isfinite(ends)]
        if len(ends):
            low = max(min(low, float(ends.min())), low - WHISKER_REACH * spread)
    if highs is not None:
        ends = np.asarray(highs, dtype=float)[inside]
        ends = ends[np.isfinite(ends)]
        if len(ends):
            high = min(max(high, float(ends.max())), high + WHISKER_REACH * spread)
    if high <= low:
        low, high = low - spread / 2, high + spread / 2
    margin = pad * (high - low)
    return (low - margin, high + margin)


def _narrowest_width(lows: npt.ArrayLike | None, highs: npt.ArrayLike | None, rows: np.ndarray) -> float:
    """Width of the narrowest non-empty interval of ``rows`` (0 without intervals): a whisker scale
    that one very wide interval cannot blow up."""
    if lows is None or highs is None:
        return 0.0
    widths = (np.asarray(highs, dtype=float) - np.asarray(lows, dtype=float))[rows]
    widths = widths[np.isfinite(widths) & (widths > 0)]
    return float(widths.min()) if len(widths) else 0.0


def risk_return(
    summary: pd.DataFrame,
    colours: Mapping[str, str],
    labels: Mapping[str, str],
    y: str = "sharpe",
    x: str = "volatility",
) -> Figure | None:
    """``y`` against ``x`` (measures of ``summary``, the evaluation summary), one point per agent
    pooled over scenarios (or of the only scenario), with interval whiskers both ways; robust axes,
    off-scale points marked at the edge. ``colours`` and ``labels`` map each agent to its colour and
    its name as shown."""
    rows = _risk_rows(summary, x, y)
    if rows.empty:
        return None
    pooled = rows[rows["scenario"] == POOLED]
    rows = pooled if not pooled.empty else rows[rows["scenario"] == rows["scenario"].iloc[0]]
    with report_style():
        figure = Figure(figsize=(8.4, 4.9), layout="constrained")
        axes = figure.add_subplot()
        _risk_panel(axes, rows, colours, x, y, _limits(rows, x), _limits(rows, y), marker_size=8)
        _label_risk_axes(axes, x, y, left=True, bottom=True)
        agents = [a for a in colours if a in set(rows["agent"])]
        handles = [
            Line2D([], [], color=colours[a], marker="o", linestyle="-", label=labels.get(a, a))
            for a in agents
        ]
        figure.legend(
            handles=handles, loc="outside lower center", ncols=min(3, max(1, len(handles))), fontsize=9
        )
    return figure


def risk_return_by_scenario(
    summary: pd.DataFrame,
    colours: Mapping[str, str],
    y: str = "sharpe",
    x: str = "volatility",
) -> Figure | None:
    """Small multiples of :func:`risk_return` over ``summary``, coloured by ``colours``: a panel per
    scenario (pooled rows left out), the
    ``y`` axis shared by all panels, ``x`` fitted to each (scenarios differ in risk by multiples);
    both robust. ``None`` with fewer than two scenarios."""
    rows = _risk_rows(summary, x, y)
    rows = rows[rows["scenario"] != POOLED]
    scenarios = list(dict.fromkeys(rows["scenario"]))
    if len(scenarios) < 2:
        return None
    columns = min(3, len(scenarios))
    lines = -(-len(scenarios) // columns)
    ylim = _limits(rows, y)
    with report_style():
        width = min(4.4, 9.0 / columns)
        figure = Figure(figsize=(width * columns + 0.6, 0.75 * width * lines + 0.4), layout="constrained")
        grid = figure.subplots(lines, columns, squeeze=False, sharey=True)
        for k, axes in enumerate(grid.flat):
            if k >= len(scenarios):
                axes.set_visible(False)
                continue
            cell = rows[rows["scenario"] == scenarios[k]]
            _risk_panel(axes, cell, colours, x, y, _limits(cell, x), ylim, marker_size=6)
            axes.set_title(str(scenarios[k]))
            axes.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5, steps=[1, 2, 5, 10]))
            _label_risk_axes(axes, x, y, left=k % columns == 0, bottom=True, hint=False)
    return figure


def spiral(
    traces: Mapping[str, pd.DataFrame],
    colours: Mapping[str, str],
    labels: Mapping[str, str],
    guard_off: Sequence[str] = (),
) -> Figure | None:
    """The rebalancing spiral on one path: gross contracts of every agent (guard-off agents drawn
    heavy, their peak marked), the guard's blocked actions added up, equity, and the index level
    for context; panels share the time axis. ``None`` without ``gross_contracts``.

    ``traces`` maps each agent to its trace on the path (a row per bar); ``colours`` and ``labels``
    map agents to colours and shown names; ``guard_off`` names the agents run with the guard off."""
    if not traces or any("gross_contracts" not in t.columns for t in traces.values()):
        return None
    first = next(iter(traces.values()))
    panels = ["gross_contracts"]
    if all("blocked" in t.columns for t in traces.values()):
        panels.append("blocked")
    if all("equity" in t.columns for t in traces.values()):
        panels.append("equity")
    if "index" in first.columns:
        panels.append("index")
    heights = {"gross_contracts": 2.6, "blocked": 1.1, "equity": 1.5, "index": 1.0}
    with report_style():
        figure = Figure(figsize=(9.6, 1.0 + 1.25 * sum(heights[p] for p in panels)), layout="constrained")
        grid = figure.subplots(
            len(panels), 1, sharex=True, squeeze=False, height_ratios=[heights[p] for p in panels]
        )[:, 0]
        ordered = [a for a in traces if a not in guard_off] + [a for a in traces if a in guard_off]
        for axes, panel in zip(grid, panels, strict=True):
            if panel == "index":
                time, _ = trace_time(first)
                axes.plot(time, first["index"], color="#444444", linewidth=1.0)
                axes.set_ylabel("S&P 500 index\n(points)")
                continue
            for agent in ordered:
                trace = traces[agent]
                time, _ = trace_time(trace)
                values = trace[panel].to_numpy(dtype=float)
                if panel == "blocked":
                    values = np.cumsum(values)
                heavy = agent in guard_off
                axes.plot(
                    time,
                    values,
                    color=colours[agent],
                    linewidth=2.2 if heavy else 1.3,
                    linestyle="--" if heavy and panel != "gross_contracts" else "-",
                    drawstyle="steps-post" if panel != "equity" else "default",
                    zorder=3 if heavy else 2,
                )
        for axes, panel in zip(grid, panels, strict=True):
            if panel == "gross_contracts":
                axes.set_ylabel("gross contracts\n(contracts)")
                axes.set_ylim(bottom=0)
                for agent in guard_off:
                    if agent in traces:
                        _mark_peak(axes, traces[agent], colours[agent])
            elif panel == "blocked":
                axes.set_ylabel("blocked actions\n(cumulative count)")
                axes.set_ylim(bottom=0)
            elif panel == "equity":
                axes.set_ylabel("equity (USD)")
                _usd_ticks(axes.yaxis)
        _time_labels(grid[-1], first)
        handles = [
            Line2D([], [], color=colours[a], linewidth=2.2 if a in guard_off else 1.3, label=labels.get(a, a))
            for a in traces
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)), fontsize=9)
    return figure


def equity_and_drawdown(
    traces: Mapping[str, pd.DataFrame], colours: Mapping[str, str], labels: Mapping[str, str]
) -> Figure | None:
    """Equity (USD, top) and drawdown (% of starting capital, bottom) of every agent on one path,
    from ``traces`` (agent -> a row per bar), with ``colours`` and ``labels`` as in :func:`spiral`.

    Agents whose equity coincides (:func:`coinciding`) are drawn in layers, the first widest, so
    every colour still shows."""
    if not traces or any(c not in t.columns for t in traces.values() for c in ("equity", "drawdown")):
        return None
    with report_style():
        figure = Figure(figsize=(9.6, 4.8), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1.6, 1.0])
        widths = _layered_widths(coinciding(traces, "equity"), 1.2)
        for agent, trace in traces.items():
            time, _ = trace_time(trace)
            width = widths.get(agent, 1.2)
            top.plot(time, trace["equity"], color=colours[agent], linewidth=width)
            bottom.plot(time, trace["drawdown"], color=colours[agent], linewidth=width)
        top.set_ylabel("equity (USD)")
        _usd_ticks(top.yaxis)
        bottom.set_ylabel("drawdown\n(% of capital)")
        _percent_ticks(bottom.yaxis)
        bottom.set_ylim(bottom=0)
        bottom.invert_yaxis()
        _time_labels(bottom, next(iter(traces.values())))
        handles = [Line2D([], [], color=colours[a], label=labels.get(a, a)) for a in traces]
        figure.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)), fontsize=9)
    return figure


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


ALL_LAYERS = "all layers"
MIN_LAYER_PNL = 1.0
"""USD: a layer whose every component stays below this (all agents, all scenarios) is left out."""


def attribution_layers(table: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The layers of an attribution table worth a panel, and those left out (no P&L to speak of)."""
    layers = list(dict.fromkeys(table["layer"]))
    largest = table.groupby("layer", sort=False)["pnl"].agg(lambda v: float(np.abs(v).max()))
    shown = [layer for layer in layers if largest[layer] >= MIN_LAYER_PNL]
    return shown, [layer for layer in layers if layer not in shown]


def attribution(
    table: pd.DataFrame,
    colours: Mapping[str, str],
    labels: Mapping[str, str],
    order: Sequence[str] | None = None,
) -> Figure | None:
    """Horizontal P&L bars, an agent a row, stacked by component (gains right of zero, losses
    left, a black diamond at the net): a panel per scenario (columns) and layer (rows), all layers
    together on top. Components use :data:`COMPONENT_COLOURS`; ``colours`` only picks the agents.

    ``table`` holds the P&L per agent, scenario, layer and component; ``labels`` map agents to
    shown names; ``order`` sets the agents' rows (default: the order of ``colours``)."""
    if table.empty:
        return None
    scenarios = list(dict.fromkeys(table["scenario"]))
    layers, _ = attribution_layers(table)
    present = set(table["agent"])
    agents = [a for a in (order or colours) if a in present] or list(dict.fromkeys(table["agent"]))
    totals = table.assign(layer=ALL_LAYERS)
    rows = [ALL_LAYERS, *layers] if len(layers) > 1 else layers or [ALL_LAYERS]
    cube = (
        pd.concat([totals, table])
        .pivot_table(
            index=["scenario", "layer", "agent"],
            columns="component",
            values="pnl",
            aggfunc="sum",
            fill_value=0.0,
        )
        .reindex(columns=list(COMPONENTS), fill_value=0.0)
    )
    y = np.arange(len(agents))
    with report_style():
        figure = Figure(
            figsize=(9.6 if len(scenarios) > 1 else 7.2, 0.9 + len(rows) * (0.45 + 0.24 * len(agents))),
            layout="constrained",
        )
        grid = figure.subplots(len(rows), len(scenarios), squeeze=False, sharey=True, sharex="col")
        for (i, layer), (j, scenario) in ((r, c) for r in enumerate(rows) for c in enumerate(scenarios)):
            axes = grid[i, j]
            values = cube.reindex(pd.MultiIndex.from_product([[scenario], [layer], agents]), fill_value=0.0)
            right, left = np.zeros(len(agents)), np.zeros(len(agents))
            for component in COMPONENTS:
                width = values[component].to_numpy(dtype=float)
                axes.barh(
                    y,
                    width,
                    left=np.where(width >= 0, right, left),
                    color=COMPONENT_COLOURS[component],
                    height=0.72,
                    edgecolor="white",
                    linewidth=0.4,
                )
                right, left = right + np.maximum(width, 0), left + np.minimum(width, 0)
            axes.plot(right + left, y, "D", color="black", markersize=4)
            axes.axvline(0.0, color="black", linewidth=0.6)
            axes.grid(axis="y", visible=False)
            axes.set_yticks(y, [_wrap_label(labels.get(a, a)) for a in agents], fontsize=8.5)
            if i == 0 and j == 0:
                axes.invert_yaxis()  # shared: best-ranked agent on top in every panel
            if i == 0:  # scenarios head the columns, layers label the rows: narrow panels keep short titles
                axes.set_title(scenario.replace("-to-", "-to-\n"), fontsize=8.5)
            if j == 0:
                axes.set_ylabel(layer.replace("_", " "), fontsize=9.5, fontweight="bold")
            _usd_ticks(axes.xaxis)
            axes.xaxis.set_major_locator(mpl.ticker.MaxNLocator(4))
            if i == len(rows) - 1:
                axes.set_xlabel("P&L per episode (USD)")
        handles: list[Artist] = [Patch(color=COMPONENT_COLOURS[c], label=c) for c in COMPONENTS]
        handles.append(Line2D([], [], color="black", marker="D", linestyle="", markersize=4, label="net"))
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9)
    return figure


def plot_simulation(trace: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``path.png`` (index, VIX), ``greeks.png`` (net delta/gamma/vega/theta) and ``equity.png``
    into ``out_dir``.

    ``trace`` has one row per bar with columns ``bar, date, index, vix, equity, drawdown,
    net_delta, net_gamma, net_vega, net_theta, gross_contracts``. Returns the written paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    panels = [
        [("index", "S&P 500 index (points)"), ("vix", "VIX (vol points)")],
        [
            ("net_delta", "net delta\n(index points)"),
            ("net_gamma", "net gamma\n(per index point)"),
            ("net_vega", "net vega\n(USD per vol point)"),
            ("net_theta", "net theta\n(USD per year)"),
        ],
        [
            ("equity", "equity (USD)"),
            ("drawdown", "drawdown\n(fraction of capital)"),
            ("gross_contracts", "gross contracts"),
        ],
    ]
    span = _date_span(trace)
    paths = []
    for name, columns in zip(SIMULATION_FILES, panels, strict=True):
        figure = _stacked_panels(trace, columns)
        figure.suptitle(f"{name.removesuffix('.png')}{span}", fontsize="medium")
        path = out_dir / name
        figure.savefig(path, dpi=110)
        paths.append(path)
    return paths


def trace_time(trace: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """The time axis of a trace and whether it is dates: timestamps from its ``date`` column (the
    bars of one day spread over the 09:30-16:00 session) when every date parses, else bar numbers.

    >>> times, dated = trace_time(pd.DataFrame({"date": ["2024-01-02", "2024-01-02", "2024-01-03"]}))
    >>> dated, [str(t)[:16] for t in times]
    (True, ['2024-01-02T09:30', '2024-01-02T12:45', '2024-01-03T09:30'])
    """
    if "date" in trace.columns and len(trace):
        dates = pd.to_datetime(pd.Series(trace["date"].to_numpy()), errors="coerce")
        if dates.notna().all():
            within = dates.groupby(dates).cumcount().to_numpy(dtype=float)
            count = dates.groupby(dates).transform("size").to_numpy(dtype=float)
            hours = SESSION_OPEN_HOURS + SESSION_HOURS * within / count
            return (dates + pd.to_timedelta(hours, unit="h")).to_numpy(dtype="datetime64[ns]"), True
    bars = trace["bar"].to_numpy() if "bar" in trace.columns else np.arange(len(trace))
    return np.asarray(bars), False


def usd_short(value: float, span: float | None = None) -> str:
    """``value`` (USD) as a compact dollar amount for an axis tick; ``span`` (the axis range, USD)
    keeps the digits that tell neighbouring ticks apart.

    >>> [usd_short(v) for v in (0.0, -1500.0, 25_000.0, 1_250_000.0, 12.0)]
    ['$0', '-$1.5k', '$25k', '$1.25M', '$12']
    >>> usd_short(1_002_000.0, span=30_000.0), usd_short(1_000_500.0, span=1_500.0)
    ('$1,002k', '$1,000,500')
    """
    size = abs(value)
    sign = "-" if value < 0 else ""
    if span is not None and size >= 1e3 and span < size / 5:
        return f"{sign}${size / 1e3:,.0f}k" if span >= 5e3 else f"{sign}${size:,.0f}"
    if size >= 1e6:
        return f"{sign}${size / 1e6:.3g}M"
    if size >= 1e3:
        return f"{sign}${size / 1e3:.3g}k"
    return f"{sign}${size:.0f}"


def _percent_ticks(axis: Axis) -> None:
    """Fractions shown in percent on ``axis``, with as many decimals as its range needs."""

    def tick(value: float, _: object) -> str:
        low, high = axis.get_view_interval()
        span = 100 * abs(float(high) - float(low))
        decimals = 0 if span >= 8 else 1 if span >= 0.8 else 2
        return f"{100 * value:.{decimals}f}%"

    axis.set_major_formatter(FuncFormatter(tick))


def _usd_ticks(axis: Axis) -> None:
    """Dollar ticks on ``axis`` (:func:`usd_short`), as precise as its range needs."""

    def tick(value: float, _: object) -> str:
        low, high = axis.get_view_interval()
        return usd_short(value, abs(float(high) - float(low)))

    axis.set_major_formatter(FuncFormatter(tick))


def coinciding(traces: Mapping[str, pd.DataFrame], column: str) -> list[list[str]]:
    """Groups (two or more, in trace order) of agents whose ``column`` is the same on every bar of
    their ``traces`` (agent -> a row per bar).

    >>> same = pd.DataFrame({"equity": [1.0, 2.0]})
    >>> coinciding({"a": same, "b": pd.DataFrame({"equity": [1.0, 3.0]}), "c": same}, "equity")
    [['a', 'c']]
    """
    groups: list[list[str]] = []
    for agent, trace in traces.items():
        if column not in trace.columns:
            continue
        values = trace[column].to_numpy(dtype=float)
        for group in groups:
            other = traces[group[0]][column].to_numpy(dtype=float)
            if other.shape == values.shape and np.allclose(
                other, values, rtol=0.0, atol=1e-6, equal_nan=True
            ):
                group.append(agent)
                break
        else:
            groups.append([agent])
    return [group for group in groups if len(group) > 1]


def _layered_widths(groups: list[list[str]], width: float) -> dict[str, float]:
    """Line widths that let coinciding lines show as bands: the first of a group widest."""
    return {agent: width + 1.2 * (len(group) - 1 - k) for group in groups for k, agent in enumerate(group)}


def _risk_rows(summary: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    needed = {"agent", "scenario", *(f"{m}_{f}" for m in (x, y) for f in ("mean", "low", "high"))}
    if summary.empty or not needed <= set(summary.columns):
        return pd.DataFrame(columns=sorted(needed))
    rows = summary[np.isfinite(summary[f"{x}_mean"]) & np.isfinite(summary[f"{y}_mean"])]
    return rows.assign(agent=rows["agent"].astype(str), scenario=rows["scenario"].astype(str))


def _limits(rows: pd.DataFrame, measure: str) -> tuple[float, float]:
    return robust_limits(rows[f"{measure}_mean"], rows[f"{measure}_low"], rows[f"{measure}_high"])


def _risk_panel(
    axes: Axes,
    rows: pd.DataFrame,
    colours: Mapping[str, str],
    x: str,
    y: str,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    marker_size: float,
) -> None:
    """Points with whiskers clipped to the limits; a clipped whisker ends in an arrow head, a point
    outside sits on the edge as an arrow pointing off-scale, with its value written beside it."""
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if ylim[0] < 0 < ylim[1]:
        axes.axhline(0.0, color="black", linewidth=0.7, zorder=1)
    x_label, y_label = measure_label(x), measure_label(y)
    for _, row in rows.iterrows():
        colour = colours[str(row["agent"])]
        px, py = float(row[f"{x}_mean"]), float(row[f"{y}_mean"])
        cx, cy = float(np.clip(px, *xlim)), float(np.clip(py, *ylim))
        for low, high, horizontal in (
            (row[f"{x}_low"], row[f"{x}_high"], True),
            (row[f"{y}_low"], row[f"{y}_high"], False),
        ):
            limits = xlim if horizontal else ylim
            if not (np.isfinite(low) and np.isfinite(high)) or (cx != px or cy != py):
                continue
            a, b = float(np.clip(low, *limits)), float(np.clip(high, *limits))
            segment = ([a, b], [cy, cy]) if horizontal else ([cx, cx], [a, b])
            axes.plot(*segment, color=colour, linewidth=1.4, alpha=0.8, zorder=2, solid_capstyle="butt")
            for end, clipped, head in (
                (a, low < limits[0], "<" if horizontal else "v"),
                (b, high > limits[1], ">" if horizontal else "^"),
            ):
                if clipped:
                    where = (end, cy) if horizontal else (cx, end)
                    axes.plot(*where, marker=head, color=colour, markersize=5, clip_on=False, zorder=2)
        if cx == px and cy == py:
            axes.plot(px, py, "o", color=colour, markersize=marker_size, markeredgecolor="white", zorder=4)
            continue
        head = ">" if px > xlim[1] else "<" if px < xlim[0] else "^" if py > ylim[1] else "v"
        axes.plot(cx, cy, marker=head, color=colour, markersize=marker_size + 2, clip_on=False, zorder=4)
        note = f"off scale: {x_label.format(px)}, {y_label.format(py)}"
        inward = (-6 if head == ">" else 6, -10 if head == "^" else 6)
        axes.annotate(
            note,
            (cx, cy),
            xytext=inward,
            textcoords="offset points",
            fontsize=7.5,
            color=colour,
            ha="right" if head == ">" else "left",
            annotation_clip=False,
        )


def _label_risk_axes(axes: Axes, x: str, y: str, left: bool, bottom: bool, hint: bool = True) -> None:
    for measure, axis, shown, set_label in (
        (x, axes.xaxis, bottom, axes.set_xlabel),
        (y, axes.yaxis, left, axes.set_ylabel),
    ):
        label = measure_label(measure)
        if label.percent:
            _percent_ticks(axis)
        elif label.unit == "USD":
            _usd_ticks(axis)
        if shown:
            set_label(label.heading)
    if hint:
        axes.annotate(
            "better: up and to the left",
            (0.01, 0.99),
            xycoords="axes fraction",
            ha="left",
            va="top",
            fontsize=8,
            color="#555555",
        )


def _mark_peak(axes: Axes, trace: pd.DataFrame, colour: str) -> None:
    """Label the peak of a guard-off agent's gross contracts with its size and spiral index."""
    gross = trace["gross_contracts"].to_numpy(dtype=float)
    if not len(gross) or not np.isfinite(gross).any():
        return
    peak = int(np.nanargmax(gross))
    time, _ = trace_time(trace)
    start = gross[0] if gross[0] > 0 else np.nan
    times = f", {gross[peak] / start:.1f}× the start" if np.isfinite(start) else ""
    axes.annotate(
        f"spiral: {gross[peak]:,.0f} contracts{times}",
        (time[peak], gross[peak]),
        xytext=(-8, -2),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=8.5,
        color=colour,
        fontweight="bold",
    )


def _time_labels(axes: Axes, trace: pd.DataFrame) -> None:
    """Dates on the shared time axis when the trace has them (concise month/day ticks), else bars."""
    _, dated = trace_time(trace)
    if dated:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes.set_xlabel("date")
    else:
        axes.set_xlabel("bar (decision step)")


def _stacked_panels(trace: pd.DataFrame, columns: list[tuple[str, str]]) -> Figure:
    """One panel per ``(column, label)`` of ``trace`` sharing the time axis."""
    figure = Figure(figsize=(7.0, 0.6 + 1.7 * len(columns)), layout="constrained")
    grid = figure.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0]
    time, _ = trace_time(trace)
    for axes, (column, label) in zip(grid, columns, strict=True):
        if column in trace.columns:
            axes.plot(time, trace[column], color=AGENT_PALETTE[0], linewidth=1.0)
        axes.set_ylabel(label, fontsize="small")
        axes.grid(alpha=0.3)
    _time_labels(grid[-1], trace)
    return figure


def _wrap_label(label: str) -> str:
    """Put a parenthesised note on its own line, so long labels stay narrow."""
    name, bracket, rest = label.partition(" (")
    return f"{name}\n({rest}" if bracket else label


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
