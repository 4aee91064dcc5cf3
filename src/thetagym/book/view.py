"""Read-only per-layer and per-book aggregates for observations and rule agents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.book.config import BookConfig
from thetagym.book.positions import SlotLayout
from thetagym.book.valuation import Marks
from thetagym.pricing.instruments import MULTIPLIER, InstrumentKind

ES_MULTIPLIER = float(MULTIPLIER[InstrumentKind.ES_FUTURE])
TRADING_DAYS_PER_YEAR = 252.0
_NONE = 1e9


def es_equivalent_delta(
    config: BookConfig, layout: SlotLayout, quantity: np.ndarray, marks: Marks, index: np.ndarray
) -> np.ndarray:
    """Beta-weighted delta of every leg in ES futures contracts, ``(n_envs, n_slots)``.

    A VIX-complex leg moves ``vix_beta`` times the index's relative move (the inverse ETP the
    other way), so its ES-equivalent delta is ``q m delta F vix_beta / (50 S)``.
    """
    dollar_delta = quantity * layout.multiplier * marks.delta  # USD per point of the leg's underlying
    beta = np.where(layout.etp_inverse, -config.vix_beta, config.vix_beta)
    vix_equivalent = dollar_delta * marks.underlying * beta / (ES_MULTIPLIER * index[:, None])
    return np.where(layout.is_es, dollar_delta / ES_MULTIPLIER, vix_equivalent)


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True)
class BookView:
    """Per-layer arrays ``(num_envs, n_layers)`` unless stated; book-level ``(num_envs,)``.

    ``delta`` ES-equivalent contracts (beta-weighted), ``gamma`` ES-equivalent contracts per index
    point, ``vega`` USD per vol point, ``theta`` USD per trading day, ``short_strike_moneyness``
    ``log(K/F) / (iv sqrt(tau))`` of the most threatened short option (0 when none),
    ``days_to_expiry`` of the nearest short option (0 when none), ``unrealised_pnl`` USD,
    ``contracts`` gross, ``counter_contracts`` gross. Leg arrays are ``(num_envs, max_legs)``.
    """

    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    short_strike_moneyness: np.ndarray
    days_to_expiry: np.ndarray
    unrealised_pnl: np.ndarray
    contracts: np.ndarray
    counter_contracts: np.ndarray
    is_open: np.ndarray
    net_delta: np.ndarray
    net_gamma: np.ndarray
    net_vega: np.ndarray
    net_theta: np.ndarray
    margin_requirement: np.ndarray
    equity: np.ndarray
    cash: np.ndarray
    kind: np.ndarray
    strike: np.ndarray
    expiry_bar: np.ndarray
    quantity: np.ndarray
    layer: np.ndarray
    entry_price: np.ndarray
    is_counter: np.ndarray


def build_view(
    config: BookConfig,
    layout: SlotLayout,
    legs: dict[str, np.ndarray],
    marks: Marks,
    index: np.ndarray,
    bars_per_day: int,
    bars: np.ndarray,
    cash: np.ndarray,
    equity: np.ndarray,
    margin_requirement: np.ndarray,
    static: dict[str, np.ndarray],
) -> BookView:
    """Aggregate the book's legs (``legs`` holds the ``(num_envs, max_legs)`` arrays; ``static``
    the leg slots' fixed arrays from :func:`static_legs`)."""
    slots = layout.n_slots
    quantity = legs["quantity"][:, :slots]
    exposure = quantity * layout.multiplier
    gross = np.abs(quantity)
    # Every per-layer sum in one stacked product with the layer map: (n_envs, 8, n_layers).
    sums = layout.per_layer_many(
        (
            es_equivalent_delta(config, layout, quantity, marks, index),
            np.where(layout.is_es, exposure * marks.gamma / ES_MULTIPLIER, 0.0),
            exposure * marks.vega / 100.0,
            exposure * marks.theta / TRADING_DAYS_PER_YEAR,
            exposure * (marks.price - legs["entry_price"][:, :slots]),
            gross,
            np.where(layout.is_counter, gross, 0.0),
            np.where(layout.is_structure, gross, 0.0),
        )
    )
    sums.setflags(write=False)  # new arrays: read-only in place (their slices inherit it)
    greeks = sums[:, :4]
    net = greeks.sum(axis=2)
    short_option = (quantity < 0) & layout.is_option
    strike = legs["strike"][:, :slots]
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(short_option, strike, marks.underlying)
        std = np.log(safe / marks.underlying) / np.maximum(
            marks.volatility * np.sqrt(marks.time_to_expiry), 1e-9
        )
    # Most threatened: smallest |z| signed towards the money (calls: K above F is positive).
    distance = np.where(short_option, np.where(layout.is_call, std, -std), _NONE)
    days = np.where(short_option, (legs["expiry_bar"][:, :slots] - bars[:, None]) / bars_per_day, _NONE)
    both = np.empty((quantity.shape[0], 2, slots))
    both[:, 0], both[:, 1] = distance, days
    nearest = layout.layer_min(both)  # (n_envs, 2, n_layers)
    nearest = np.where(nearest < _NONE, nearest, 0.0)
    is_open = sums[:, 7] > 0
    for computed in (net, nearest, is_open):
        computed.setflags(write=False)
    arrays = {
        "delta": greeks[:, 0],
        "gamma": greeks[:, 1],
        "vega": greeks[:, 2],
        "theta": greeks[:, 3],
        "short_strike_moneyness": nearest[:, 0],
        "days_to_expiry": nearest[:, 1],
        "unrealised_pnl": sums[:, 4],
        "contracts": sums[:, 5],
        "counter_contracts": sums[:, 6],
        "is_open": is_open,
        "net_delta": net[:, 0],
        "net_gamma": net[:, 1],
        "net_vega": net[:, 2],
        "net_theta": net[:, 3],
    }
    # Arrays the caller owns (the live leg arrays among them) are handed out as read-only views.
    given = {
        "margin_requirement": margin_requirement,
        "equity": equity,
        "cash": cash,
        "strike": legs["strike"],
        "expiry_bar": legs["expiry_bar"],
        "quantity": legs["quantity"],
        "entry_price": legs["entry_price"],
    }
    return BookView(
        **arrays, **{name: _readonly(np.asarray(value)) for name, value in given.items()}, **static
    )


def static_legs(layout: SlotLayout, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """``kind``, ``layer`` and ``is_counter`` of every leg slot broadcast to ``shape``
    ``(num_envs, max_legs)``, padded with -1, -1 and False (fixed for a book: build once)."""
    width = shape[1]
    return {
        "kind": _readonly(np.broadcast_to(_pad(layout.kind, width, -1), shape)),
        "layer": _readonly(np.broadcast_to(_pad(layout.layer, width, -1), shape)),
        "is_counter": _readonly(np.broadcast_to(_pad(layout.is_counter, width, False), shape)),
    }


def _pad(values: np.ndarray, width: int, fill: object) -> np.ndarray:
    padded = np.full(width, fill, dtype=values.dtype)
    padded[: values.shape[0]] = values
    return padded
