"""The guard's verdict on every choice, and the rule that blocks it.

The book's guard answers only "legal or not" (:meth:`thetagym.book.Book.action_masks`). To name
the rule, the same book state is asked again under configs that relax the guard's thresholds: a
choice that is illegal with the guard on and legal with it off is blocked by rule ``k`` when it
stays illegal with every threshold relaxed except rule ``k``'s. Nothing of the guard is
re-implemented: every answer is the book's own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from thetagym.book import BalancerAction, BookConfig, LayerAction

UNLIMITED = 10**9
"""A cap no book reaches."""
GUARD_RULES = {
    1: "gross contracts of a layer or the book over their cap",
    3: "adds short contracts to the opposite wing while the book is out of delta balance",
    4: "counter-trade with the layer's bias, before its trigger or beyond its size cap",
    5: "margin use over its cap (risk-reducing actions excepted)",
    6: "opens a layer whose losing leg is at its size cap",
}
"""The guard's rules that can refuse a choice (rule 2, size-preserving rolls, holds by construction)."""
ALREADY_OPEN = "opens a layer that is already open (size is rolled, never added)"
NOT_AVAILABLE = (
    "not available: nothing to act on (nothing to close, no deep in-the-money option, no expiry left)"
)
OVER_CAP = "the book is over a cap: only risk-reducing actions are offered"
SEVERAL = "several of the guard's rules together"
RISK_REDUCING_LAYER = (
    LayerAction.HOLD,
    LayerAction.ACCEPT_ASSIGNMENT,
    LayerAction.CLOSE,
    LayerAction.CLOSE_COUNTER,
)
RISK_REDUCING_BALANCER = (BalancerAction.HOLD, BalancerAction.FLATTEN)


def relaxed(config: BookConfig, keep: int | None = None) -> BookConfig:
    """``config`` with every guard threshold relaxed except those of rule ``keep`` (None: all)."""
    guard = config.guard
    layers = []
    for layer in config.layers:
        changes: dict[str, Any] = {}
        if keep != 1:
            changes.update(max_contracts=UNLIMITED, balancer_max=UNLIMITED)
        if keep != 4:
            changes.update(counter_trigger=-float(UNLIMITED), counter_max=UNLIMITED)
        if keep != 6:
            changes.update(leg_cap=UNLIMITED)
        layers.append(dataclasses.replace(layer, **changes))
    guard_changes: dict[str, Any] = {}
    if keep != 1:
        guard_changes["book_max_contracts"] = UNLIMITED
    if keep != 3:
        guard_changes["delta_band"] = float(UNLIMITED)
    if keep != 5:
        guard_changes["margin_cap"] = float(UNLIMITED)
    return dataclasses.replace(
        config, layers=tuple(layers), guard=dataclasses.replace(guard, **guard_changes)
    )


def guard_off(config: BookConfig) -> BookConfig:
    """``config`` with the guard switched off: only what is physically possible stays illegal."""
    return dataclasses.replace(config, guard=dataclasses.replace(config.guard, enabled=False))


@dataclass(frozen=True)
class Verdicts:
    """Legality of every choice ``(n_parts, 8)`` (layers, then the balancer in the first 4
    columns): ``legal`` with the guard on (and, over a cap, risk-reducing), ``possible`` with the
    guard off, and per choice the reason it is refused ("" where legal)."""

    legal: np.ndarray
    possible: np.ndarray
    reasons: tuple[tuple[str, ...], ...]
    rules: tuple[tuple[tuple[int, ...], ...], ...]

    def reason(self, part: int, choice: int) -> str:
        return self.reasons[part][choice]

    def blocking_rules(self, part: int, choice: int) -> tuple[int, ...]:
        return self.rules[part][choice]


def verdicts(
    guarded: np.ndarray,
    possible: np.ndarray,
    all_relaxed: np.ndarray,
    rule_only: dict[int, np.ndarray],
    restricted: np.ndarray,
) -> Verdicts:
    """Combine masks ``(n_parts, 8)``: the book's with the guard on (``guarded``), off
    (``possible``), with every threshold relaxed (``all_relaxed``) and with only rule ``k``'s
    kept (``rule_only[k]``); ``restricted`` ``(n_parts,)`` marks parts held to risk-reducing
    choices because the book is over a cap."""
    n_parts, width = guarded.shape
    risk_reducing = np.zeros((n_parts, width), dtype=bool)
    risk_reducing[:-1, [int(a) for a in RISK_REDUCING_LAYER]] = True
    risk_reducing[-1, [int(a) for a in RISK_REDUCING_BALANCER]] = True
    legal = guarded & (~restricted[:, None] | risk_reducing)
    reasons: list[tuple[str, ...]] = []
    rules: list[tuple[tuple[int, ...], ...]] = []
    for part in range(n_parts):
        part_reasons, part_rules = [], []
        for choice in range(width):
            blocking: tuple[int, ...] = ()
            if legal[part, choice]:
                reason = ""
            elif not possible[part, choice]:
                reason = NOT_AVAILABLE
            elif guarded[part, choice]:
                reason = OVER_CAP
            elif not all_relaxed[part, choice]:
                # Illegal whatever the thresholds: an OPEN of an open layer (rule 6's second half).
                blocking = (6,) if part < n_parts - 1 and choice == LayerAction.OPEN else ()
                reason = f"rule 6: {ALREADY_OPEN}" if blocking else SEVERAL
            else:
                blocking = tuple(k for k, mask in rule_only.items() if not mask[part, choice])
                reason = "; ".join(f"rule {k}: {GUARD_RULES[k]}" for k in blocking) or SEVERAL
            part_reasons.append(reason)
            part_rules.append(blocking)
        reasons.append(tuple(part_reasons))
        rules.append(tuple(part_rules))
    return Verdicts(legal, possible, tuple(reasons), tuple(rules))
