"""SPAN-style margin of the whole book in one vectorised pricing call.

Sixteen scenarios (MARKET_FACTS.md, "Margin"): the index moves by 0, ±1/3, ±2/3 and ±3/3 of the
scan range, each with implied volatility scanned up and down by ``volatility_scan`` (relative),
plus ±``extreme_multiple`` scan ranges with volatility unchanged, of which ``extreme_fraction`` of
the loss counts. VIX futures and VXX-like shares move by ``vix_beta`` times the index move (a
fall of the index raises them; the inverse ETP moves the other way). The requirement is the worst
weighted scenario loss, at least ``short_option_minimum`` USD per short option contract.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.config import BookConfig
from thetagym.book.positions import SlotLayout
from thetagym.book.valuation import Marks
from thetagym.pricing.black76 import black76_price

N_SCENARIOS = 16


def scenario_table(config: BookConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index move as a fraction of the index, volatility factor, loss weight), each ``(16,)``."""
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


class Margin:
    """Computes SPAN-style requirements for a layout; scenario factors are precomputed per slot."""

    def __init__(self, config: BookConfig, layout: SlotLayout) -> None:
        self.config = config
        self.layout = layout
        moves, self.volatility_factor, self.weight = scenario_table(config)
        vix_move = np.maximum(config.vix_beta * moves, -0.9)
        etp_move = np.where(layout.etp_inverse[:, None], np.maximum(-vix_move, -0.95), vix_move)
        factor = np.where(layout.is_es[:, None], 1.0 + moves, 1.0 + vix_move)
        self.underlying_factor = np.where(layout.is_etp[:, None], 1.0 + etp_move, factor)  # (slots, 16)
        self.options = np.flatnonzero(layout.is_option)
        self.linear = np.flatnonzero(~layout.is_option)

    def scenario_pnl(self, marks: Marks, quantity: np.ndarray, strike: np.ndarray, rate: float) -> np.ndarray:
        """P&L of the book (USD) in each scenario, ``(n_envs, 16)``, unweighted."""
        layout = self.layout
        exposure = quantity * layout.multiplier  # USD per point
        pnl = (exposure[:, self.linear] * marks.underlying[:, self.linear]) @ (
            self.underlying_factor[self.linear] - 1.0
        )
        if self.options.size:
            columns = self.options
            forward = marks.underlying[:, columns, None] * self.underlying_factor[columns]
            price = black76_price(
                forward,
                strike[:, columns, None],
                marks.time_to_expiry[:, columns, None],
                marks.volatility[:, columns, None] * self.volatility_factor,
                layout.is_call[columns, None],
                rate,
            )
            change = price - marks.price[:, columns, None]
            pnl = pnl + np.einsum("ek,eks->es", exposure[:, columns], change)
        return np.asarray(pnl)

    def requirement(self, marks: Marks, quantity: np.ndarray, strike: np.ndarray, rate: float) -> np.ndarray:
        """Margin requirement (USD), ``(n_envs,)``."""
        loss = -self.scenario_pnl(marks, quantity, strike, rate) * self.weight
        scan_risk = np.maximum(loss.max(axis=1), 0.0)
        short_options = np.minimum(quantity, 0.0)[:, self.options].sum(axis=1) if self.options.size else 0.0
        minimum = -short_options * self.config.margin.short_option_minimum
        return np.asarray(np.maximum(scan_risk, minimum))
