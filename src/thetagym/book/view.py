"""Read-only per-layer and per-book aggregates for observations and rule agents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from thetagym.book.positions import Legs, SlotLayout


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


def book_view(
    sums: np.ndarray,
    nearest: np.ndarray,
    net: np.ndarray,
    is_open: np.ndarray,
    cash: np.ndarray,
    equity: np.ndarray,
    margin_requirement: np.ndarray,
    live: dict[str, np.ndarray],
    static: dict[str, np.ndarray],
) -> BookView:
    """A :class:`BookView` of new arrays of per-layer aggregates, ``sums`` ``(n_envs, 8,
    n_layers)`` (delta, gamma, vega, theta, unrealised P&L, contracts, counter-trade contracts,
    structure contracts), ``nearest`` ``(n_envs, 2, n_layers)`` (short-strike moneyness, days to
    expiry), ``net`` ``(n_envs, 4)`` (delta, gamma, vega, theta) and ``is_open``, of the book's
    ``cash``, ``equity`` and ``margin_requirement``; ``live`` holds read-only views of the book's
    leg arrays (:func:`live_legs`), ``static`` those of :func:`static_legs`. The new arrays are made
    read-only (their slices inherit it)."""
    for array in (sums, nearest, net, is_open, cash, equity, margin_requirement):
        array.setflags(write=False)
    fields = {
        "delta": sums[:, 0],
        "gamma": sums[:, 1],
        "vega": sums[:, 2],
        "theta": sums[:, 3],
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
        "margin_requirement": margin_requirement,
        "equity": equity,
        "cash": cash,
        **live,
        **static,
    }
    return record(BookView, fields)


Record = TypeVar("Record")


def record(cls: type[Record], fields: dict[str, Any]) -> Record:
    """An instance of the frozen dataclass ``cls`` holding ``fields`` (every field, by name),
    made without running its ``__init__``: 0.5 us instead of 5 for a view's 24 fields, once a step."""
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


def live_legs(legs: Legs) -> dict[str, np.ndarray]:
    """Read-only views of the book's live ``strike``, ``expiry_bar``, ``quantity`` and
    ``entry_price`` arrays ``(num_envs, max_legs)`` (they change with every step: build once)."""
    return {
        name: _readonly(getattr(legs, name)) for name in ("strike", "expiry_bar", "quantity", "entry_price")
    }


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
