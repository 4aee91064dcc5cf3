"""The scenarios of the book's SPAN-style margin (computed by :mod:`thetagym.book.compiled.margin`).

Sixteen scenarios (``docs/market.md#margin``): the index moves by 0, ±1/3, ±2/3 and ±3/3 of the
scan range, each with implied volatility scanned up and down by ``volatility_scan`` (relative),
plus ±``extreme_multiple`` scan ranges with volatility unchanged, of which ``extreme_fraction`` of
the loss counts. VIX futures and VXX-like shares move by ``vix_beta`` times the index move (a
fall of the index raises them; the inverse ETP moves the other way). The requirement is the worst
weighted scenario loss, at least ``short_option_minimum`` USD per short option contract.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.config import BookConfig

N_SCENARIOS = 16
"""Scenarios of the SPAN-style margin (the rows of :func:`scenario_table`)."""


def scenario_table(config: BookConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index move as a fraction of the index, volatility factor, loss weight), each ``(N_SCENARIOS,)``."""
    margin = config.margin
    moves, vols, weights = [], [], []
    for fraction in (0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0):
        for vol_sign in (1.0, -1.0):
            moves.append(fraction * margin.scan_range)
            vols.append(1.0 + vol_sign * margin.volatility_scan)
            weights.append(1.0)
    for sign in (1.0, -1.0):
        moves.append(sign * margin.extreme_multiple * margin.scan_range)
        vols.append(1.0)
        weights.append(margin.extreme_fraction)
    return np.array(moves), np.array(vols), np.array(weights)
