"""The files of an evaluation's output folder.

The folder itself is claimed, locked, staged and marked complete by
:class:`thetagym.outputs.OutputFolder`; the writers here write into its staging folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from thetagym.config import dump
from thetagym.evaluate.bootstrap import nest_summary
from thetagym.evaluate.config import EvaluationConfig
from thetagym.evaluate.leaderboard import leaderboard_json
from thetagym.evaluate.runner import EvaluationResult
from thetagym.evaluate.summary import CONFIDENCE, nest_paired
from thetagym.outputs import dumps_json
from thetagym.report import render_report

EPISODES_FILE = "episodes.csv"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
PAIRED_CSV = "paired.csv"
TRACES_FILE = "traces.csv"
REPORT_FILE = "report.html"
CONFIG_FILE = "config.yaml"
OUTPUT_FILES = (EPISODES_FILE, SUMMARY_CSV, SUMMARY_JSON, PAIRED_CSV, TRACES_FILE, REPORT_FILE, CONFIG_FILE)


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """Write a CSV with full float precision (so equal runs give byte-equal files)."""
    table.to_csv(path, index=False, float_format="%.17g")
    return path


def write_json(data: Any, path: Path) -> Path:
    """Write strict JSON (NaN and infinities as ``null``), indented."""
    path.write_text(dumps_json(data) + "\n")
    return path


def summary_json(result: EvaluationResult, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """``summary.json`` of ``result``: agent -> scenario (``pooled`` included) -> measure -> ``{mean,
    low, high, n}``, plus the ``paired`` differences against the baseline (intervals at
    ``confidence``) and the ``leaderboard`` of every scenario."""
    nested = nest_summary(result.summary)
    nested["paired"] = nest_paired(result.paired, result.baseline, result.headline, confidence)
    nested["leaderboard"] = leaderboard_json(result.leaderboards)
    return nested


def write_evaluation(
    result: EvaluationResult,
    config: EvaluationConfig,
    out: Path,
    title: str,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write every output of ``result`` and the resolved ``config`` into ``out``; return the
    report's path. ``title`` heads the report; ``metadata`` (name -> value) is listed under it."""

    write_table(result.episodes, out / EPISODES_FILE)
    write_table(result.summary, out / SUMMARY_CSV)
    write_table(result.paired, out / PAIRED_CSV)
    write_json(summary_json(result), out / SUMMARY_JSON)
    traces = [trace.assign(agent=agent) for agent, trace in result.traces.items()]
    if traces:
        write_table(pd.concat(traces, ignore_index=True), out / TRACES_FILE)
    (out / CONFIG_FILE).write_text(dump(config))
    info = {
        "agents": ", ".join(result.episodes["agent"].unique()),
        "scenarios": ", ".join(result.episodes["scenario"].unique()),
        "episodes": len(result.episodes),
        "representative_path": result.representative_path,
        "confidence": CONFIDENCE,
        **(metadata or {}),
    }
    return Path(render_report(result, out / REPORT_FILE, title, info))
