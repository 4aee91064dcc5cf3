"""Rule configs: one frozen dataclass per rule agent, loaded from a YAML file in ``configs/rules/``.

Every file names its agent in ``agent:``; every threshold is a named, documented, range-checked
key. ``dynamic_exposure`` and ``alvh`` keep their thresholds in a ``thresholds:`` block and may
add one threshold set per VIX regime::

    thresholds: {roll_delta: 0.30, ...}     # used when VIX is above every regime's vix_below
    regimes:
      - vix_below: 18                       # VIX points; regimes in increasing order
        thresholds: {roll_delta: 0.25}      # only the keys that differ from the block above
      - vix_below: 30
        thresholds: {roll_delta: 0.35}

Each env uses the first regime whose ``vix_below`` lies above the current VIX, else the top-level
``thresholds``. In a file, a regime's ``thresholds`` override the top-level block key by key
(:func:`merge_regime_thresholds`), so a regime lists only what it changes; built in Python, a
regime holds a complete threshold set.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from thetagym.config import ConfigError, nested, setting, suggest

AgentName = Literal["dynamic_exposure", "alvh", "naive_rebalancer", "hold_to_expiry", "put_write"]
AGENT_NAMES: tuple[str, ...] = AgentName.__args__  # type: ignore[attr-defined]
LayerKind = Literal["call_wing", "put_wing", "condor", "futures", "vix_etp", "hedge"]
ThresholdsT = TypeVar("ThresholdsT")


@dataclass(frozen=True)
class RuleConfig:
    """What every rule config holds: the agent it drives and a display name."""

    agent: AgentName
    name: str = setting("", doc="display name in reports; empty = the agent's name")


def _delta_budget() -> Any:
    """The ``delta_budget`` setting of every agent that measures imbalance against it."""
    return setting(
        None,
        gt=0.0,
        doc="ES-equivalent contracts of net delta at imbalance 1.0; null: the book's guard.delta_budget",
    )


@dataclass(frozen=True)
class VixRegime(Generic[ThresholdsT]):
    """A threshold set used while VIX is below ``vix_below``."""

    vix_below: float = setting(gt=0.0, doc="VIX points; this regime applies below it")
    thresholds: ThresholdsT = dataclasses.field(kw_only=True)


@dataclass(frozen=True)
class ThresholdedRuleConfig(RuleConfig, Generic[ThresholdsT]):
    """A rule config whose agent reads a set of named thresholds, optionally one set per VIX regime.

    :mod:`thetagym.export.fit` fits these thresholds to a trained policy's decisions. A subclass gives
    ``thresholds`` its threshold class as default and ``regimes`` its :class:`VixRegime` subclass.
    """

    delta_budget: float | None = _delta_budget()
    thresholds: ThresholdsT = dataclasses.field(kw_only=True)
    regimes: tuple[VixRegime[ThresholdsT], ...] = setting((), doc="threshold sets by VIX regime")

    def __post_init__(self) -> None:
        levels = [regime.vix_below for regime in self.regimes]
        if any(b <= a for a, b in itertools.pairwise(levels)):
            raise ValueError(f"regimes must be in increasing order of vix_below, got {levels}")


def check_layer_names(names: Sequence[str], layer_names: Sequence[str], key: str, source: str = "") -> None:
    """Raise a :class:`ConfigError` naming ``source`` (the rule config file) and ``key`` if one of
    ``names`` is not among the book's ``layer_names``, with the closest name as a suggestion.

    >>> check_layer_names(("call_wnig",), ["put_wing", "call_wing"], "flat_layers", "rules.yaml")
    Traceback (most recent call last):
    ...
    thetagym.config.ConfigError: rules.yaml: key 'flat_layers': the book has no layer 'call_wnig' \
(did you mean 'call_wing'?); its layers are put_wing, call_wing
    """
    for name in names:
        if name not in layer_names:
            where = f"{source}: key {key!r}" if source else f"key {key!r}"
            raise ConfigError(
                f"{where}: the book has no layer {name!r}{suggest(name, layer_names)}; "
                f"its layers are {', '.join(layer_names)}"
            )


def _check_bands(inner: float, inner_name: str, outer: float, outer_name: str) -> None:
    if inner > outer:
        raise ValueError(f"{inner_name} {inner} must not exceed {outer_name} {outer}")


# --- dynamic_exposure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DynamicExposureThresholds:
    """Thresholds of ``dynamic_exposure``; imbalance is |net delta| over the delta budget."""

    roll_delta: float = setting(
        0.30, gt=0.0, lt=1.0, doc="|delta| of a wing's short option at which that wing is rolled closer"
    )
    imbalance: float = setting(
        0.6, gt=0.0, doc="book imbalance (net delta / delta budget) at which the idle wing is rolled closer"
    )
    idle_delta: float = setting(
        0.10,
        gt=0.0,
        lt=1.0,
        doc="the idle wing is rolled only while its short option's |delta| is below this",
    )
    assignment_delta: float = setting(
        0.85, gt=0.0, le=1.0, doc="|delta| at or above which a short option counts as deep in the money"
    )
    assignment_spread: float = setting(
        0.008,
        ge=0.0,
        doc="relative bid/ask spread (ask - bid over mid) at or above which assignment is accepted",
    )
    take_profit: float = setting(
        500.0, ge=0.0, doc="USD of unrealised P&L per futures contract at which the futures layer closes"
    )
    counter_trigger: float = setting(
        0.01,
        gt=0.0,
        doc="index move against a layer's bias since it opened (log, 0.01 = 1%) that opens a counter-trade",
    )
    counter_revert: float = setting(
        0.004, ge=0.0, doc="the counter-trade closes when the move against the bias falls back to this (log)"
    )
    balance_band: float = setting(
        1.0, gt=0.0, doc="|imbalance| beyond which the balancer shifts the book bull or bear"
    )
    flatten_band: float = setting(
        0.25, ge=0.0, doc="|imbalance| within which the balancer flattens its shift"
    )

    def __post_init__(self) -> None:
        _check_bands(self.counter_revert, "counter_revert", self.counter_trigger, "counter_trigger")
        _check_bands(self.flatten_band, "flatten_band", self.balance_band, "balance_band")
        _check_bands(self.roll_delta, "roll_delta", self.assignment_delta, "assignment_delta")
        _check_bands(self.idle_delta, "idle_delta", self.roll_delta, "roll_delta")


@dataclass(frozen=True)
class DynamicExposureRegime(VixRegime[DynamicExposureThresholds]):
    """A ``dynamic_exposure`` threshold set used while VIX is below ``vix_below``."""

    thresholds: DynamicExposureThresholds = nested(DynamicExposureThresholds)


@dataclass(frozen=True)
class DynamicExposureConfig(ThresholdedRuleConfig[DynamicExposureThresholds]):
    """Short call and put wings near delta neutral, rolled (never added to) when imbalanced."""

    agent: Literal["dynamic_exposure"] = "dynamic_exposure"
    thresholds: DynamicExposureThresholds = nested(DynamicExposureThresholds)
    regimes: tuple[DynamicExposureRegime, ...] = setting((), doc="threshold sets by VIX regime")
    flat_layers: tuple[str, ...] = setting(
        (),
        doc="layers the agent keeps flat: it closes them when open and never reopens them "
        "(names of the book's layers; empty: every layer is worked)",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        repeated = sorted({name for name in self.flat_layers if self.flat_layers.count(name) > 1})
        if repeated:
            raise ValueError(f"flat_layers names {', '.join(repeated)} more than once")


# --- alvh ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlvhThresholds:
    """Thresholds of the adaptive layered VIX hedge (RSI scaled to [-1, 1]; MACD in % of price)."""

    ladder_days: float = setting(
        5.0, ge=0.0, doc="days the youngest open condor must have lived before the next layer opens"
    )
    index_rsi_max: float = setting(
        0.4, ge=0.0, le=1.0, doc="a layer opens only while |index RSI| (scaled (RSI-50)/50) is at most this"
    )
    index_macd_max: float = setting(
        1.0, ge=0.0, doc="a layer opens only while |index MACD histogram| is at most this % of the index"
    )
    vix_rsi_max: float = setting(
        0.3,
        ge=-1.0,
        le=1.0,
        doc="a layer opens only while VIX RSI (scaled) is at most this (VIX not surging)",
    )
    vix_macd_max: float = setting(
        2.0, doc="a layer opens only while VIX MACD histogram is at most this % of VIX"
    )
    hedge_band: float = setting(
        0.15, gt=0.0, doc="|net delta| over delta budget beyond which the hedge turns on"
    )
    unhedge_band: float = setting(
        0.05, ge=0.0, doc="|net delta| over delta budget within which the hedge turns off"
    )
    breakeven_std: float = setting(
        0.5,
        ge=0.0,
        doc="a condor whose short strike is within this many std devs of the index is near break-even",
    )
    crowded_layers: int = setting(
        2, ge=1, doc="when this many condors are near break-even at once, the most threatened one closes"
    )

    def __post_init__(self) -> None:
        _check_bands(self.unhedge_band, "unhedge_band", self.hedge_band, "hedge_band")


@dataclass(frozen=True)
class AlvhRegime(VixRegime[AlvhThresholds]):
    """An ``alvh`` threshold set used while VIX is below ``vix_below``."""

    thresholds: AlvhThresholds = nested(AlvhThresholds)


@dataclass(frozen=True)
class AlvhConfig(ThresholdedRuleConfig[AlvhThresholds]):
    """Laddered short-dated condors gated by MACD/RSI, a VIX hedge outside a delta band."""

    agent: Literal["alvh"] = "alvh"
    thresholds: AlvhThresholds = nested(AlvhThresholds)
    regimes: tuple[AlvhRegime, ...] = setting((), doc="threshold sets by VIX regime")


# --- benchmarks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NaiveRebalancerConfig(RuleConfig):
    """Restores delta by selling more of the opposite wing: the rebalancing spiral."""

    agent: Literal["naive_rebalancer"] = "naive_rebalancer"
    delta_budget: float | None = _delta_budget()
    imbalance: float = setting(
        0.5, gt=0.0, doc="net delta over delta budget at which more of the opposite wing is sold"
    )


@dataclass(frozen=True)
class HoldToExpiryConfig(RuleConfig):
    """Sell the structure, hold it to expiry, sell it again."""

    agent: Literal["hold_to_expiry"] = "hold_to_expiry"
    layers: tuple[LayerKind, ...] = setting(
        ("call_wing", "put_wing"), doc="kinds of the layers reopened whenever flat (the strangle)"
    )


@dataclass(frozen=True)
class PutWriteConfig(RuleConfig):
    """Sell one-month at-the-money puts each month, fully collateralised (strikes and size: the book)."""

    agent: Literal["put_write"] = "put_write"
    close_other_layers: bool = setting(
        True, doc="close any open layer other than the put wing, so the book is the put-write alone"
    )


CONFIG_TYPES: dict[str, type[RuleConfig]] = {
    "dynamic_exposure": DynamicExposureConfig,
    "alvh": AlvhConfig,
    "naive_rebalancer": NaiveRebalancerConfig,
    "hold_to_expiry": HoldToExpiryConfig,
    "put_write": PutWriteConfig,
}
"""The config class of each agent name."""


def merge_regime_thresholds(data: Mapping[str, Any]) -> dict[str, Any]:
    """A raw rule-config mapping whose regimes' ``thresholds`` are completed from the top-level block.

    >>> merged = merge_regime_thresholds(
    ...     {"thresholds": {"a": 1, "b": 2}, "regimes": [{"vix_below": 18, "thresholds": {"b": 3}}]})
    >>> merged["regimes"][0]["thresholds"]
    {'a': 1, 'b': 3}
    """
    merged = dict(data)
    base = merged.get("thresholds") or {}
    regimes = merged.get("regimes")
    if isinstance(base, Mapping) and isinstance(regimes, list):
        merged["regimes"] = [_complete(regime, base) for regime in regimes]
    return merged


def _complete(regime: Any, base: Mapping[str, Any]) -> Any:
    if not isinstance(regime, Mapping):
        return regime
    override = regime.get("thresholds") or {}
    if not isinstance(override, Mapping):
        return regime
    return {**regime, "thresholds": {**base, **override}}
