"""Pricing layer: Black-76 / Black-Scholes kernels, bid/ask spreads, fees and instrument codes.

Layer 1 of thetagym: pure, broadcasting numpy functions; imports nothing from thetagym except
:mod:`thetagym.config`. Their formulas are the scalar numba kernels of
:mod:`thetagym.pricing.kernels`, which compiled (``@njit``) code calls directly. Units: time in
years, volatility as a decimal, prices in points of the underlying, Greeks per year / per 1.00 of
volatility (see :mod:`thetagym.pricing.black76`), fees in USD.
"""

from thetagym.pricing.benchmark import benchmark_pricing
from thetagym.pricing.black76 import (
    Greeks,
    black76_delta,
    black76_gamma,
    black76_greeks,
    black76_price,
    black76_theta,
    black76_vega,
    black_scholes_greeks,
    black_scholes_price,
)
from thetagym.pricing.fees import FeeSchedule, fees
from thetagym.pricing.instruments import (
    IS_CALL,
    IS_OPTION,
    MULTIPLIER,
    NUM_KINDS,
    InstrumentKind,
)
from thetagym.pricing.spreads import (
    SpreadModel,
    bid_ask,
    futures_bid_ask,
    half_spread,
    option_tick,
)

__all__ = [
    "IS_CALL",
    "IS_OPTION",
    "MULTIPLIER",
    "NUM_KINDS",
    "FeeSchedule",
    "Greeks",
    "InstrumentKind",
    "SpreadModel",
    "benchmark_pricing",
    "bid_ask",
    "black76_delta",
    "black76_gamma",
    "black76_greeks",
    "black76_price",
    "black76_theta",
    "black76_vega",
    "black_scholes_greeks",
    "black_scholes_price",
    "fees",
    "futures_bid_ask",
    "half_spread",
    "option_tick",
]
