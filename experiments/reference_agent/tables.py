"""Print the reference agent's comparison tables from an evaluation report folder.

    python experiments/reference_agent/tables.py reports/reference_agent [--yaml]

Per scenario: mean and 95% percentile-bootstrap interval of theta_capture, max_drawdown, calmar and
pnl (from the report's summary.csv). ``all scenarios`` pools the episodes of every scenario (equal
weight per scenario, same resampling as thetagym.evaluate.summary) from episodes.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from thetagym.evaluate.bootstrap import summary_table
from thetagym.evaluate.summary import SUMMARY_SEED

MEASURES = ("theta_capture", "max_drawdown", "calmar", "pnl")
POOLED = "all scenarios"


def tables(report: Path) -> pd.DataFrame:
    """Summary rows per (agent, scenario) plus one pooled row per agent."""
    summary = pd.read_csv(report / "summary.csv")
    episodes = pd.read_csv(report / "episodes.csv")
    pooled = summary_table(
        episodes.assign(scenario=POOLED), MEASURES, rng=np.random.default_rng(SUMMARY_SEED)
    )
    columns = ["agent", "scenario"] + [f"{m}_{f}" for m in MEASURES for f in ("mean", "low", "high", "n")]
    return pd.concat([summary[columns], pooled[columns]], ignore_index=True)


def cell(row: pd.Series, measure: str) -> str:
    digits = 0 if measure == "pnl" else 3
    mean, low, high = (row[f"{measure}_{f}"] for f in ("mean", "low", "high"))
    return f"{mean:,.{digits}f} [{low:,.{digits}f}, {high:,.{digits}f}]"


def markdown(table: pd.DataFrame) -> str:
    lines = []
    for scenario, group in table.groupby("scenario", sort=False):
        n = int(group["pnl_n"].min())
        lines += [f"**{scenario}** ({n} episodes per agent)", ""]
        lines += ["| agent | " + " | ".join(MEASURES) + " |", "|---" * (len(MEASURES) + 1) + "|"]
        for _, row in group.iterrows():
            lines.append(f"| {row['agent']} | " + " | ".join(cell(row, m) for m in MEASURES) + " |")
        lines.append("")
    return "\n".join(lines)


def as_yaml(table: pd.DataFrame) -> str:
    nested: dict = {}
    for _, row in table.iterrows():
        node = nested.setdefault(str(row["scenario"]), {}).setdefault(str(row["agent"]), {})
        for m in MEASURES:
            node[m] = [round(float(row[f"{m}_{f}"]), 4 if m != "pnl" else 0) for f in ("mean", "low", "high")]
    return yaml.safe_dump({"evaluation_summary": nested}, sort_keys=False, width=120, default_flow_style=None)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    result = tables(folder)
    print(as_yaml(result) if "--yaml" in sys.argv else markdown(result))
