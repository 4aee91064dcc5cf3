"""``alvh``: the adaptive layered VIX hedge.

Short-dated iron condors (tenor, strikes and wings: the book's condor layers, e.g. 7–21 days at
10–16 delta) are laddered in time: the next flat condor layer opens once the youngest open one has
lived ``ladder_days`` and the market gates pass (index RSI and MACD quiet, VIX RSI and MACD not
rising). Each step, per env, the first legal choice of:

1. CLOSE the most threatened condor when ``crowded_layers`` or more condors have a short strike
   less than ``breakeven_std`` standard deviations out of the money, or in it (size comes down,
   never up);
2. OPEN the next condor layer when the ladder is due and the gates pass (not while crowded).

The hedge turns on when |net delta| leaves ``hedge_band`` of the delta budget: OPEN on the flat
hedge layer (its VIX calls) and the balancer's SHIFT_BEAR / SHIFT_BULL (its futures); it turns
off (FLATTEN closes the hedge layer) once |net delta| is back within ``unhedge_band``. Give the
hedge layer ``open_at_reset: false`` in the book config so the hedge starts off.
"""

from __future__ import annotations

import numpy as np

from thetagym.book import LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.agent import MemoryRuleAgent
from thetagym.policies.rules.balance import propose_balance
from thetagym.policies.rules.config import AlvhConfig, AlvhThresholds
from thetagym.policies.rules.regimes import per_layer, thresholds_for
from thetagym.policies.rules.signals import (
    MarketSignals,
    holds_short_option,
    imbalance,
    layers_of,
    market_signals,
)


def gates_pass(market: MarketSignals, limits: AlvhThresholds) -> np.ndarray:
    """``(num_envs,)`` bool: the index is range-bound and VIX is not rising (MACD in % of price)."""
    quiet_index = (np.abs(market.index_rsi) <= limits.index_rsi_max) & (
        np.abs(market.index_macd) <= limits.index_macd_max
    )
    calm_vix = (market.vix_rsi <= limits.vix_rsi_max) & (market.vix_macd <= limits.vix_macd_max)
    return np.asarray(quiet_index & calm_vix)


def first(mask: np.ndarray) -> np.ndarray:
    """``(num_envs, n)`` bool with only the first True of each row of ``mask`` kept."""
    keep = np.zeros_like(mask, dtype=bool)
    np.put_along_axis(keep, np.argmax(mask, axis=1)[:, None], True, axis=1)
    return keep & mask


class Alvh(MemoryRuleAgent):
    """The adaptive layered VIX hedge; see the module docstring and ``configs/rules/alvh.yaml``."""

    config: AlvhConfig

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        view = context.book
        market = market_signals(observations, context)
        limits = thresholds_for(self.config.thresholds, self.config.regimes, market.vix)
        short_held = holds_short_option(view)
        is_open = np.asarray(view.is_open, dtype=bool)
        self.memory.observe(is_open, view.days_to_expiry, short_held, market.index_return)

        condor = layers_of(context, ("condor",)) & np.ones_like(is_open)
        distance = np.asarray(view.short_strike_moneyness, dtype=float)
        near = condor & short_held & (distance <= per_layer(limits.breakeven_std))
        crowded = near.sum(axis=1) >= limits.crowded_layers
        most_threatened = first(near & (distance == np.where(near, distance, np.inf).min(axis=1)[:, None]))
        plan.propose(crowded[:, None] & most_threatened, LayerAction.CLOSE)

        youngest = np.where(condor & is_open, self.memory.age_days(), np.inf).min(axis=1)
        due = (youngest >= limits.ladder_days) & gates_pass(market, limits) & ~crowded
        plan.propose(due[:, None] & first(condor & ~is_open), LayerAction.OPEN)

        lean = imbalance(view, self.budget)
        hedge = layers_of(context, ("hedge",))
        outside = np.abs(lean) > limits.hedge_band
        plan.propose(outside[:, None] & hedge & ~is_open, LayerAction.OPEN)
        in_use = (np.asarray(view.contracts) > 0) & hedge
        propose_balance(plan, lean, limits.hedge_band, limits.unhedge_band, in_use.any(axis=1))
