"""Who wins: agents ranked on the headline measure, with paired intervals that say whether it is a win.

A ranking by means alone would call a winner on noise. Here the leader of a scenario is marked the
*winner* only where every other agent's paired difference against it (same market paths,
bootstrap over paths) lies below zero; where an interval includes zero, those agents are *tied*
with the leader. Each agent is also compared with the baseline: *better*, *worse* or *tie*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from thetagym.evaluate.bootstrap import json_number
from thetagym.evaluate.summary import CONFIDENCE, POOLED, SUMMARY_SEED, paired_differences
from thetagym.measures import TARGET_VOLATILITY, MeasureLabel, measure_label

CONTEXT_MEASURES = (
    "pnl",
    "premium_sold",
    "theta_capture",
    "volatility",
    "cvar_5",
    "matched_max_drawdown",
    "max_drawdown",
)
"""Measures shown beside the headline: money, book size and risk."""
RANK_DECIMALS = 6
"""Headline scores equal to this many decimals rank as equal (float noise decides no ranking)."""
WINNER, TIED, BEHIND, BETTER, WORSE, TIE, BASELINE = (
    "winner",
    "tied",
    "behind",
    "better",
    "worse",
    "tie",
    "baseline",
)


@dataclass(frozen=True)
class Leaderboard:
    """The ranking of one scenario (or :data:`POOLED`): a row per agent, best first.

    ``table`` columns: ``rank``, ``agent``, ``standing`` (:data:`WINNER`, :data:`TIED` with the
    leader, or :data:`BEHIND` it), ``<headline>_mean/_low/_high``, ``vs_leader_mean/_low/_high``,
    ``vs_baseline_mean/_low/_high``, ``vs_baseline`` (:data:`BETTER`, :data:`WORSE`, :data:`TIE`
    or :data:`BASELINE`), and ``<measure>_mean`` of :data:`CONTEXT_MEASURES`.
    """

    scenario: str
    headline: str
    baseline: str
    table: pd.DataFrame

    @property
    def winner(self) -> str | None:
        """The agent that beats every other one with confidence, or None (a tie)."""
        winners = self.table.loc[self.table["standing"] == WINNER, "agent"]
        return str(winners.iloc[0]) if len(winners) else None

    def records(self) -> list[dict[str, Any]]:
        """The rows as strict-JSON records (NaN becomes None)."""
        return [
            {
                str(key): json_number(value) if isinstance(value, float | np.floating) else value
                for key, value in row.items()
            }
            for row in self.table.to_dict("records")
        ]


def ranking(summary: pd.DataFrame, headline: str, scenario: str) -> list[str]:
    """Agents of ``scenario`` in ``summary`` by the mean of ``headline``, best first (NaN last);
    equal scores rank the book that made more money over cash first (a scaled-down copy ties, never
    leads)."""
    rows = summary[summary["scenario"] == scenario]
    score = rows[f"{headline}_mean"].round(RANK_DECIMALS).rename("score")
    money_column = next((c for c in ("excess_pnl_mean", "pnl_mean") if c in rows.columns), None)
    money = (rows[money_column] if money_column else score * 0).rename("money")
    keyed = pd.concat([rows["agent"], score, money], axis=1)
    ordered = keyed.sort_values(["score", "money"], ascending=False, na_position="last", kind="stable")
    return [str(agent) for agent in ordered["agent"]]


def leaderboard_scenarios(summary: pd.DataFrame) -> list[str]:
    """:data:`POOLED` first when present, then every scenario in the summary's order."""
    labels = list(dict.fromkeys(str(s) for s in summary["scenario"]))
    return sorted(labels, key=lambda label: label != POOLED)


def default_baseline(summary: pd.DataFrame, headline: str, candidates: Sequence[str]) -> str:
    """The best-ranked of ``candidates`` (rule agents on the evaluation's own book) on the
    ``headline`` measure in ``summary`` (:func:`~thetagym.evaluate.summary.summarise_episodes`),
    pooled when there are pooled rows; the first agent if no candidate ran."""
    scenario = leaderboard_scenarios(summary)[0]
    ranked = ranking(summary, headline, scenario)
    return next((agent for agent in ranked if agent in set(candidates)), ranked[0])


def build_leaderboards(
    episodes: pd.DataFrame,
    summary: pd.DataFrame,
    paired: pd.DataFrame,
    baseline: str,
    headline: str,
    confidence: float = CONFIDENCE,
    n_resamples: int = 2000,
    seed: int = SUMMARY_SEED,
    target_volatility: float = TARGET_VOLATILITY,
) -> dict[str, Leaderboard]:
    """A :class:`Leaderboard` per scenario of :func:`leaderboard_scenarios`, from the episodes, their
    summary and the paired differences against ``baseline`` (:func:`paired_differences`), ranked on
    ``headline``. The leader's paired intervals take ``confidence``, ``n_resamples``, ``seed`` and
    ``target_volatility`` as :func:`~thetagym.evaluate.summary.paired_differences` does."""
    boards: dict[str, Leaderboard] = {}
    leaders: dict[str, pd.DataFrame] = {}
    for scenario in leaderboard_scenarios(summary):
        order = ranking(summary, headline, scenario)
        leader = order[0]
        if leader not in leaders:
            leaders[leader] = (
                paired_differences(
                    episodes, leader, [headline], confidence, n_resamples, seed, target_volatility
                )
                if len(order) > 1
                else pd.DataFrame(columns=paired.columns)
            )
        boards[scenario] = _board(summary, paired, leaders[leader], scenario, order, baseline, headline)
    return boards


def _difference(paired: pd.DataFrame, agent: str, scenario: str, measure: str) -> tuple[float, float, float]:
    row = paired[
        (paired["agent"] == agent) & (paired["scenario"] == scenario) & (paired["measure"] == measure)
    ]
    if row.empty:
        return (np.nan, np.nan, np.nan)
    first = row.iloc[0]
    return (float(first["mean"]), float(first["low"]), float(first["high"]))


def _verdict(low: float, high: float) -> str:
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return TIE


def _board(
    summary: pd.DataFrame,
    paired: pd.DataFrame,
    versus_leader: pd.DataFrame,
    scenario: str,
    order: list[str],
    baseline: str,
    headline: str,
) -> Leaderboard:
    rows = summary[summary["scenario"] == scenario].set_index("agent")
    leader = order[0]
    records = []
    for rank, agent in enumerate(order, start=1):
        row = {str(k): v for k, v in rows.loc[agent].to_dict().items()}
        to_leader = (
            (0.0, 0.0, 0.0) if agent == leader else _difference(versus_leader, agent, scenario, headline)
        )
        to_baseline = (0.0, 0.0, 0.0) if agent == baseline else _difference(paired, agent, scenario, headline)
        record: dict[str, Any] = {"rank": rank, "agent": agent}
        record.update({f"{headline}_{f}": float(row[f"{headline}_{f}"]) for f in ("mean", "low", "high")})
        record.update(
            dict(zip(("vs_leader_mean", "vs_leader_low", "vs_leader_high"), to_leader, strict=True))
        )
        record.update(
            dict(zip(("vs_baseline_mean", "vs_baseline_low", "vs_baseline_high"), to_baseline, strict=True))
        )
        record["vs_baseline"] = BASELINE if agent == baseline else _verdict(to_baseline[1], to_baseline[2])
        record["standing"] = BEHIND if agent != leader and to_leader[2] < 0 else TIED
        record.update({f"{m}_mean": float(row[f"{m}_mean"]) for m in CONTEXT_MEASURES if f"{m}_mean" in row})
        records.append(record)
    table = pd.DataFrame(records)
    if len(table) == 1 or (table["standing"].iloc[1:] == BEHIND).all():
        table.loc[0, "standing"] = WINNER
    return Leaderboard(scenario, headline, baseline, table)


def leaderboard_json(boards: Mapping[str, Leaderboard]) -> dict[str, Any]:
    """The ``leaderboard`` section of ``summary.json``: per scenario the winner (or None for a tie)
    and the ranked rows."""
    return {
        scenario: {"headline": board.headline, "winner": board.winner, "rows": board.records()}
        for scenario, board in boards.items()
    }


TEXT_CONTEXT = ("pnl", "premium_sold", "cvar_5", "matched_max_drawdown")
"""Context columns of the terminal table (the report shows them all)."""


def leaderboard_text(board: Leaderboard, confidence: float = CONFIDENCE) -> str:
    """``board`` as an aligned plain-text table, with a title line saying who wins; intervals are
    labelled with ``confidence`` (0.95: "95%").

    Columns: rank, agent, the headline with its interval, the paired difference against the
    baseline with its interval and verdict, standing against the leader, and money and risk.
    """
    label = measure_label(board.headline)
    table = board.table
    rows = []
    for record in table.to_dict("records"):
        mean, low, high = (record[f"{board.headline}_{f}"] for f in ("mean", "low", "high"))
        to_mean, to_low, to_high = (record[f"vs_baseline_{f}"] for f in ("mean", "low", "high"))
        rows.append(
            [
                str(record["rank"]),
                str(record["agent"]),
                _with_interval(label, mean, low, high),
                "baseline"
                if record["vs_baseline"] == BASELINE
                else f"{_with_interval(label, to_mean, to_low, to_high, signed=True)} {record['vs_baseline']}",
                str(record["standing"]),
                *(measure_label(m).format(record.get(f"{m}_mean", np.nan)) for m in TEXT_CONTEXT),
            ]
        )
    header = [
        "#",
        "agent",
        f"{label.name} [{confidence:.0%}]",
        f"vs {board.baseline} (paired)",
        "standing",
        *(measure_label(m).name for m in TEXT_CONTEXT),
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i in (1, 3, 4) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return f"{_title(board)}\n" + "\n".join(line.rstrip() for line in lines)


def _title(board: Leaderboard) -> str:
    where = "pooled over scenarios, equal weight" if board.scenario == POOLED else board.scenario
    name = measure_label(board.headline).name
    if board.winner is not None:
        verdict = f"{board.winner} wins"
    else:
        tied = board.table.loc[board.table["standing"] != BEHIND, "agent"].tolist()
        verdict = f"no winner: {', '.join(map(str, tied))} tie for first"
    return f"{name}, {where}: {verdict}"


def _with_interval(label: MeasureLabel, mean: float, low: float, high: float, signed: bool = False) -> str:
    text = label.format(mean)
    if signed and np.isfinite(mean) and mean >= 0:
        text = "+" + text
    return f"{text} [{label.format(low)}, {label.format(high)}]"
