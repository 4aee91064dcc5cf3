"""Figures of the report and of a ``simulate`` trace: colours, robust axes, date axes, attribution."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from thetagym.evaluate.summary import POOLED
from thetagym.report import agent_colours, attribution_table, figures, plot_simulation
from thetagym.report.figures import AGENT_PALETTE, COMPONENT_COLOURS, robust_limits

from .conftest import AGENTS, COMPONENTS, GUARD_OFF, LAYERS, make_traces


def tick_labels(figure: Figure, axes_index: int = -1, axis: str = "x") -> list[str]:
    figure.draw_without_rendering()
    axes = [a for a in figure.axes if a.get_visible()][axes_index]
    labels = axes.get_xticklabels() if axis == "x" else axes.get_yticklabels()
    return [label.get_text() for label in labels]


def test_plot_simulation_writes_its_three_pngs(tmp_path: Path, traces: dict[str, pd.DataFrame]) -> None:
    trace = next(iter(traces.values()))
    paths = plot_simulation(trace, tmp_path / "plots")
    assert [p.name for p in paths] == ["path.png", "greeks.png", "equity.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5_000


def test_attribution_table_averages_episode_columns(episodes: pd.DataFrame, traces) -> None:
    table = attribution_table(episodes, traces)
    assert set(table["layer"]) == set(LAYERS)
    assert set(table["component"]) == set(COMPONENTS)
    agent, scenario = episodes["agent"].iloc[0], episodes["scenario"].iloc[0]
    row = table[(table["agent"] == agent) & (table["layer"] == LAYERS[0])]
    row = row[(row["component"] == "theta") & (row["scenario"] == scenario)]
    expected = episodes[(episodes["agent"] == agent) & (episodes["scenario"] == scenario)][
        f"attr_{LAYERS[0]}_theta"
    ].mean()
    assert np.isclose(float(row["pnl"].iloc[0]), expected)


def test_attribution_falls_back_to_the_trace_sums(episodes: pd.DataFrame, traces) -> None:
    table = attribution_table(episodes[["agent", "scenario", "pnl"]], traces)
    assert set(table["scenario"]) == {"representative path"}
    row = table[
        (table["agent"] == AGENTS[0]) & (table["layer"] == "put_wing") & (table["component"] == "theta")
    ]
    assert np.isclose(float(row["pnl"].iloc[0]), traces[AGENTS[0]]["pnl_put_wing_theta"].sum())


def test_attribution_is_empty_without_attribution_columns() -> None:
    assert attribution_table(pd.DataFrame({"agent": ["a"], "pnl": [1.0]}), {}).empty


def test_agent_colours_are_distinct_and_keep_their_order() -> None:
    colours = agent_colours(AGENTS)
    assert list(colours) == list(AGENTS)
    assert len(set(colours.values())) == len(AGENTS)
    assert agent_colours([*AGENTS, "extra"])[AGENTS[1]] == colours[AGENTS[1]]
    many = agent_colours(f"agent-{i}" for i in range(len(AGENT_PALETTE)))
    assert len(set(many.values())) == len(AGENT_PALETTE)


def test_component_colours_are_disjoint_from_every_agent_colour() -> None:
    agents = set(agent_colours(f"agent-{i}" for i in range(3 * len(AGENT_PALETTE))).values())
    components = {mpl.colors.to_hex(c) for c in COMPONENT_COLOURS.values()}
    assert len(components) == len(COMPONENTS)
    assert not agents & components


def test_attribution_bars_are_drawn_in_component_colours_only(episodes: pd.DataFrame, traces) -> None:
    colours = agent_colours(AGENTS)
    figure = figures.attribution(attribution_table(episodes, traces), colours, {}, list(AGENTS))
    assert figure is not None
    faces = {mpl.colors.to_hex(p.get_facecolor()) for axes in figure.axes for p in axes.patches}
    assert faces and faces <= set(COMPONENT_COLOURS.values())
    assert not faces & set(colours.values())
    layers = [axes.get_ylabel() for axes in figure.axes if axes.get_ylabel()]
    assert not [t for t in layers if "hedge" in t], "a layer without P&L gets no panel"
    assert any("all layers" in t for t in layers)


def test_robust_limits_leave_out_a_far_outlier_and_keep_the_rest() -> None:
    low, high = robust_limits([0.10, 0.12, 0.15, 0.11, 3.0])
    assert low < 0.10 and 0.15 < high < 0.5
    assert robust_limits([0.0, 1.0, 2.0, 3.0]) == pytest.approx((-0.24, 3.24))


def test_robust_limits_cut_long_whiskers_but_keep_short_ones() -> None:
    low, high = robust_limits([1.0, 2.0, 3.0], lows=[0.8, 1.9, -50.0], highs=[1.2, 2.1, 3.2])
    assert -1.0 < low < 0.8 and 3.2 < high < 4.0
    clustered = robust_limits([0.124, 0.125, 0.126], lows=[0.115, 0.118, 0.117], highs=[0.133, 0.134, 0.135])
    assert clustered[0] < 0.115 and clustered[1] > 0.135


def test_risk_return_marks_an_off_scale_point_at_the_edge(summary: pd.DataFrame) -> None:
    colours = agent_colours(AGENTS)
    outlier = summary.copy()
    far = (outlier["agent"] == AGENTS[-1]) & (outlier["scenario"] == POOLED)
    outlier.loc[far, ["volatility_mean", "volatility_low", "volatility_high"]] = [40.0, 39.0, 41.0]
    figure = figures.risk_return(outlier, colours, {})
    assert figure is not None
    axes = figure.axes[0]
    assert axes.get_xlim()[1] < 5.0
    notes = [t.get_text() for t in axes.texts if t.get_text().startswith("off scale")]
    assert notes == ["off scale: 4000.0%, " + notes[0].split(", ")[1]]
    assert axes.get_xlabel() == "Volatility (%/yr)" and axes.get_ylabel() == "Sharpe ratio (annualised)"


def test_risk_return_has_a_panel_per_scenario_sharing_the_headline_axis(summary: pd.DataFrame) -> None:
    figure = figures.risk_return_by_scenario(summary, agent_colours(AGENTS))
    assert figure is not None
    panels = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in panels] == ["calm", "crash"]
    assert panels[0].get_ylim() == panels[1].get_ylim()
    assert (
        figures.risk_return_by_scenario(summary[summary["scenario"] == "calm"], agent_colours(AGENTS)) is None
    )


def test_trace_time_axes_show_dates_when_the_trace_has_them() -> None:
    colours = agent_colours(AGENTS)
    for build in (
        lambda t: figures.spiral(t, colours, {}, GUARD_OFF),
        lambda t: figures.equity_and_drawdown(t, colours, {}),
    ):
        dated = build(make_traces())
        labels = tick_labels(dated)
        assert any(re.fullmatch(r"Jan|Feb", label) for label in labels), labels
        assert dated.axes[-1].get_xlabel() == "date"
        bars = build(make_traces(dated=False))
        labels = tick_labels(bars)
        assert all(re.fullmatch(r"[−-]?\d+", label) for label in labels if label), labels
        assert bars.axes[-1].get_xlabel() == "bar (decision step)"


def test_trace_time_spreads_a_day_s_bars_over_the_session() -> None:
    trace = make_traces()[AGENTS[0]]
    times, dated = figures.trace_time(trace)
    assert dated and len(times) == len(trace)
    assert (np.diff(times.astype("int64")) > 0).all()
    assert str(times[0])[:16] == f"{trace['date'].iloc[0]}T09:30"


def test_spiral_marks_the_guard_off_peak_and_labels_every_axis_with_a_unit() -> None:
    traces = make_traces()
    figure = figures.spiral(traces, agent_colours(AGENTS), {}, GUARD_OFF)
    assert figure is not None
    gross = traces[GUARD_OFF[0]]["gross_contracts"]
    peak, start = gross.max(), gross.iloc[0]
    notes = [t.get_text() for t in figure.axes[0].texts]
    assert notes == [f"spiral: {peak:,.0f} contracts, {peak / start:.1f}× the start"]
    labels = [a.get_ylabel() for a in figure.axes]
    assert all("(" in label for label in labels), labels


def test_coinciding_lines_are_found_and_drawn_as_bands() -> None:
    traces = make_traces(("a", "b", "c"))
    traces["c"] = traces["a"].copy()
    assert figures.coinciding(traces, "equity") == [["a", "c"]]
    figure = figures.equity_and_drawdown(traces, agent_colours(traces), {})
    assert figure is not None
    widths = [line.get_linewidth() for line in figure.axes[0].lines]
    assert widths[0] > widths[2] and widths[1] == widths[2]
