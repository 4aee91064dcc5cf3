"""The evaluation report: one self-contained HTML file with every figure and the measures table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from thetagym.report import FIGURE_IDS, render_report
from thetagym.report.html import format_number

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


METADATA = {"seeds": "0..7", "confidence": 0.95, "date": "2024-06-01"}


def render(
    tmp_path: Path, summary: pd.DataFrame, episodes: pd.DataFrame, traces: dict[str, pd.DataFrame]
) -> str:
    path = render_report(
        summary,
        episodes,
        traces,
        tmp_path / "report.html",
        "Test comparison",
        METADATA,
    )
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory, summary, episodes, traces) -> str:
    return render(tmp_path_factory.mktemp("report"), summary, episodes, traces)


def test_report_parses_and_holds_every_figure(report_html: str) -> None:
    html = report_html
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


def test_report_is_self_contained(report_html: str) -> None:
    html = report_html
    parser = _Collector()
    parser.feed(html)
    external = [ref for ref in parser.references if re.match(r"(https?:)?//", ref)]
    assert external == []
    assert "<script src" not in html and "<link" not in html


def test_measures_table_lists_every_agent_scenario_and_measure(report_html: str, summary) -> None:
    html = report_html
    table = re.search(r'<table id="measures-table">(.*?)</table>', html, flags=re.S)
    assert table is not None
    text = table.group(1)
    for name in (*AGENTS, *SCENARIOS, *MEASURES):
        assert name.replace("_", " ") in text or name in text, name
    theta = summary.loc[(summary["agent"] == AGENTS[0]) & (summary["scenario"] == SCENARIOS[0])]
    assert format_number(theta["theta_capture_mean"].iloc[0]) in text


def test_missing_data_gives_a_note_not_an_error(tmp_path: Path, summary, episodes) -> None:
    html = render(
        tmp_path, summary, episodes.drop(columns=[c for c in episodes if c.startswith("attr_")]), {}
    )
    parser = _Collector()
    parser.feed(html)
    for figure_id in FIGURE_IDS:
        assert figure_id in parser.ids


def test_report_is_well_formed_xml(report_html: str) -> None:
    root = ET.fromstring(report_html.removeprefix("<!DOCTYPE html>\n"))
    assert root.tag == "html"


def test_element_ids_are_unique_across_inline_svgs(report_html: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', report_html)
    assert len(ids) == len(set(ids))


def test_header_shows_metadata_version_and_how_to_read(report_html: str) -> None:
    for expected in ("Test comparison", "0..7", "thetagym 0.1.0", "How to read this"):
        assert expected in report_html


def test_missing_measures_are_skipped_not_fatal(tmp_path: Path, summary) -> None:
    partial = summary[["agent", "scenario", "rolls_mean", "rolls_low", "rolls_high"]]
    html = render_report(partial, pd.DataFrame(), {}, tmp_path / "r.html", "Partial", {}).read_text()
    assert html.count('class="missing"') == len(FIGURE_IDS)
    table = html.split('<table id="measures-table">', 1)[1]
    assert "rolls" in table and "theta_capture" not in table


def test_same_inputs_give_the_same_report(
    tmp_path: Path, report_html: str, summary, episodes, traces
) -> None:
    assert render(tmp_path, summary, episodes, traces) == report_html
