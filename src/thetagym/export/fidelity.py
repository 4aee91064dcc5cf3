"""How closely rule decisions reproduce a policy's, per action part and per action value.

``agreement`` at a decision ``(part, value)`` is the share of the states where the policy chose
``value`` in ``part`` at which the rules chose it too (its recall). A part's balanced agreement is
the mean of its values' agreements over the values the policy used, so rare decisions (a roll, an
assignment) weigh as much as the frequent HOLD; the export maximises the mean of that over parts.

>>> policy = np.array([[0, 1], [0, 0], [1, 0], [1, 0]])
>>> rules = np.array([[0, 1], [0, 0], [1, 0], [0, 0]])
>>> round(plain_agreement(policy, rules), 3), round(balanced_agreement(policy, rules), 3)
(0.875, 0.875)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from thetagym.book import BalancerAction, LayerAction

ALL = "all"
"""The row label of a whole part, or of every part."""


def plain_agreement(policy: np.ndarray, rules: np.ndarray) -> float:
    """Share of (state, part) decisions on which ``policy`` and ``rules`` agree; both are
    ``(n, n_parts)`` integer actions on the same states."""
    return float(np.mean(policy == rules)) if policy.size else float("nan")


def _recalls(policy: np.ndarray, rules: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Per value of one part ``(n,)``: how often the policy chose it, and the share the rules matched."""
    chosen = np.bincount(policy, minlength=n_values)
    matched = np.bincount(policy[policy == rules], minlength=n_values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return chosen, np.where(chosen > 0, matched / np.maximum(chosen, 1), np.nan)


def balanced_agreement(policy: np.ndarray, rules: np.ndarray) -> float:
    """Mean over parts of the mean agreement over the values the policy used (1.0: identical), for
    ``policy`` and ``rules`` actions ``(n, n_parts)`` on the same states. Unlike
    :func:`plain_agreement` it is not won by holding when the policy mostly holds."""
    if not policy.size:
        return float("nan")
    n_values = int(max(policy.max(), rules.max())) + 1
    parts = [np.nanmean(_recalls(policy[:, p], rules[:, p], n_values)[1]) for p in range(policy.shape[1])]
    return float(np.mean(parts))


def decision_names(part: int, n_parts: int) -> list[str]:
    """Names of the values of action part ``part`` of ``n_parts`` (the last part is the balancer)."""
    actions = BalancerAction if part == n_parts - 1 else LayerAction
    return [action.name.lower() for action in actions]


def fidelity_table(
    policy: np.ndarray, rules: Mapping[str, np.ndarray], part_names: Sequence[str]
) -> pd.DataFrame:
    """Agreement of each rule set (``label -> (n, n_parts)`` decisions) with ``policy`` (``(n,
    n_parts)``), its parts named by ``part_names``.

    A row per decision any of them made: ``part``, ``decision``, ``policy`` (times the policy chose
    it), then per label ``<label>`` (times those rules chose it) and ``<label>_agreement``; a row
    ``decision == "all"`` per part (plain agreement of the part, ``policy`` = states), and the
    rows ``part == "all"``: ``decision == "all"`` (plain) and ``"balanced"``.
    """
    n_parts = len(part_names)
    rows = []
    for p, part in enumerate(part_names):
        names = decision_names(p, n_parts)
        counts = {label: np.bincount(actions[:, p], minlength=len(names)) for label, actions in rules.items()}
        chosen, _ = _recalls(policy[:, p], policy[:, p], len(names))
        recalls = {
            label: _recalls(policy[:, p], actions[:, p], len(names))[1] for label, actions in rules.items()
        }
        for v, name in enumerate(names):
            if chosen[v] == 0 and all(c[v] == 0 for c in counts.values()):
                continue
            row: dict[str, object] = {"part": part, "decision": name, "policy": int(chosen[v])}
            for label in rules:
                row[label] = int(counts[label][v])
                row[f"{label}_agreement"] = float(recalls[label][v])
            rows.append(row)
        total: dict[str, object] = {"part": part, "decision": ALL, "policy": len(policy)}
        for label, actions in rules.items():
            total[label] = len(actions)
            total[f"{label}_agreement"] = plain_agreement(policy[:, p], actions[:, p])
        rows.append(total)
    for decision, measure in ((ALL, plain_agreement), ("balanced", balanced_agreement)):
        row = {"part": ALL, "decision": decision, "policy": len(policy)}
        for label, actions in rules.items():
            row[label] = len(actions)
            row[f"{label}_agreement"] = measure(policy, actions)
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """The table as aligned text, agreements in percent."""
    shown = table.copy()
    for column in shown.columns:
        if column.endswith("_agreement"):
            shown[column] = [f"{100 * v:.1f}%" if np.isfinite(v) else "-" for v in shown[column]]
    return shown.to_string(index=False)
