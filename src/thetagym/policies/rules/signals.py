"""What the rule agents read: market signals from the observation, per-layer state from the book view.

All per-layer arrays are ``(num_envs, n_layers)``; book-level and market arrays ``(num_envs,)``.
The observation's scales are the env's (:mod:`thetagym.env.observation`); they are undone here,
in one place, so that rule configs speak in natural units (VIX points, percent of price).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from thetagym.book import BookConfig, BookView
from thetagym.measures import TRADING_DAYS_PER_YEAR
from thetagym.policies.base import PolicyContext
from thetagym.pricing.black76 import black76_price
from thetagym.pricing.instruments import IS_CALL, IS_OPTION, InstrumentKind
from thetagym.pricing.spreads import SpreadModel, half_spread

OPTION_LAYERS = ("call_wing", "put_wing", "condor")
"""Layer kinds that sell options and are reopened when flat."""
WINGS = ("call_wing", "put_wing")
DEFAULT_BIAS = {"call_wing": -1, "put_wing": 1, "condor": 0, "futures": 1, "vix_etp": 1, "hedge": 0}
"""Index-delta bias of each layer kind when no book config says otherwise (short VXX is long index)."""
MAX_RELATIVE_SPREAD = 1e6
"""Cap on a relative spread: an option worth next to nothing has a spread many times its value."""


@dataclass(frozen=True)
class MarketSignals:
    """Market state of each env, in natural units, ``(num_envs,)`` arrays.

    ``vix`` (points); ``index_rsi`` and ``vix_rsi`` (RSI scaled to [-1, 1]); ``index_macd`` and
    ``vix_macd`` (MACD histogram, percent of price); ``index_return`` (log return of the last bar).
    """

    vix: np.ndarray
    index_rsi: np.ndarray
    index_macd: np.ndarray
    vix_rsi: np.ndarray
    vix_macd: np.ndarray
    index_return: np.ndarray


def market_signals(observations: np.ndarray, context: PolicyContext) -> MarketSignals:
    """Read the market block of an observation batch ``(num_envs, n_features)``."""

    def column(name: str) -> np.ndarray:
        return context.feature(observations, f"market.{name}").astype(float)

    return MarketSignals(
        vix=20.0 * np.exp(column("log_vix")),
        index_rsi=column("index_rsi"),
        index_macd=column("index_macd"),
        vix_rsi=column("vix_rsi"),
        vix_macd=column("vix_macd") * 5.0,
        index_return=column("index_return_bar") / 100.0,
    )


def layers_of(context: PolicyContext, kinds: Sequence[str]) -> np.ndarray:
    """``(n_layers,)`` bool: which layers are of one of ``kinds``."""
    return np.isin(np.asarray(context.layer_kinds), list(kinds))


def layer_biases(context: PolicyContext, book_config: BookConfig | None = None) -> np.ndarray:
    """``(n_layers,)`` index-delta bias of each layer: the book config's, else the kind's default.

    A VIX-ETP layer (short VXX or long inverse VIX) is short volatility, hence long the index: +1.
    """
    defaults = np.array([DEFAULT_BIAS[kind] for kind in context.layer_kinds])
    if book_config is None:
        return defaults
    configured = np.array([layer.bias for layer in book_config.layers])
    return np.where(np.asarray(context.layer_kinds) == "vix_etp", defaults, configured)


def imbalance(view: BookView, delta_budget: float) -> np.ndarray:
    """Net delta over the delta budget, ``(num_envs,)``: +1.0 is a full budget long."""
    return np.asarray(view.net_delta, dtype=float) / delta_budget


def _per_layer(
    view: BookView, legs: np.ndarray, n_layers: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """``(num_envs, n_layers)``: the sum of ``weights`` (None: a count) over each layer's held legs
    selected by ``legs`` ``(num_envs, max_legs)`` bool; one pass over the legs."""
    num_envs = len(legs)
    selected = legs & (np.asarray(view.quantity) != 0)
    slot = np.where(selected, np.asarray(view.layer), n_layers)  # unselected legs go to a spare slot
    flat = (np.arange(num_envs)[:, None] * (n_layers + 1) + slot).ravel()
    values = None if weights is None else np.broadcast_to(weights, legs.shape).ravel()
    totals = np.bincount(flat, weights=values, minlength=num_envs * (n_layers + 1))
    return totals.reshape(num_envs, n_layers + 1)[:, :n_layers]


def short_option_legs(view: BookView) -> np.ndarray:
    """``(num_envs, max_legs)`` bool: short option legs outside counter-trades."""
    kind = np.asarray(view.kind)
    return (np.asarray(view.quantity) < 0) & IS_OPTION[kind] & ~np.asarray(view.is_counter, dtype=bool)


def holds_short_option(view: BookView) -> np.ndarray:
    """``(num_envs, n_layers)`` bool: the layer holds at least one short option (counter-trades excluded)."""
    n_layers = np.asarray(view.is_open).shape[1]
    return _per_layer(view, short_option_legs(view), n_layers) > 0


def holds_futures(view: BookView) -> np.ndarray:
    """``(num_envs, n_layers)`` bool: the layer holds ES futures outside its counter-trades
    (an option layer: futures received by assignment; the hedge layer: the balancer's futures)."""
    n_layers = np.asarray(view.is_open).shape[1]
    futures = (np.asarray(view.kind) == InstrumentKind.ES_FUTURE) & ~np.asarray(view.is_counter, dtype=bool)
    return _per_layer(view, futures, n_layers) > 0


def futures_positions(
    view: BookView, context: PolicyContext, kinds: Sequence[str] = OPTION_LAYERS
) -> np.ndarray:
    """``(num_envs, n_layers)`` bool: layers of ``kinds`` holding ES futures and no short option
    (an option layer after assignment; a futures layer)."""
    return holds_futures(view) & ~holds_short_option(view) & layers_of(context, kinds)


def short_option_delta(view: BookView) -> np.ndarray:
    """``(num_envs, n_layers)`` |delta| of each layer's most threatened short option (0 where none).

    The view's moneyness ``z`` is the short strike's distance to the money in standard deviations,
    positive out of the money for calls and puts alike, so |delta| is about ``N(-z)`` (the
    half-variance term of d1 is dropped).

    >>> from types import SimpleNamespace
    >>> view = SimpleNamespace(short_strike_moneyness=np.array([[1.0, -1.0]]), is_open=np.ones((1, 2), bool),
    ...     quantity=np.array([[-1, -1]]), layer=np.array([[0, 1]]), is_counter=np.zeros((1, 2), bool),
    ...     kind=np.array([[InstrumentKind.ES_CALL, InstrumentKind.ES_PUT]]))
    >>> short_option_delta(view).round(3).tolist()
    [[0.159, 0.841]]
    """
    z = np.asarray(view.short_strike_moneyness, dtype=float)
    return np.where(holds_short_option(view), ndtr(-z), 0.0)


def short_option_spread(view: BookView, volatility: np.ndarray, model: SpreadModel) -> np.ndarray:
    """``(num_envs, n_layers)`` relative bid/ask spread (ask - bid over mid) of each layer's short option.

    Derived with :func:`thetagym.pricing.spreads.half_spread` from the short legs' mean strike, the
    layer's moneyness ``z`` (out of the money positive) and days to expiry (trading days), with
    ``volatility`` ``(num_envs,)`` (decimal, e.g. VIX / 100) standing in for the option's implied
    volatility: ``F = K exp(-/+ z vol sqrt(T))`` for calls / puts. 0 where the layer holds no short
    option. A mostly-call layer is priced as calls.
    """
    n_layers = np.asarray(view.is_open).shape[1]
    legs = short_option_legs(view)
    size = np.abs(np.asarray(view.quantity, dtype=float))
    held = _per_layer(view, legs, n_layers, size)
    calls = _per_layer(view, legs, n_layers, size * IS_CALL[np.asarray(view.kind)])
    is_call = calls * 2.0 > held
    strike = _per_layer(view, legs, n_layers, size * np.asarray(view.strike, dtype=float)) / np.maximum(
        held, 1e-12
    )
    z = np.asarray(view.short_strike_moneyness, dtype=float)
    years = np.maximum(np.asarray(view.days_to_expiry, dtype=float), 0.0) / TRADING_DAYS_PER_YEAR
    vol = np.asarray(volatility, dtype=float)[:, None]
    forward = strike * np.exp(np.where(is_call, -z, z) * vol * np.sqrt(years))
    mid = black76_price(forward, strike, years, vol, is_call)
    half = half_spread(model, mid, z, years, vol)
    valid = (held > 0) & (mid > 0)
    with np.errstate(over="ignore"):  # a premium of 1e-300 points has a spread of "infinitely" many
        relative = 2.0 * half / np.where(valid, mid, 1.0)
    return np.where(valid, np.minimum(relative, MAX_RELATIVE_SPREAD), 0.0)
