"""Evaluation statistics: bootstrap intervals of per-episode measures and the summary tables."""

from thetagym.evaluate.bootstrap import (
    Interval,
    bootstrap_interval,
    finite_values,
    nest_summary,
    summarise,
    summary_measures,
    summary_table,
)

__all__ = [
    "Interval",
    "bootstrap_interval",
    "finite_values",
    "nest_summary",
    "summarise",
    "summary_measures",
    "summary_table",
]
