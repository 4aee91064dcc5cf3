"""P&L attribution of one step, per layer: theta, delta, gamma, vega, costs, assignment, residual.

Greeks are taken at the start of the step (after its trades) and applied to the change of each
leg's own underlying ``dF`` and implied volatility ``dsigma`` over the step:
``theta * dt``, ``delta * dF``, ``gamma * dF^2 / 2``, ``vega * dsigma``. The residual is what the
second-order expansion misses, so the columns add up to the P&L exactly.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.positions import SlotLayout
from thetagym.book.valuation import Marks

ATTRIBUTION = ("theta", "delta", "gamma", "vega", "costs", "assignment", "residual")
THETA, DELTA, GAMMA, VEGA, COSTS, ASSIGNMENT, RESIDUAL = range(len(ATTRIBUTION))


def attribute(
    layout: SlotLayout,
    quantity: np.ndarray,
    start: Marks,
    end: Marks,
    bar_years: float,
    costs: np.ndarray,
    assignment: np.ndarray,
    pnl: np.ndarray,
) -> np.ndarray:
    """Attribution ``(n_envs, n_layers, 7)`` in USD.

    Args:
        quantity: contracts held over the step, ``(n_envs, n_slots)``.
        start, end: marks of the same contracts at the start and the end of the step.
        bar_years: length of the step in years of trading time.
        costs: spread and fees per layer, USD, ``(n_envs, n_layers)`` (a loss is negative).
        assignment: P&L recognised at assignment or settlement beyond the mark, per layer.
        pnl: the book's P&L (change of equity), ``(n_envs,)``; whatever the layers do not explain
            to the last cent (rounding) goes to the first layer's residual.
    """
    exposure = quantity * layout.multiplier
    move = end.underlying - start.underlying
    by_layer = layout.per_layer_many(
        (
            (start.theta * bar_years) * exposure,
            (start.delta * move) * exposure,
            (0.5 * start.gamma * move * move) * exposure,
            (start.vega * (end.volatility - start.volatility)) * exposure,
            (end.price - start.price) * exposure,
        )
    )  # (envs, 5, layers)
    result = np.empty((quantity.shape[0], layout.n_layers, len(ATTRIBUTION)))
    result[:, :, :COSTS] = np.moveaxis(by_layer[:, :4], 1, 2)
    result[:, :, COSTS] = costs
    result[:, :, ASSIGNMENT] = assignment
    market_pnl = by_layer[:, 4]
    result[:, :, RESIDUAL] = market_pnl - by_layer[:, :4].sum(axis=1)
    unexplained = pnl - result.sum(axis=(1, 2))
    result[:, 0, RESIDUAL] += unexplained
    return result
