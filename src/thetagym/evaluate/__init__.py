"""Evaluation statistics: bootstrap intervals of per-episode measures and the summary's nested form."""

from thetagym.evaluate.bootstrap import (
    Interval,
    bootstrap_interval,
    finite_values,
    nest_summary,
    summary_measures,
)

__all__ = [
    "Interval",
    "bootstrap_interval",
    "finite_values",
    "nest_summary",
    "summary_measures",
]
