"""Positions into the book's leg slots: which layer and slot holds each position.

A thetagym book gives every layer a fixed block of slots (:class:`thetagym.book.positions.SlotLayout`):
its structure legs (one per leg and rung), a counter-trade slot and, for option layers, a slot for
futures received by assignment (the hedge layer's holds the balancer's futures). A position goes
into the slot made for it:

- options into a structure slot of their kind and side (short or long), a condor's legs of one
  expiry into one rung;
- ES futures into an option layer's assignment slot (long in a put wing, short in a call wing,
  either in a condor) or its counter-trade slot (against the layer's bias), into a futures
  layer's structure (with its bias) or counter-trade slot, into the hedge layer's balancer slot;
- ETP shares into a VIX-ETP layer of that ETP: structure (short VXX, long inverse) or counter-trade.

A tagged position must fit its layer; an untagged one takes the first layer, in the book's order,
with a free structure slot for it, else the first with any free slot for it (an untagged long ES
future goes to a futures layer before it counts as a put wing's assigned future). A layer's contracts over its caps are reported (:class:`CapBreach`),
not refused: the advice then offers only risk-reducing actions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from thetagym.advise.inputs import UNMODELLED, InputError, Position, Source
from thetagym.book import BookConfig
from thetagym.book.positions import SlotLayout, SlotRole
from thetagym.config import suggest
from thetagym.pricing.instruments import InstrumentKind

KINDS = {
    "es_call": InstrumentKind.ES_CALL,
    "es_put": InstrumentKind.ES_PUT,
    "es_future": InstrumentKind.ES_FUTURE,
    "vix_call": InstrumentKind.VIX_CALL,
    "vxx": InstrumentKind.ETP_SHARE,
    "inverse_vix": InstrumentKind.ETP_SHARE,
}
OPTION_LAYER_KINDS = ("call_wing", "put_wing", "condor")
ASSIGNED_SIDE = {"put_wing": 1.0, "call_wing": -1.0, "condor": 0.0}
"""Side of the futures a short option of the layer is assigned into (0: either)."""


@dataclass(frozen=True)
class PlacedLeg:
    """A position in its ``slot`` of ``layer``; ``quantity`` in the book's units (contracts, ETP
    lots) and ``expiry_day`` the trading day it expires on, counted from the snapshot's (-1: never)."""

    position: Position
    layer: int
    slot: int
    quantity: float
    expiry_day: int


@dataclass(frozen=True)
class CapBreach:
    """A cap the positions already exceed: ``layer`` (-1: the whole book) and what it says."""

    layer: int
    message: str


@dataclass(frozen=True)
class Placement:
    """Every position placed, the account's ``cash`` (None: not reported), per layer the
    ``open_index`` and ``open_underlying`` (NaN: not given) and the caps already exceeded."""

    legs: tuple[PlacedLeg, ...]
    cash: float | None
    open_index: np.ndarray
    open_underlying: np.ndarray
    breaches: tuple[CapBreach, ...]


def place_positions(
    positions: list[Position],
    config: BookConfig,
    layout: SlotLayout,
    date: dt.date,
    expired_today: bool,
    config_name: str,
) -> Placement:
    """Place ``positions`` into the slots of a book of ``config`` (``layout``) on the snapshot's
    ``date``; ``expired_today`` says whether options expiring on ``date`` have settled (the
    snapshot is at the close). ``config_name`` names the book config in errors."""
    n_layers = len(config.layers)
    names = [layer.name for layer in config.layers]
    index = SlotIndex.of(layout)
    taken = np.zeros(layout.n_slots, dtype=bool)
    rung_expiry: dict[tuple[int, int], int] = {}
    placed: list[PlacedLeg] = []
    cash: float | None = None
    open_index = np.full(n_layers, np.nan)
    open_underlying = np.full(n_layers, np.nan)
    held = [p for p in positions if p.instrument != "cash"]
    for position in positions:
        if position.instrument == "cash":
            cash = position.quantity if cash is None else cash + position.quantity
    # Tagged first (they are fixed), then by expiry and strike so a condor's legs share a rung.
    order = sorted(held, key=lambda p: (p.layer == "", p.expiry or dt.date.max, p.strike))
    expiry_days = _expiry_days(held, date, expired_today)
    for position in order:
        source = position.source
        if position.instrument in UNMODELLED:
            raise _cell(source, "instrument").error(
                position.instrument,
                "is held by no layer of a thetagym book (it models no VIX futures or puts)",
            )
        expiry_day = expiry_days[id(position)]
        quantity = position.quantity / (config.etp_lot_shares if _is_etp(position) else 1.0)
        if position.layer:
            if position.layer not in names:
                raise _cell(source, "layer").error(
                    position.layer,
                    f"is not a layer of {config_name}{suggest(position.layer, names)}; layers: {', '.join(names)}",
                )
            candidates = [names.index(position.layer)]
        else:
            candidates = list(range(n_layers))
        slot = -1
        for structure_only in (True, False):  # a layer built for the instrument first
            for layer in candidates:
                slot = _free_slot(position, quantity, layer, config, index, taken, rung_expiry, expiry_day)
                if slot >= 0 and (not structure_only or _rung(slot, layer, config, index) >= 0):
                    break
                slot = -1
            if slot >= 0:
                break
        if slot < 0:
            raise _unplaceable(position, quantity, candidates, config, index, config_name)
        layer = int(layout.layer[slot])
        taken[slot] = True
        rung = _rung(slot, layer, config, index)
        if rung >= 0:
            rung_expiry[(layer, rung)] = expiry_day
        placed.append(PlacedLeg(position, layer, slot, quantity, expiry_day))
        _note_layer_value(open_index, layer, position.open_index, source, "open_index")
        _note_layer_value(open_underlying, layer, position.open_underlying, source, "open_underlying")
    legs = tuple(sorted(placed, key=lambda leg: leg.slot))
    return Placement(legs, cash, open_index, open_underlying, tuple(_breaches(legs, config, layout)))


def _is_etp(position: Position) -> bool:
    return position.instrument in ("vxx", "inverse_vix")


def _cell(source: Source, column: str) -> Source:
    return Source(source.file, source.line, column)


def _expiry_days(positions: list[Position], date: dt.date, expired_today: bool) -> dict[int, int]:
    """Trading days from ``date`` to each position's expiry, by ``id`` of the position (-1 for
    ETP shares); the first expiry that is no trading day, or has passed, raises."""
    dated = [p for p in positions if p.expiry is not None]
    expiries = np.array([p.expiry for p in dated], dtype="datetime64[D]")
    business = np.is_busday(expiries)
    days = np.busday_count(np.datetime64(date, "D"), expiries)
    for position, is_business, count in zip(dated, business.tolist(), days.tolist(), strict=True):
        expiry = position.expiry
        assert expiry is not None
        source = _cell(position.source, "expiry")
        if not is_business:
            raise source.error(expiry.isoformat(), f"is not a trading day (a {expiry.strftime('%A')})")
        if count < 0 or (count == 0 and expired_today):
            raise source.error(
                expiry.isoformat(), f"has expired (the market snapshot is of {date.isoformat()})"
            )
    found = {id(p): count for p, count in zip(dated, days.tolist(), strict=True)}
    return {id(p): found.get(id(p), -1) for p in positions}


def _rung(slot: int, layer: int, config: BookConfig, index: SlotIndex) -> int:
    """The rung of a structure slot (-1 for other slots)."""
    if slot == index.counter[layer] or slot == index.extra[layer]:
        return -1
    return (slot - index.start[layer]) // config.layers[layer].standard_leg_count


@dataclass(frozen=True)
class SlotIndex:
    """Plain-int look-ups of a layout: per layer its structure slots by (kind, side), all its
    structure slots, its counter-trade and extra slots, and the first slot of each layer."""

    structure: dict[tuple[int, int, float], list[int]]
    layer_structure: dict[int, list[int]]
    counter: list[int]
    extra: list[int]
    start: list[int]

    @classmethod
    def of(cls, layout: SlotLayout) -> SlotIndex:
        structure: dict[tuple[int, int, float], list[int]] = {}
        layer_structure: dict[int, list[int]] = {}
        roles, layers, kinds, signs = (
            layout.role.tolist(),
            layout.layer.tolist(),
            layout.kind.tolist(),
            layout.sign.tolist(),
        )
        for slot, (role, layer, kind, sign) in enumerate(zip(roles, layers, kinds, signs, strict=True)):
            if role == SlotRole.STRUCTURE:
                structure.setdefault((layer, kind, sign), []).append(slot)
                layer_structure.setdefault(layer, []).append(slot)
        return cls(
            structure,
            layer_structure,
            layout.counter_slot.tolist(),
            layout.extra_slot.tolist(),
            layout.layer_start.tolist(),
        )


def _candidate_slots(
    position: Position, quantity: float, layer: int, config: BookConfig, index: SlotIndex
) -> list[int]:
    """Slots of ``layer`` made for ``position``, in order of preference."""
    spec = config.layers[layer]
    side = math.copysign(1.0, quantity)
    kind = KINDS[position.instrument]
    counter = index.counter[layer]
    extra = index.extra[layer]
    counter_side = -spec.bias
    structure = index.layer_structure.get(layer, [])
    if spec.kind == "vix_etp":
        if _is_etp(position) and (position.instrument == "inverse_vix") == (spec.etp == "inverse_vix"):
            structure_side = 1.0 if spec.etp == "inverse_vix" else -1.0
            return structure if side == structure_side else [counter]
        return []
    if kind == InstrumentKind.ES_FUTURE:
        if spec.kind in OPTION_LAYER_KINDS:
            slots = [extra] if ASSIGNED_SIDE[spec.kind] in (0.0, side) else []
            return slots + ([counter] if counter_side in (0.0, side) else [])
        if spec.kind == "futures":
            return structure if side == spec.bias else [counter]
        return [extra] if spec.kind == "hedge" else []
    return index.structure.get((layer, int(kind), side), [])


def _free_slot(
    position: Position,
    quantity: float,
    layer: int,
    config: BookConfig,
    index: SlotIndex,
    taken: np.ndarray,
    rung_expiry: dict[tuple[int, int], int],
    expiry_day: int,
) -> int:
    """The first free candidate slot whose rung holds no other expiry (-1: none)."""
    for slot in _candidate_slots(position, quantity, layer, config, index):
        if taken[slot]:
            continue
        rung = _rung(slot, layer, config, index)
        if rung >= 0 and IS_OPTION_POSITION.get(position.instrument, False):
            if rung_expiry.get((layer, rung), expiry_day) != expiry_day:
                continue
        return slot
    return -1


IS_OPTION_POSITION = {"es_call": True, "es_put": True, "vix_call": True}


def _unplaceable(
    position: Position,
    quantity: float,
    candidates: list[int],
    config: BookConfig,
    index: SlotIndex,
    name: str,
) -> InputError:
    side = "short" if quantity < 0 else "long"
    what = f"{side} {position.instrument}"
    source = _cell(position.source, "layer" if position.layer else "instrument")
    value = position.layer or position.instrument
    if position.layer:
        layer = candidates[0]
        spec = config.layers[layer]
        if not _candidate_slots(position, quantity, layer, config, index):
            return source.error(value, f"cannot hold a {what} (a {spec.kind} layer)")
        return source.error(
            value,
            f"has no free slot for this {what}: its {spec.rungs} rung(s) are taken; raise 'rungs' of layer "
            f"{spec.name!r} in {name} or tag the position to another layer",
        )
    return source.error(
        value,
        f"({what}) fits no free slot of any layer of {name}: tag it to a layer, or add a layer or rungs for it",
    )


def _note_layer_value(
    values: np.ndarray, layer: int, value: float | None, source: Source, column: str
) -> None:
    if value is None:
        return
    if not np.isnan(values[layer]) and not math.isclose(values[layer], value, rel_tol=1e-12):
        raise _cell(source, column).error(
            value, f"differs from {values[layer]:g}, given for another position of its layer"
        )
    values[layer] = value


def _breaches(legs: tuple[PlacedLeg, ...], config: BookConfig, layout: SlotLayout) -> list[CapBreach]:
    """The caps the placed legs exceed, each named by the position that crosses it."""
    breaches = []
    layer_gross = np.zeros(len(config.layers))
    book_gross = 0.0
    book_breach = -1
    total = sum(abs(leg.quantity) for leg in legs)
    layer_total = np.zeros(len(config.layers))
    for leg in legs:
        layer_total[leg.layer] += abs(leg.quantity)
    for leg in legs:
        size = abs(leg.quantity)
        spec = config.layers[leg.layer]
        layer_gross[leg.layer] += size
        book_gross += size
        where = f"{leg.position.source.file} line {leg.position.source.line} column 'quantity': {leg.position.quantity:g}"
        if (
            layer_gross[leg.layer] > spec.max_contracts
            and layer_gross[leg.layer] - size <= spec.max_contracts
        ):
            breaches.append(
                CapBreach(
                    leg.layer,
                    f"{where} takes layer {spec.name!r} over its cap max_contracts {spec.max_contracts} "
                    f"(it holds {layer_total[leg.layer]:g} gross contracts)",
                )
            )
        if leg.slot == layout.counter_slot[leg.layer] and size > spec.counter_max:
            breaches.append(
                CapBreach(
                    leg.layer,
                    f"{where} is a counter-trade over layer {spec.name!r}'s counter_max {spec.counter_max}",
                )
            )
        if spec.kind == "hedge" and leg.slot == layout.extra_slot[leg.layer] and size > spec.balancer_max:
            breaches.append(
                CapBreach(
                    leg.layer,
                    f"{where} holds more balancer futures than layer {spec.name!r}'s balancer_max {spec.balancer_max}",
                )
            )
        if book_gross > config.guard.book_max_contracts and book_breach < 0:
            book_breach = len(breaches)
            breaches.append(
                CapBreach(
                    -1,
                    f"{where} takes the book over guard.book_max_contracts {config.guard.book_max_contracts} "
                    f"(it holds {total:g} gross contracts)",
                )
            )
    return breaches
