"""Typed configuration of the book: its layers, the guard, margin, spreads and fees.

Loaded from YAML with :func:`thetagym.config.load`::

    book = load(BookConfig, "configs/env/default.yaml")

Sizes are in contracts (ES options, ES futures, VIX options) or in lots of ``etp_lot_shares``
ETP shares. A layer's *gross* contracts count every leg, so a one-lot iron condor is 4 contracts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from thetagym.config import nested, setting, suggest
from thetagym.pricing.fees import FeeSchedule
from thetagym.pricing.spreads import SpreadModel

LayerKind = Literal["call_wing", "put_wing", "condor", "futures", "vix_etp", "hedge"]
ExpirySchedule = Literal["weekly", "monthly", "quarterly"]
LAYER_KINDS: tuple[str, ...] = ("call_wing", "put_wing", "condor", "futures", "vix_etp", "hedge")
Sizing = Literal["contracts", "notional"]
NOTIONAL_KINDS: tuple[str, ...] = ("put_wing", "call_wing", "futures")
"""Layer kinds that may size by notional: one leg per rung, whose notional is plain."""
MAX_NOTIONAL_FRACTION = 10.0
"""Largest ``notional_fraction``: 1.0 is cash-secured, above it the book is leveraged."""
MIN_CAPITAL, MAX_CAPITAL = 1_000.0, 1e12
"""Starting cash, USD: below 1,000 no ES contract's fees and margin fit; 1e12 is more than the
notional of the whole ES options market."""
MAX_CONTRACTS = 100_000
"""Largest size or cap of a layer, contracts: the open interest of the busiest ES option series."""
MAX_BOOK_CONTRACTS = 1_000_000
"""Largest cap on a book's gross contracts (and delta budget, ES-equivalent contracts)."""
MAX_LEGS = 4_096
"""Most leg slots per env: the large reference book uses 334; every slot is priced every bar."""
MAX_EXPIRY_DAYS = 730
"""Longest expiry reach, days: ES options are listed about two years out."""


@dataclass(frozen=True)
class LayerConfig:
    """One layer: a group of positions in one instrument family with a directional bias.

    Standard structures opened by ``OPEN`` (``contracts`` per leg, ``rungs`` copies whose expiries
    are staggered by ``rung_spacing_days``):

    - ``call_wing``: short calls at ``target_delta``; ``put_wing``: short puts at ``-target_delta``;
    - ``condor``: short put and call at ``target_delta`` with long wings ``wing_width`` points out;
    - ``futures``: ES futures of the front quarter, long for bias +1, short for bias -1;
    - ``vix_etp``: short VXX-like shares (``etp: vxx``) or long inverse-VIX shares;
    - ``hedge``: long VIX calls at ``target_delta``; the balancer adds ES futures to it.

    Sizing: with ``sizing: contracts`` every OPEN sells ``contracts`` per leg. With ``sizing:
    notional`` (put and call wings, futures) each OPEN of a flat layer sells, per leg,
    ``floor(equity x notional_fraction / rungs / (strike x multiplier))`` contracts at the strike
    it picks (futures: the future's price), from the book's equity at mid just before the sale;
    ``notional_fraction: 1.0`` is a cash-secured put-write. Rolls keep their size. With the guard
    on, the sale is cut so the layer stays within ``max_contracts`` and the book within
    ``book_max_contracts`` (the caps are a backstop, not the size); OPEN is legal while one contract
    per leg fits. ``contracts`` is then unused; guard rule 6's ``leg_cap`` (when 0) is
    ``max_contracts`` instead of ``contracts``.
    """

    name: str = setting(doc="unique layer name")
    kind: LayerKind = setting(doc="instrument family, one of " + ", ".join(LAYER_KINDS))
    bias: int = setting(0, ge=-1, le=1, doc="directional bias in index delta: +1 long, -1 short, 0 neutral")
    contracts: int = setting(1, ge=1, le=MAX_CONTRACTS, doc="standard size per leg, contracts (ETP: lots)")
    max_contracts: int = setting(
        10, ge=1, le=MAX_CONTRACTS, doc="cap on the layer's gross contracts, every leg counted"
    )
    target_delta: float = setting(0.16, gt=0.0, lt=1.0, doc="absolute delta of the short strikes")
    min_days: int = setting(
        7, ge=0, le=MAX_EXPIRY_DAYS, doc="ROLL_CLOSER moves expiry to the first expiry this many days out"
    )
    max_days: int = setting(
        21, ge=1, le=MAX_EXPIRY_DAYS, doc="OPEN and ROLL_OUT pick the first expiry this many days out"
    )
    expiry_schedule: ExpirySchedule = setting("weekly", doc="expiry schedule of the layer's options")
    rungs: int = setting(1, ge=1, le=64, doc="copies of the structure at staggered expiries (a ladder)")
    rung_spacing_days: int = setting(
        7, ge=1, le=MAX_EXPIRY_DAYS, doc="days between the expiries of consecutive rungs"
    )
    wing_width: float = setting(
        50.0, gt=0.0, le=10_000.0, doc="condor: distance of the long wings, index points"
    )
    counter_trigger: float = setting(
        0.01,
        ge=0.0,
        le=1.0,
        doc="move of the underlying against the layer since it opened (fraction) to counter-trade",
    )
    counter_size: int = setting(1, ge=1, le=MAX_CONTRACTS, doc="contracts (ETP: lots) per counter-trade")
    counter_max: int = setting(2, ge=0, le=MAX_CONTRACTS, doc="cap on the layer's counter-trade contracts")
    leg_cap: int = setting(
        0,
        ge=0,
        le=MAX_CONTRACTS,
        doc="guard rule 6: size at which a losing leg blocks OPEN (0: contracts; sizing notional: max_contracts)",
    )
    etp: Literal["vxx", "inverse_vix"] = setting("vxx", doc="vix_etp: which ETP the layer trades")
    balancer_step: int = setting(
        1, ge=1, le=MAX_CONTRACTS, doc="hedge: ES futures bought or sold per balancer step"
    )
    balancer_max: int = setting(4, ge=0, le=MAX_CONTRACTS, doc="hedge: cap on the balancer's net ES futures")
    open_at_reset: bool = setting(True, doc="open the standard structure when an episode starts")
    sizing: Sizing = setting(
        "contracts",
        doc="how OPEN sizes a sale: 'contracts' (the fixed `contracts`) or 'notional' (a share of equity)",
    )
    notional_fraction: float = setting(
        1.0,
        gt=0.0,
        le=MAX_NOTIONAL_FRACTION,
        doc="sizing notional: each OPEN sells floor(equity x fraction / (strike x multiplier)) contracts",
    )

    def __post_init__(self) -> None:
        if self.sizing == "notional" and self.kind not in NOTIONAL_KINDS:
            raise ValueError(
                f"layer {self.name!r}: sizing 'notional' is for {', '.join(NOTIONAL_KINDS)} layers, "
                f"not {self.kind!r}"
            )
        if self.min_days > self.max_days:
            raise ValueError(
                f"layer {self.name!r}: min_days {self.min_days} exceeds max_days {self.max_days}"
            )
        if (
            self.kind in ("call_wing", "put_wing")
            and self.bias != {"call_wing": -1, "put_wing": 1}[self.kind]
        ):
            wanted = {"call_wing": -1, "put_wing": 1}[self.kind]
            raise ValueError(f"layer {self.name!r}: a {self.kind} has bias {wanted}, got {self.bias}")
        if self.kind == "futures" and self.bias == 0:
            raise ValueError(f"layer {self.name!r}: a futures layer needs bias +1 (long) or -1 (short)")
        if self.reset_size > self.max_contracts:
            raise ValueError(
                f"layer {self.name!r}: one OPEN adds {self.reset_size} contracts ({self.opened_by_text}), "
                f"over its max_contracts {self.max_contracts}; raise max_contracts or lower contracts or rungs"
            )

    @property
    def standard_leg_count(self) -> int:
        """Legs of one standard structure (a condor has 4)."""
        return 4 if self.kind == "condor" else 1

    @property
    def open_size(self) -> int:
        """Gross contracts one OPEN adds."""
        return self.contracts * self.standard_leg_count * self.rungs

    @property
    def reset_size(self) -> int:
        """Gross contracts one OPEN adds at least: ``open_size``, or one contract per leg when
        sized by notional (the guard cuts a larger sale to the caps)."""
        legs = self.standard_leg_count * self.rungs
        return legs if self.sizing == "notional" else self.open_size

    @property
    def opened_by_text(self) -> str:
        legs = self.standard_leg_count * self.rungs
        return f"{legs} legs x 1" if self.sizing == "notional" else f"{legs} legs x {self.contracts}"


@dataclass(frozen=True)
class GuardConfig:
    """The spiral-prevention rules (``docs/guard.md``); on unless ``enabled: false``."""

    enabled: bool = setting(True, doc="switch the guard off only to demonstrate the rebalancing spiral")
    book_max_contracts: int = setting(
        60, ge=1, le=MAX_BOOK_CONTRACTS, doc="cap on the book's gross contracts"
    )
    delta_budget: float = setting(
        10.0, gt=0.0, le=MAX_BOOK_CONTRACTS, doc="delta budget, ES-equivalent contracts"
    )
    delta_band: float = setting(0.15, gt=0.0, le=1.0, doc="out of balance when |net delta| > band * budget")
    margin_cap: float = setting(
        0.6,
        gt=0.0,
        le=1.0,
        doc="margin requirement over equity allowed after a risk-adding action (above 1 the book is "
        "already liquidated)",
    )


@dataclass(frozen=True)
class MarginConfig:
    """SPAN-style margin: 16 scenarios of index moves and volatility shifts."""

    scan_range: float = setting(0.043, gt=0.0, lt=1.0, doc="price scan range, fraction of the index")
    volatility_scan: float = setting(0.25, gt=0.0, lt=1.0, doc="relative up/down shift of implied volatility")
    extreme_multiple: float = setting(2.0, gt=0.0, le=10.0, doc="extreme moves, in scan ranges")
    extreme_fraction: float = setting(0.35, ge=0.0, le=1.0, doc="share of the extreme-move loss that counts")
    short_option_minimum: float = setting(
        250.0, ge=0.0, le=100_000.0, doc="minimum charge per short option, USD"
    )


@dataclass(frozen=True)
class BookConfig:
    """The whole book: capital, layers, the guard, margin, spreads and fees."""

    capital: float = setting(1_000_000.0, ge=MIN_CAPITAL, le=MAX_CAPITAL, doc="starting cash, USD")
    max_legs: int = setting(64, ge=1, le=MAX_LEGS, doc="leg slots per env; must hold every layer's legs")
    layers: tuple[LayerConfig, ...] = setting((), doc="the layers, in action order")
    guard: GuardConfig = nested(GuardConfig)
    margin: MarginConfig = nested(MarginConfig)
    spreads: SpreadModel = nested(SpreadModel)
    fees: FeeSchedule = nested(FeeSchedule)
    assignment_min_delta: float = setting(
        0.8, gt=0.0, le=1.0, doc="ACCEPT_ASSIGNMENT needs a short option at least this deep (|delta|)"
    )
    futures_roll_days: int = setting(
        5, ge=0, le=60, doc="roll ES futures this many trading days before expiry"
    )
    strike_step: float = setting(5.0, gt=0.0, le=1_000.0, doc="ES option strike grid, points")
    vix_strike_step: float = setting(1.0, gt=0.0, le=100.0, doc="VIX option strike grid, points")
    vix_beta: float = setting(-4.0, ge=-50.0, le=0.0, doc="relative VIX-futures move per relative index move")
    etp_lot_shares: int = setting(100, ge=1, le=1_000_000, doc="ETP shares per lot")
    etp_half_spread: float = setting(0.01, ge=0.0, le=100.0, doc="ETP half-spread, USD per share")
    vix_future_half_spread: float = setting(0.025, ge=0.0, le=100.0, doc="VIX futures half-spread, points")

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("a book needs at least one layer under 'layers'")
        names = [layer.name for layer in self.layers]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ValueError(f"layer name {name!r} is used twice")
        if sum(layer.kind == "hedge" for layer in self.layers) > 1:
            raise ValueError("at most one hedge layer (the balancer trades through it)")
        needed = sum(slot_count(layer) for layer in self.layers)
        if needed > self.max_legs:
            raise ValueError(f"max_legs {self.max_legs} is too small: the layers need {needed} leg slots")
        opened = sum(layer.reset_size for layer in self.layers if layer.open_at_reset)
        if opened > self.guard.book_max_contracts:
            raise ValueError(
                f"guard.book_max_contracts {self.guard.book_max_contracts} is below the {opened} contracts "
                "the layers open at reset (open_at_reset); raise it or open fewer layers at reset"
            )

    def layer_index(self, name: str) -> int:
        """Position of the layer called ``name``; a KeyError suggests the closest name."""
        names = [layer.name for layer in self.layers]
        if name not in names:
            raise KeyError(f"no layer {name!r}{suggest(name, names)}")
        return names.index(name)


def slot_count(layer: LayerConfig) -> int:
    """Leg slots a layer occupies: its structure, one counter-trade slot and, for option layers,
    one slot for futures received by assignment (hedge: one slot for the balancer's futures)."""
    structure = layer.standard_leg_count * layer.rungs
    extra = {"futures": 1, "vix_etp": 1}.get(layer.kind, 2)
    return structure + extra


_ = field  # re-exported helpers keep one import line
