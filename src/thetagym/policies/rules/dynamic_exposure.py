"""``dynamic_exposure``: short call and put wings near delta neutral, rebalanced by rolling.

Each step, per env and layer, the first legal choice of (in priority order):

0. CLOSE a layer listed in ``flat_layers`` that holds anything; such a layer is never opened,
   rolled or counter-traded (HOLD where CLOSE is illegal or it is already flat);
1. CLOSE a layer holding futures without short options (futures layer, or a wing after
   assignment) once its unrealised P&L per contract reaches ``take_profit``;
2. ACCEPT_ASSIGNMENT on a wing whose short option is deep in the money
   (|delta| >= ``assignment_delta``) *and* expensive to roll (relative spread >= ``assignment_spread``);
3. CLOSE_COUNTER when the index move against the layer's bias falls back to ``counter_revert``;
4. ROLL_CLOSER on a breached wing (|delta| >= ``roll_delta``);
5. ROLL_CLOSER on the idle wing when the book leans past ``imbalance`` (long book: the call
   wing; short book: the put wing) while that wing is far out (|delta| < ``idle_delta``);
6. OPEN_COUNTER when the index has moved against the layer's bias by ``counter_trigger``;
7. OPEN a flat option or VIX-ETP layer (options come back once an assigned position is closed).

It never chooses OPEN on a layer that is open: size is rolled, not added. The balancer shifts bear
or bull outside ``balance_band`` and, once it holds futures, flattens inside ``flatten_band``
(its futures sit in the hedge layer: a flat hedge layer is closed again after each shift).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thetagym.book import BookConfig, LayerAction
from thetagym.policies.base import PolicyContext
from thetagym.policies.rules.actions import ActionPlan
from thetagym.policies.rules.agent import MemoryRuleAgent
from thetagym.policies.rules.balance import propose_balance
from thetagym.policies.rules.config import DynamicExposureConfig, check_layer_names
from thetagym.policies.rules.regimes import per_layer, thresholds_for
from thetagym.policies.rules.signals import (
    OPTION_LAYERS,
    WINGS,
    futures_positions,
    holds_futures,
    holds_short_option,
    imbalance,
    layer_biases,
    layers_of,
    market_signals,
    short_option_delta,
    short_option_spread,
)
from thetagym.pricing.spreads import SpreadModel


class DynamicExposure(MemoryRuleAgent):
    """The core strategy; see the module docstring and ``configs/rules/dynamic_exposure.yaml``."""

    config: DynamicExposureConfig

    def __init__(
        self, config: DynamicExposureConfig, book_config: BookConfig | None = None, source: str = ""
    ) -> None:
        super().__init__(config, book_config, source)
        self.spreads = book_config.spreads if book_config is not None else SpreadModel()
        if book_config is not None:
            self.flat_layers([layer.name for layer in book_config.layers])

    def flat_layers(self, layer_names: Sequence[str]) -> np.ndarray:
        """``(n_layers,)`` bool: the layers of ``flat_layers``, checked to be among ``layer_names``."""
        check_layer_names(self.config.flat_layers, layer_names, "flat_layers", self.source)
        return np.isin(np.asarray(layer_names), list(self.config.flat_layers))

    def decide(self, plan: ActionPlan, observations: np.ndarray, context: PolicyContext) -> None:
        view = context.book
        flat = self.flat_layers(context.layer_names)
        holding = (np.asarray(view.contracts) > 0) | np.asarray(view.is_open, dtype=bool)
        plan.propose(flat & holding, LayerAction.CLOSE)
        plan.settle(flat)
        market = market_signals(observations, context)
        limits = thresholds_for(self.config.thresholds, self.config.regimes, market.vix)
        short_held = holds_short_option(view)
        is_open = np.asarray(view.is_open, dtype=bool)
        futures_held = holds_futures(view) & layers_of(context, (*OPTION_LAYERS, "futures"))
        active = is_open | futures_held
        self.memory.observe(active, view.days_to_expiry, short_held, market.index_return)

        is_call = layers_of(context, ("call_wing",))
        is_put = layers_of(context, ("put_wing",))
        wing = layers_of(context, WINGS) & short_held
        delta = short_option_delta(view)
        lean = imbalance(view, self.budget)

        contracts = np.maximum(np.asarray(view.contracts, dtype=float), 1.0)
        per_contract = np.asarray(view.unrealised_pnl, dtype=float) / contracts
        futures_position = futures_positions(view, context, (*OPTION_LAYERS, "futures"))
        plan.propose(futures_position & (per_contract >= per_layer(limits.take_profit)), LayerAction.CLOSE)

        spread = short_option_spread(view, market.vix / 100.0, self.spreads)
        deep = (delta >= per_layer(limits.assignment_delta)) & (spread >= per_layer(limits.assignment_spread))
        plan.propose(wing & deep, LayerAction.ACCEPT_ASSIGNMENT)

        against = -layer_biases(context, self.book_config) * self.memory.index_move()
        countering = np.asarray(view.counter_contracts) > 0
        plan.propose(countering & (against <= per_layer(limits.counter_revert)), LayerAction.CLOSE_COUNTER)

        plan.propose(wing & (delta >= per_layer(limits.roll_delta)), LayerAction.ROLL_CLOSER)
        idle = (is_call & (lean > limits.imbalance)[:, None]) | (is_put & (lean < -limits.imbalance)[:, None])
        plan.propose(wing & idle & (delta < per_layer(limits.idle_delta)), LayerAction.ROLL_CLOSER)

        plan.propose(
            active & ~countering & (against >= per_layer(limits.counter_trigger)), LayerAction.OPEN_COUNTER
        )
        reopened = layers_of(context, (*OPTION_LAYERS, "vix_etp"))
        plan.propose(reopened & ~active, LayerAction.OPEN)

        shifted = (holds_futures(view) & layers_of(context, ("hedge",))).any(axis=1)
        propose_balance(plan, lean, limits.balance_band, limits.flatten_band, shifted)
