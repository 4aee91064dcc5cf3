"""The evaluation report: one self-contained HTML file with every figure and the measures table."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from thetagym.report import FIGURE_IDS, render_report

from .conftest import AGENTS, MEASURES, SCENARIOS

VOID_TAGS = frozenset(
    ("meta", "br", "img", "hr", "input", "link", "path", "use", "rect", "circle", "line", "polyline", "stop")
)
"""Tags that never close (HTML void elements and SVG shapes written self-closing)."""


class _Collector(HTMLParser):
    """Collects element ids, external references and table text, checking tags close in order."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[str] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for key in ("src", "href", "xlink:href"):
            if values.get(key):
                self.references.append(str(values[key]))
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(
    tmp_path: Path, summary: pd.DataFrame, episodes: pd.DataFrame, traces: dict[str, pd.DataFrame]
) -> str:
    path = render_report(
        summary,
        episodes,
        traces,
        tmp_path / "report.html",
        "Test comparison",
        {"seeds": "0..7", "confidence": 0.95},
    )
    return path.read_text(encoding="utf-8")


def test_report_parses_and_holds_every_figure(tmp_path: Path, summary, episodes, traces) -> None:
    html = render(tmp_path, summary, episodes, traces)
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert not parser.open, f"unclosed tags: {parser.open}"
    assert {"theta-vs-drawdown", "equity-drawdown", "gross-contracts", "attribution"} <= set(FIGURE_IDS)
    for figure_id in FIGURE_IDS:
        assert figure_id in parser.ids
        block = re.search(rf'<figure id="{figure_id}">(.*?)</figure>', html, flags=re.S)
        assert block is not None and "<svg" in block.group(1), figure_id
    assert "measures-table" in parser.ids


def test_report_is_self_contained(tmp_path: Path, summary, episodes, traces) -> None:
    html = render(tmp_path, summary, episodes, traces)
    parser = _Collector()
    parser.feed(html)
    external = [ref for ref in parser.references if re.match(r"(https?:)?//", ref)]
    assert external == []
    assert "<script src" not in html and "<link" not in html


def test_measures_table_lists_every_agent_scenario_and_measure(
    tmp_path: Path, summary, episodes, traces
) -> None:
    html = render(tmp_path, summary, episodes, traces)
    table = re.search(r'<table id="measures-table">(.*?)</table>', html, flags=re.S)
    assert table is not None
    text = table.group(1)
    for name in (*AGENTS, *SCENARIOS, *MEASURES):
        assert name.replace("_", " ") in text or name in text, name
    theta = summary.loc[(summary["agent"] == AGENTS[0]) & (summary["scenario"] == SCENARIOS[0])]
    assert f"{float(theta['theta_capture_mean'].iloc[0]):.3g}"[:4] in text


def test_missing_data_gives_a_note_not_an_error(tmp_path: Path, summary, episodes) -> None:
    html = render(
        tmp_path, summary, episodes.drop(columns=[c for c in episodes if c.startswith("attr_")]), {}
    )
    parser = _Collector()
    parser.feed(html)
    for figure_id in FIGURE_IDS:
        assert figure_id in parser.ids
