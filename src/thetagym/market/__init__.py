"""Market layer: simulated and historical S&P 500, VIX and VIX ETP paths.

The surface and VIX formulas are the scalar numba kernels of :mod:`thetagym.market.kernels`,
which compiled (``@njit``) code calls directly.
"""

from thetagym.market.params import (
    JumpConfig,
    MarketConfig,
    PricingMeasureConfig,
    VarianceConfig,
    VixConfig,
    load_market_config,
)
from thetagym.market.path import MarketPath, next_expiry_table
from thetagym.market.scenarios import (
    DEFAULT_MIX,
    ScenarioBook,
    ScenarioConfig,
    ShockConfig,
    load_scenarios,
)
from thetagym.market.simulator import simulate
from thetagym.market.stats import TARGETS, compare, stylized_facts
from thetagym.market.vix import vix_future_price, vix_option_volatility

__all__ = [
    "DEFAULT_MIX",
    "TARGETS",
    "JumpConfig",
    "MarketConfig",
    "MarketPath",
    "PricingMeasureConfig",
    "ScenarioBook",
    "ScenarioConfig",
    "ShockConfig",
    "VarianceConfig",
    "VixConfig",
    "compare",
    "load_market_config",
    "load_scenarios",
    "next_expiry_table",
    "simulate",
    "stylized_facts",
    "vix_future_price",
    "vix_option_volatility",
]
