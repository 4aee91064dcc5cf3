"""Rule agents, each driven by a YAML rule config in ``configs/rules/``.

=================== ====================================================================
agent               what it does
=================== ====================================================================
dynamic_exposure    short wings near delta neutral; roll (never add) when imbalanced,
                    accept assignment when deep and wide, counter-trades, balancer
alvh                laddered short-dated condors gated by MACD/RSI; VIX hedge outside a
                    delta band; close a layer when several near break-even
naive_rebalancer    sells more of the opposite wing when imbalanced: the spiral
hold_to_expiry      sell a strangle, hold it to expiry, repeat
put_write           sell one-month at-the-money puts each month, fully collateralised
=================== ====================================================================

Load one with :func:`load_rule_agent`; modules: ``config`` (the rule configs), ``actions`` (legal
choice or HOLD), ``signals`` (reading observation and book), ``memory`` (per-layer openings),
``regimes`` (thresholds by VIX regime), ``balance`` (the balancer rule), one module per agent.
"""

from thetagym.policies.rules.agent import RuleAgent
from thetagym.policies.rules.config import (
    AGENT_NAMES,
    AlvhConfig,
    AlvhThresholds,
    DynamicExposureConfig,
    DynamicExposureThresholds,
    HoldToExpiryConfig,
    NaiveRebalancerConfig,
    PutWriteConfig,
    RuleConfig,
)
from thetagym.policies.rules.registry import AGENTS, build_rule_agent, load_rule_agent, load_rule_config

__all__ = [
    "AGENTS",
    "AGENT_NAMES",
    "AlvhConfig",
    "AlvhThresholds",
    "DynamicExposureConfig",
    "DynamicExposureThresholds",
    "HoldToExpiryConfig",
    "NaiveRebalancerConfig",
    "PutWriteConfig",
    "RuleAgent",
    "RuleConfig",
    "build_rule_agent",
    "load_rule_agent",
    "load_rule_config",
]
