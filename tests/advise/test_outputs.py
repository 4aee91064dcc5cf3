"""The advice as the command writes it: terminal report, one strict JSON object, a self-contained
HTML page; and the benchmark's book."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.advise.conftest import EXAMPLES, LARGE_ENV, ROOT, SELLOFF, make_advisor
from thetagym.advise import CsvBroker
from thetagym.advise.benchmark import sized_config
from thetagym.advise.render import advice_json, html_report, terminal_report
from thetagym.advise.stress import HISTORICAL_SHOCKS
from thetagym.env.config import load_env_config


def small_advice():  # type: ignore[no-untyped-def]
    return make_advisor("naive_rebalancer").advise(CsvBroker(EXAMPLES / "small_book.csv", SELLOFF))


def test_terminal_report_has_every_section() -> None:
    text = terminal_report(small_advice())
    for heading in (
        "Book by layer (3 legs)",
        "Margin: equity $",
        "Margin call at:",
        "Stress",
        "Actions",
        "Book after",
    ):
        assert heading in text
    for shock in HISTORICAL_SHOCKS:
        assert shock.name in text
    assert "call_wing  open         rule 3: adds short contracts to the opposite wing" in text


def test_json_is_one_strict_object_and_html_one_well_formed_page() -> None:
    advice = small_advice()
    data = json.loads(advice_json(advice))
    assert data["agent"] == "naive_rebalancer" and len(data["today"]["legs"]) == 3
    assert data["actions"][1]["blocking_rules"] == [3]
    page = html_report(advice)
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    assert {"actions", "risk", "stress", "after", "legs"} <= ids
    assert "http" not in page.replace("http-equiv", "")  # nothing loaded from elsewhere


def test_command_prints_json_and_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "advice"
    command = [
        sys.executable,
        "-m",
        "thetagym",
        "advise",
        "--book",
        str(EXAMPLES / "small_book.csv"),
        "--market",
        str(SELLOFF),
        "--agent",
        "configs/rules/dynamic_exposure.yaml",
        "--out",
        str(out),
    ]
    done = subprocess.run([*command, "--json"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [part["advised"] for part in data["actions"][:2]] == ["roll_closer", "hold"]
    assert {p.name for p in out.iterdir()} == {"advice.json", "advice.html", "complete.json"}
    assert json.loads((out / "advice.json").read_text()) == data
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "--force" in again.stderr


def test_benchmark_book_has_the_legs_asked_for() -> None:
    config = sized_config(load_env_config(LARGE_ENV), 500)
    opened = sum(
        layer.standard_leg_count * layer.rungs for layer in config.book.layers if layer.open_at_reset
    )
    assert 500 <= opened < 510
    assert all(layer.open_size <= layer.max_contracts for layer in config.book.layers)
