"""What a tuning run writes: the trials table, its figures, and the tuned rule config with its
provenance header.

The tuned rule config is written from the typed rule config, every setting on its own line with
its documentation as a comment, the tuned ones marked with the untuned value; regimes are written
as complete threshold sets. It loads like any rule config (comments are ignored).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from thetagym.measures import measure_label
from thetagym.tune.config import _flow

if TYPE_CHECKING:
    import optuna

HELD_OUT_PREFIX = "# held-out:"
"""The header line a reader (or a test) can parse the held-out score from."""


def history_figure(table: pd.DataFrame, objective: str) -> Figure:
    """The ``objective`` measure per trial of ``table`` (:func:`~thetagym.tune.study.trials_table`;
    feasible, infeasible, failed marked apart) and the best feasible so far."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.add_subplot()
    label = measure_label(objective).name
    if not table.empty:
        complete = table[table["state"] == "COMPLETE"]
        feasible = complete[complete["feasible"].astype(bool)]
        infeasible = complete[~complete["feasible"].astype(bool)]
        axes.scatter(feasible["number"], feasible["objective"], color="tab:blue", label="feasible", zorder=3)
        axes.scatter(
            infeasible["number"], infeasible["objective"], color="tab:gray", marker="x", label="infeasible"
        )
        best = pd.Series(np.nan, index=table["number"].to_numpy(), dtype=float)
        best.loc[feasible["number"].to_numpy()] = feasible["objective"].to_numpy(dtype=float)
        axes.step(
            best.index, best.cummax().to_numpy(), where="post", color="tab:orange", label="best feasible"
        )
        failed = table[table["state"] == "FAIL"]
        for number in failed["number"]:
            axes.axvline(number, color="tab:red", alpha=0.3, linewidth=1)
        if len(failed):
            axes.plot([], [], color="tab:red", alpha=0.3, label="failed")
        axes.legend(loc="best", fontsize="small")
    axes.set_xlabel("trial")
    axes.set_ylabel(f"{label} (training seeds)")
    axes.set_title("Optimisation history")
    return figure


def importance_figure(importances: dict[str, float]) -> Figure:
    """Horizontal bars of ``importances`` (parameter -> PED-ANOVA importance), or a note when
    there are none."""
    figure = Figure(figsize=(7, 0.5 * max(len(importances), 3) + 1), layout="constrained")
    axes = figure.add_subplot()
    if importances:
        names = list(importances)[::-1]
        axes.barh(names, [importances[n] for n in names], color="tab:blue")
        axes.set_xlabel("importance (PED-ANOVA)")
    else:
        axes.text(0.5, 0.5, "too few completed trials to rank parameters", ha="center", va="center")
        axes.set_axis_off()
    axes.set_title("Parameter importance")
    return figure


def parameter_importances(study: optuna.Study) -> dict[str, float]:
    """PED-ANOVA importances over completed trials (no extra dependency); empty with fewer than
    two or when they cannot be computed."""
    import optuna

    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2:
        return {}
    try:
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))
    except (RuntimeError, ValueError, ImportError):
        return {}


def save_figure(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as an image to ``path`` (its suffix picks the format); return ``path``."""
    figure.savefig(path, dpi=110)
    return path


def commented_yaml(config: Any, tuned: dict[str, Any], untuned: dict[str, Any], header: list[str]) -> str:
    """YAML of the rule config ``config``: ``header`` comment lines, then every setting with its
    documentation; settings in ``tuned`` (dotted key paths) say so with their ``untuned`` value."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += _block(config, "", 0, tuned, untuned)
    return "\n".join(lines) + "\n"


def _block(
    config: Any, prefix: str, indent: int, tuned: dict[str, Any], untuned: dict[str, Any]
) -> list[str]:
    pad = " " * indent
    lines = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        path = f"{prefix}{field.name}"
        doc = field.metadata.get("doc", "")
        if dataclasses.is_dataclass(value):
            lines.append(f"{pad}{field.name}:" + (f"  # {doc}" if doc else ""))
            lines += _block(value, f"{path}.", indent + 2, tuned, untuned)
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            lines.append(f"{pad}{field.name}:" + (f"  # {doc}" if doc else ""))
            for i, item in enumerate(value):
                inner = _block(item, f"{path}.{i}.", indent + 4, tuned, untuned)
                lines.append(f"{pad}  - {inner[0].lstrip()}")
                lines += inner[1:]
        else:
            text = _flow(list(value) if isinstance(value, tuple) else value)
            note = doc
            if path in tuned:
                note = f"TUNED (untuned: {_flow(untuned.get(path))}); {doc}"
            lines.append(f"{pad}{field.name}: {text}" + (f"  # {note}" if note else ""))
    return lines
