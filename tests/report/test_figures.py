"""Figures of a ``simulate`` trace, and the attribution table behind the report's bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from thetagym.report import agent_colours, attribution_table, plot_simulation

from .conftest import AGENTS, COMPONENTS, LAYERS


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
    row = table[(table["agent"] == episodes["agent"].iloc[0]) & (table["layer"] == LAYERS[0])]
    row = row[(row["component"] == "theta") & (row["scenario"] == episodes["scenario"].iloc[0])]
    expected = episodes[
        (episodes["agent"] == episodes["agent"].iloc[0])
        & (episodes["scenario"] == episodes["scenario"].iloc[0])
    ][f"attr_{LAYERS[0]}_theta"].mean()
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
