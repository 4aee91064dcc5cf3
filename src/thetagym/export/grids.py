"""The values each named threshold is searched over, in the rule configs' natural units.

A grid's step is the resolution the export can recover a threshold to; its range covers what a
person would plausibly set. The search also tries the value it starts from, so a threshold the
recorded states cannot pin down keeps the original rule config's value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thetagym.policies.rules.config import AlvhRegime, DynamicExposureRegime, VixRegime


def _steps(low: float, high: float, step: float) -> np.ndarray:
    """``low, low + step, ..., high`` rounded to clean decimals.

    >>> _steps(0.1, 0.3, 0.05).tolist()
    [0.1, 0.15, 0.2, 0.25, 0.3]
    """
    return np.round(np.arange(low, high + step / 2, step), 10)


THRESHOLD_GRIDS: dict[str, dict[str, np.ndarray]] = {
    "dynamic_exposure": {
        "roll_delta": _steps(0.15, 0.60, 0.025),
        "imbalance": _steps(0.2, 1.5, 0.1),
        "idle_delta": _steps(0.02, 0.20, 0.02),
        "assignment_delta": _steps(0.60, 1.00, 0.02),  # 1.0: never (a short option's |delta| stays below 1)
        "assignment_spread": _steps(0.002, 0.030, 0.002),
        "take_profit": _steps(0.0, 2000.0, 100.0),
        "counter_trigger": _steps(0.002, 0.030, 0.001),
        "counter_revert": _steps(0.0, 0.012, 0.001),
        "balance_band": _steps(0.2, 2.0, 0.1),
        "flatten_band": _steps(0.0, 1.0, 0.05),
    },
    "alvh": {
        "ladder_days": _steps(0.0, 10.0, 0.5),
        "index_rsi_max": _steps(0.1, 1.0, 0.05),
        "index_macd_max": _steps(0.1, 3.0, 0.1),
        "vix_rsi_max": _steps(-0.5, 1.0, 0.05),
        "vix_macd_max": _steps(-2.0, 8.0, 0.5),
        "hedge_band": _steps(0.05, 1.0, 0.05),
        "unhedge_band": _steps(0.0, 0.5, 0.025),
        "breakeven_std": _steps(0.0, 2.0, 0.1),
        "crowded_layers": np.arange(1, 6),
    },
}
"""Per agent with named thresholds: threshold name -> the values tried."""

REGIME_TYPES: dict[str, type[VixRegime[Any]]] = {
    "dynamic_exposure": DynamicExposureRegime,
    "alvh": AlvhRegime,
}
"""Per agent: the class of one VIX regime's threshold set."""

FITTABLE_AGENTS: tuple[str, ...] = tuple(THRESHOLD_GRIDS)
"""Agents whose thresholds can be fitted (the others have no named thresholds)."""
