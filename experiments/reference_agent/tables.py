"""Print an evaluation's leaderboards as markdown tables, from its report folder's summary.json.

    python experiments/reference_agent/tables.py reports/reference_agent

One table per scenario (pooled first), agents by rank on the headline measure: the headline with
its 95% interval, the paired difference against the baseline with its interval and verdict, the
standing against the leader, then money and risk (means; intervals in summary.json).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from thetagym.measures import measure_label

CONTEXT = (
    "risk_matched_return",
    "cvar_5",
    "matched_max_drawdown",
    "max_drawdown",
    "excess_pnl",
    "premium_sold",
)


def interval(
    label: Any, mean: float | None, low: float | None, high: float | None, signed: bool = False
) -> str:
    if mean is None:
        return "–"
    text = label.format(mean)
    if signed and mean >= 0:
        text = "+" + text
    return f"{text} [{label.format(low)}, {label.format(high)}]"


def markdown(summary: dict[str, Any]) -> str:
    lines = []
    for scenario, board in summary["leaderboard"].items():
        headline = board["headline"]
        label = measure_label(headline)
        winner = board["winner"] or "no winner (tie)"
        lines += [f"**{scenario}**: {winner}", ""]
        header = [
            "#",
            "agent",
            label.name,
            f"vs {summary['paired']['baseline']} (paired)",
            "standing",
            *(measure_label(m).name for m in CONTEXT),
        ]
        lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        for row in board["rows"]:
            versus = (
                "baseline"
                if row["vs_baseline"] == "baseline"
                else interval(label, *(row[f"vs_baseline_{f}"] for f in ("mean", "low", "high")), signed=True)
                + f" {row['vs_baseline']}"
            )
            cells = summary[row["agent"]][scenario]
            context = [measure_label(m).format(cells[m]["mean"]) if m in cells else "–" for m in CONTEXT]
            headline_cell = interval(label, *(row[f"{headline}_{f}"] for f in ("mean", "low", "high")))
            lines.append(
                f"| {row['rank']} | {row['agent']} | {headline_cell} | {versus} | {row['standing']} | "
                + " | ".join(context)
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    print(markdown(json.loads((folder / "summary.json").read_text())))
