"""The output folder of an evaluation: choosing it, guarding it, and writing the files.

An existing folder that holds anything is refused unless ``force`` is given; even then only the
files this module writes (:data:`OUTPUT_FILES`) are replaced, and nothing else is deleted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from thetagym.config import ConfigError, dump
from thetagym.evaluate.bootstrap import nest_summary
from thetagym.evaluate.config import EvaluationConfig
from thetagym.evaluate.leaderboard import leaderboard_json
from thetagym.evaluate.runner import EvaluationResult
from thetagym.evaluate.summary import CONFIDENCE, nest_paired
from thetagym.report import render_report

EPISODES_FILE = "episodes.csv"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
PAIRED_CSV = "paired.csv"
TRACES_FILE = "traces.csv"
REPORT_FILE = "report.html"
CONFIG_FILE = "config.yaml"
REPORTS_FOLDER = Path("reports")
"""Where outputs go when no folder is given (relative to the working directory)."""
OUTPUT_FILES = (EPISODES_FILE, SUMMARY_CSV, SUMMARY_JSON, PAIRED_CSV, TRACES_FILE, REPORT_FILE, CONFIG_FILE)


def prepare_output(path: Path, force: bool) -> Path:
    """Create ``path``; refuse a non-empty existing folder (or a file) unless ``force``."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: output path exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ConfigError(
            f"{path}: output folder exists and is not empty; choose another --out, "
            "or pass --force to replace the evaluation files in it (other files are kept)"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh_folder(stem: Path) -> Path:
    """``stem`` if it does not exist yet, else ``stem-2``, ``stem-3``, ... (the first that does not).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     (Path(root) / "compare").mkdir()
    ...     fresh_folder(Path(root) / "compare").name
    'compare-2'
    """
    if not stem.exists():
        return stem
    number = 2
    while stem.with_name(f"{stem.name}-{number}").exists():
        number += 1
    return stem.with_name(f"{stem.name}-{number}")


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """Write a CSV with full float precision (so equal runs give byte-equal files)."""
    table.to_csv(path, index=False, float_format="%.17g")
    return path


def write_json(data: Any, path: Path) -> Path:
    """Write strict JSON (no NaN), indented."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
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
