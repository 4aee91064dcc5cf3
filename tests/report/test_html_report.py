"""The evaluation report: one self-contained, well-formed HTML file that leads with who wins."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from thetagym.evaluate.leaderboard import BEHIND, WINNER
from thetagym.evaluate.runner import EvaluationResult
from thetagym.evaluate.summary import POOLED
from thetagym.measures import measure_label
from thetagym.report import FIGURE_IDS, render_report

from .conftest import AGENTS, GUARD_OFF, SCENARIOS, make_episodes, make_result, make_traces

METADATA = {"seeds": "0..9", "confidence": 0.95, "date": "2024-06-01"}


def render(tmp_path: Path, result: EvaluationResult, name: str = "report.html") -> str:
    return render_report(result, tmp_path / name, "Test comparison", METADATA).read_text(encoding="utf-8")


def parse(html: str) -> ET.Element:
    """The report as an XML tree (it must be well-formed)."""
    return ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))


def by_id(root: ET.Element, element_id: str) -> ET.Element:
    found = root.find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def child(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, path
    return found


def text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def board_rows(root: ET.Element, scenario: str) -> list[ET.Element]:
    """The rows of a scenario's leaderboard table, top to bottom."""
    return by_id(root, f"leaderboard-{scenario}").findall("./tbody/tr")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory, result: EvaluationResult) -> str:
    return render(tmp_path_factory.mktemp("report"), result)


@pytest.fixture(scope="module")
def clear_win() -> EvaluationResult:
    """Agent ``a`` earns far more than ``b`` and ``c`` on the same paths."""
    return make_result(make_episodes({"a": 0.003, "b": 0.0, "c": -0.0005}, seeds=8))


@pytest.fixture(scope="module")
def two_tie() -> EvaluationResult:
    """Agents ``a`` and ``b`` have the same drift; ``c`` is far behind."""
    return make_result(make_episodes({"a": 0.0005, "b": 0.0005, "c": -0.003}, seeds=8))


def test_report_is_well_formed_and_holds_every_figure_and_the_leaderboard(report_html: str) -> None:
    root = parse(report_html)
    assert root.tag == "html"
    for figure_id in FIGURE_IDS:
        figure = by_id(root, figure_id)
        assert figure.find("svg") is not None or figure.find("{http://www.w3.org/2000/svg}svg") is not None, (
            figure_id
        )
    leaderboard = by_id(root, "leaderboard")
    for scenario in (POOLED, *SCENARIOS):
        assert len(board_rows(root, scenario)) == len(AGENTS), scenario
    body = report_html
    assert body.index('id="leaderboard"') < min(body.index(f'id="{f}"') for f in FIGURE_IDS)
    assert "answer" in {element.get("id") for element in leaderboard.iter()}


def test_report_is_self_contained(report_html: str) -> None:
    references = re.findall(r'(?:src|href)="([^"]+)"', report_html)
    assert references and all(ref.startswith("#") for ref in references)
    assert "<script" not in report_html and "<link" not in report_html


def test_element_ids_are_unique_across_inline_svgs(report_html: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', report_html)
    assert len(ids) == len(set(ids))


def test_leaderboard_rows_follow_the_rank_and_the_headline_mean(
    result: EvaluationResult, report_html: str
) -> None:
    root = parse(report_html)
    for scenario, board in result.leaderboards.items():
        shown = [row.get("data-agent") for row in board_rows(root, scenario)]
        assert shown == list(board.table.sort_values("rank")["agent"]), scenario
        means = result.summary[result.summary["scenario"] == scenario].set_index("agent")["sharpe_mean"]
        assert list(means[shown]) == sorted(means[shown], reverse=True), scenario


def test_a_winner_is_marked_only_where_the_paired_interval_excludes_zero(
    tmp_path: Path, result: EvaluationResult, clear_win: EvaluationResult, two_tie: EvaluationResult
) -> None:
    for name, evaluation in (("mixed", result), ("win", clear_win), ("tie", two_tie)):
        root = parse(render(tmp_path, evaluation, f"{name}.html"))
        for scenario, board in evaluation.leaderboards.items():
            table = board.table.sort_values("rank")
            excluded = bool((table["vs_leader_high"].iloc[1:] < 0).all())
            marked = [
                row.get("data-agent")
                for row in board_rows(root, scenario)
                if "winner" in row.get("class", "")
            ]
            assert marked == ([table["agent"].iloc[0]] if excluded else []), (name, scenario)
            badges = [
                text(b)
                for b in by_id(root, f"leaderboard-{scenario}").iter()
                if "badge" in b.get("class", "")
            ]
            assert ("winner" in badges) == excluded, (name, scenario)


def test_a_clear_winner_is_named_in_the_opening_sentence(tmp_path: Path, clear_win: EvaluationResult) -> None:
    board = clear_win.leaderboards[POOLED]
    assert board.winner == "a"
    assert (board.table["vs_leader_high"].iloc[1:] < 0).all()
    root = parse(render(tmp_path, clear_win))
    answer = text(by_id(root, "answer"))
    assert answer.startswith("a wins on Sharpe ratio pooled over calm and crash")
    assert "tie" not in answer
    top = board_rows(root, POOLED)[0]
    assert top.get("data-agent") == "a" and WINNER in top.get("class", "").split()


def test_a_tie_is_called_a_tie_and_names_the_tied_agents(tmp_path: Path, two_tie: EvaluationResult) -> None:
    board = two_tie.leaderboards[POOLED]
    assert board.winner is None
    second = board.table.sort_values("rank").iloc[1]
    assert second["vs_leader_low"] < 0 < second["vs_leader_high"]
    root = parse(render(tmp_path, two_tie))
    answer = text(by_id(root, "answer"))
    assert answer.startswith("No winner: a tie on Sharpe ratio")
    tied = list(board.table.loc[board.table["standing"] != BEHIND, "agent"])
    assert sorted(tied) == ["a", "b"]
    assert f"{tied[0]} has the highest mean" in answer
    assert f"its difference with {tied[1]} includes zero" in answer
    assert all("winner" not in row.get("class", "") for row in board_rows(root, POOLED))


def test_leaderboard_shows_intervals_paired_differences_money_and_size(
    result: EvaluationResult, report_html: str
) -> None:
    root = parse(report_html)
    board = result.leaderboards[POOLED]
    header = text(child(by_id(root, f"leaderboard-{POOLED}"), "thead"))
    for measure in ("sharpe", "pnl", "premium_sold", "volatility", "cvar_5"):
        assert measure_label(measure).name in header, measure
    assert f"vs {result.baseline}" in header and "paired difference" in header
    row = next(r for r in board_rows(root, POOLED) if r.get("data-agent") == AGENTS[1])
    record = board.table.set_index("agent").loc[AGENTS[1]]
    sharpe, pnl = measure_label("sharpe"), measure_label("pnl")
    shown = text(row)
    assert f"[{sharpe.format(record['sharpe_low'])}, {sharpe.format(record['sharpe_high'])}]" in shown
    assert (
        f"[{sharpe.format(record['vs_baseline_low'])}, {sharpe.format(record['vs_baseline_high'])}]" in shown
    )
    assert pnl.format(record["pnl_mean"]) in shown
    assert measure_label("premium_sold").format(record["premium_sold_mean"]) in shown


def test_guard_off_agents_are_labelled_as_a_demonstration(report_html: str) -> None:
    root = parse(report_html)
    for scenario in (POOLED, *SCENARIOS):
        for row in board_rows(root, scenario):
            labelled = "(guard off, demonstration)" in text(row)
            assert labelled == (row.get("data-agent") in GUARD_OFF), (scenario, row.get("data-agent"))
    legend = text(by_id(root, "risk-return"))
    assert f"{GUARD_OFF[0]} (guard off, demonstration)" in legend


def test_measures_tables_use_human_labels_grouped_and_every_agent_and_scenario(
    result: EvaluationResult, report_html: str
) -> None:
    root = parse(report_html)
    measures = by_id(root, "measures")
    tables = [t for t in measures.iter() if t.get("class") == "measures"]
    assert len(tables) >= 3 * (1 + len(SCENARIOS))
    headings = [text(th) for t in tables for th in child(t, "thead").iter("th")]
    assert not [h for h in headings if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]
    for measure in ("sharpe", "premium_sold", "theta_capture", "max_drawdown", "spiral_index"):
        assert any(h.startswith(measure_label(measure).name) for h in headings), measure
    assert all(len(child(t, "thead").findall(".//th")) <= 7 for t in tables)
    whole = text(measures)
    for name in (*AGENTS, *SCENARIOS):
        assert name in whole, name
    pooled = by_id(root, "measures-pooled-risk-adjusted-return")
    agents = [row.get("data-agent") for row in pooled.findall("./tbody/tr")]
    assert agents == list(result.leaderboards[POOLED].table.sort_values("rank")["agent"])


def test_traces_with_dates_give_date_axes_and_without_dates_bar_axes(tmp_path: Path, episodes) -> None:
    dated = parse(render(tmp_path, make_result(episodes, make_traces(), GUARD_OFF), "dated.html"))
    undated = parse(render(tmp_path, make_result(episodes, make_traces(dated=False), GUARD_OFF), "bars.html"))
    for figure_id in ("spiral", "equity-drawdown"):
        assert re.search(r"\bJan\b", text(by_id(dated, figure_id))) and "date" in text(
            by_id(dated, figure_id)
        )
        assert "bar (decision step)" in text(by_id(undated, figure_id))
        assert not re.search(r"\bJan\b", text(by_id(undated, figure_id)))


def test_spiral_figure_falls_back_to_the_representative_path(tmp_path: Path, episodes) -> None:
    result = make_result(episodes, make_traces())
    assert not result.guard_off and not result.spiral_traces
    root = parse(render(tmp_path, result))
    assert "no agent ran with the guard off" in text(by_id(root, "spiral"))
    assert "svg" in by_id(root, "spiral")[0].tag


def test_missing_data_gives_notes_not_errors(tmp_path: Path, result: EvaluationResult) -> None:
    partial = replace(
        result,
        episodes=result.episodes[["agent", "scenario", "seed", "pnl"]],
        summary=result.summary[["agent", "scenario", "rolls_mean", "rolls_low", "rolls_high", "rolls_n"]],
        traces={},
        spiral_traces={},
        leaderboards={},
    )
    root = parse(render(tmp_path, partial))
    for figure_id in FIGURE_IDS:
        assert child(by_id(root, figure_id), "p").get("class") == "missing"
    assert "No leaderboard" in text(by_id(root, "leaderboard"))
    measures = text(by_id(root, "measures"))
    assert "Rolls" in measures and "Theta capture" not in measures


def test_header_shows_metadata_version_and_how_to_read(report_html: str) -> None:
    for expected in ("Test comparison", "0..9", "thetagym 0.1.0", "How to read this"):
        assert expected in report_html


def test_same_inputs_give_the_same_report(tmp_path: Path, report_html: str, result: EvaluationResult) -> None:
    assert render(tmp_path, result) == report_html


def test_a_single_scenario_has_no_pooled_board_and_no_small_multiples(tmp_path: Path) -> None:
    single = make_result(make_episodes({"a": 0.001, "b": 0.0}, scenarios=("calm",), seeds=6))
    assert list(single.leaderboards) == ["calm"]
    root = parse(render(tmp_path, single))
    assert "in calm" in text(by_id(root, "answer"))
    assert by_id(root, "risk-return").find("p") is None
    assert child(by_id(root, "risk-return-scenarios"), "p").get("class") == "missing"


def test_summary_without_agents_is_refused(tmp_path: Path, result: EvaluationResult) -> None:
    with pytest.raises(ValueError, match="'agent' column"):
        render_report(
            replace(result, summary=pd.DataFrame({"x": [1.0]})), tmp_path / "r.html", "Bad", METADATA
        )
