"""Leg slots of the book: a static layout per layer and the dynamic leg arrays.

Every layer owns a fixed block of leg slots (see :func:`thetagym.book.config.slot_count`): its
standard structure (one slot per leg and rung), one counter-trade slot and, for option layers, one
slot for ES futures received by assignment (the hedge layer's extra slot holds the balancer's ES
futures). Because a slot always holds the same instrument kind, every action is a boolean mask over
``(env, slot)`` and no leg needs to be searched for. Quantities are signed contracts (ETP: lots).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from thetagym.book.config import BookConfig, LayerConfig
from thetagym.pricing.instruments import IS_CALL, IS_OPTION, MULTIPLIER, InstrumentKind

SCHEDULES = ("weekly", "monthly", "quarterly")


class SlotRole(IntEnum):
    """What a slot is for."""

    STRUCTURE = 0
    COUNTER = 1
    ASSIGNED = 2
    BALANCER = 3


@dataclass(frozen=True)
class SlotLayout:
    """Static description of the ``n_slots`` leg slots; every array has length ``n_slots``.

    ``sign`` is the standard direction of a structure leg (-1 short, +1 long; 0 elsewhere);
    ``delta_target`` the signed delta a structure option is struck at; a long condor wing is struck
    ``strike_offset`` points from the short strike in slot ``anchor`` (others anchor on themselves);
    ``open_days``/``near_days`` the days to expiry OPEN/ROLL_CLOSER aim for; ``multiplier`` USD per
    point per contract (ETP lots included); ``fee`` USD per contract per side.
    """

    n_layers: int
    layer: np.ndarray
    kind: np.ndarray
    role: np.ndarray
    sign: np.ndarray
    delta_target: np.ndarray
    anchor: np.ndarray
    strike_offset: np.ndarray
    open_days: np.ndarray
    near_days: np.ndarray
    schedule: np.ndarray
    etp_inverse: np.ndarray
    multiplier: np.ndarray
    fee: np.ndarray
    standard_size: np.ndarray
    layer_onehot: np.ndarray
    counter_slot: np.ndarray
    extra_slot: np.ndarray

    @property
    def n_slots(self) -> int:
        return int(self.layer.shape[0])

    @classmethod
    def from_config(cls, config: BookConfig) -> SlotLayout:
        rows: list[dict[str, float]] = []
        counter_slot, extra_slot = [], []
        for index, layer in enumerate(config.layers):
            rows.extend(_structure_slots(index, layer, len(rows)))
            counter_kind = InstrumentKind.ETP_SHARE if layer.kind == "vix_etp" else InstrumentKind.ES_FUTURE
            counter_slot.append(len(rows))
            rows.append(_slot(index, layer, counter_kind, SlotRole.COUNTER))
            if layer.kind in ("futures", "vix_etp"):
                extra_slot.append(-1)
            else:
                extra_slot.append(len(rows))
                role = SlotRole.BALANCER if layer.kind == "hedge" else SlotRole.ASSIGNED
                rows.append(_slot(index, layer, InstrumentKind.ES_FUTURE, role))
        for position, row in enumerate(rows):
            if row["anchor"] < 0:
                row["anchor"] = position
        columns = {key: np.array([row[key] for row in rows]) for key in rows[0]}
        kind = columns["kind"].astype(np.int64)
        units = np.where(kind == InstrumentKind.ETP_SHARE, config.etp_lot_shares, 1.0)
        slot_layer = columns["layer"].astype(np.int64)
        n_layers = len(config.layers)
        onehot = np.zeros((len(rows), n_layers))
        onehot[np.arange(len(rows)), slot_layer] = 1.0
        layout = cls(
            n_layers=n_layers,
            layer=slot_layer,
            kind=kind,
            role=columns["role"].astype(np.int64),
            sign=columns["sign"],
            delta_target=columns["delta_target"],
            anchor=columns["anchor"].astype(np.int64),
            strike_offset=columns["strike_offset"],
            open_days=columns["open_days"].astype(np.int64),
            near_days=columns["near_days"].astype(np.int64),
            schedule=columns["schedule"].astype(np.int64),
            etp_inverse=columns["etp_inverse"].astype(bool),
            multiplier=MULTIPLIER[kind] * units,
            fee=config.fees.per_unit[kind] * units,
            standard_size=columns["standard_size"],
            layer_onehot=onehot,
            counter_slot=np.array(counter_slot, dtype=np.int64),
            extra_slot=np.array(extra_slot, dtype=np.int64),
        )
        if np.any(np.diff(slot_layer) < 0) or np.bincount(slot_layer, minlength=n_layers).min() == 0:
            raise AssertionError("slots must be numbered layer by layer, every layer owning one or more")
        for value in vars(layout).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        return layout

    # Derived masks, by slot.
    @functools.cached_property
    def is_option(self) -> np.ndarray:
        return IS_OPTION[self.kind]

    @functools.cached_property
    def is_call(self) -> np.ndarray:
        return IS_CALL[self.kind]

    @functools.cached_property
    def is_es(self) -> np.ndarray:
        """ES options and ES futures: priced off the ES future of a quarterly expiry."""
        return np.isin(self.kind, (InstrumentKind.ES_CALL, InstrumentKind.ES_PUT, InstrumentKind.ES_FUTURE))

    @functools.cached_property
    def is_vix(self) -> np.ndarray:
        return np.isin(self.kind, (InstrumentKind.VIX_CALL, InstrumentKind.VIX_FUTURE))

    @functools.cached_property
    def is_etp(self) -> np.ndarray:
        return self.kind == InstrumentKind.ETP_SHARE

    @functools.cached_property
    def is_structure(self) -> np.ndarray:
        return self.role == SlotRole.STRUCTURE

    @functools.cached_property
    def is_counter(self) -> np.ndarray:
        return self.role == SlotRole.COUNTER

    def per_layer(self, values: np.ndarray) -> np.ndarray:
        """Sum ``(n_envs, n_slots)`` values over each layer's slots: ``(n_envs, n_layers)``."""
        return np.asarray(values @ self.layer_onehot)

    @functools.cached_property
    def layer_start(self) -> np.ndarray:
        """First slot of each layer (slots are numbered layer by layer)."""
        return np.searchsorted(self.layer, np.arange(self.n_layers))


def _slot(layer_index: int, layer: LayerConfig, kind: InstrumentKind, role: SlotRole) -> dict[str, float]:
    return {
        "layer": layer_index,
        "kind": int(kind),
        "role": int(role),
        "sign": 0.0,
        "delta_target": 0.0,
        "anchor": -1,
        "strike_offset": 0.0,
        "open_days": layer.max_days,
        "near_days": layer.min_days,
        "schedule": SCHEDULES.index(layer.expiry_schedule if IS_OPTION[kind] else "quarterly"),
        "etp_inverse": float(kind == InstrumentKind.ETP_SHARE and layer.etp == "inverse_vix"),
        "standard_size": 0.0,
    }


def _structure_slots(layer_index: int, layer: LayerConfig, start: int) -> list[dict[str, float]]:
    """One row per structure leg and rung, slots numbered from ``start``; a long condor wing
    anchors on the short leg of its side in the same rung."""
    delta = layer.target_delta
    legs: list[tuple[InstrumentKind, float, float, int, float]] = {
        "call_wing": [(InstrumentKind.ES_CALL, -1.0, delta, -1, 0.0)],
        "put_wing": [(InstrumentKind.ES_PUT, -1.0, -delta, -1, 0.0)],
        "condor": [
            (InstrumentKind.ES_PUT, -1.0, -delta, -1, 0.0),
            (InstrumentKind.ES_PUT, 1.0, -delta, 0, -layer.wing_width),
            (InstrumentKind.ES_CALL, -1.0, delta, -1, 0.0),
            (InstrumentKind.ES_CALL, 1.0, delta, 2, layer.wing_width),
        ],
        "futures": [(InstrumentKind.ES_FUTURE, float(layer.bias), 0.0, -1, 0.0)],
        "vix_etp": [(InstrumentKind.ETP_SHARE, 1.0 if layer.etp == "inverse_vix" else -1.0, 0.0, -1, 0.0)],
        "hedge": [(InstrumentKind.VIX_CALL, 1.0, delta, -1, 0.0)],
    }[layer.kind]
    rows = []
    for rung in range(layer.rungs):
        first = start + rung * len(legs)
        for kind, sign, target, anchor, offset in legs:
            row = _slot(layer_index, layer, kind, SlotRole.STRUCTURE)
            row.update(
                sign=sign,
                delta_target=target,
                anchor=float(first + anchor if anchor >= 0 else -1),
                strike_offset=offset,
                open_days=layer.max_days + rung * layer.rung_spacing_days,
                near_days=layer.min_days + rung * layer.rung_spacing_days,
                standard_size=float(layer.contracts),
            )
            rows.append(row)
    return rows


@dataclass
class Legs:
    """Dynamic leg arrays, ``(num_envs, max_legs)``; slots beyond the layout stay empty.

    ``strike`` (points; 0 for non-options), ``expiry_bar`` and ``underlying_bar`` (bar of the
    expiry of the leg and of the quarterly ES future it is priced on), ``quantity`` (signed
    contracts, ETP lots), ``entry_price`` (points or USD per share; the average cost).
    """

    strike: np.ndarray
    expiry_bar: np.ndarray
    underlying_bar: np.ndarray
    quantity: np.ndarray
    entry_price: np.ndarray
