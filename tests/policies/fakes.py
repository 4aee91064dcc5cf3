"""Constructed book states for the rule agents' tests: a BookView-like object with the contract's
fields, observations named as the env names them, and all-legal masks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from thetagym.env.observation import layout_names
from thetagym.policies.base import PolicyContext
from thetagym.pricing.instruments import InstrumentKind

MAX_LEGS = 8
LAYER_CHOICES = 8
BALANCER_CHOICES = 4


@dataclass
class FakeView:
    """The fields of :class:`thetagym.book.BookView`, writeable, for ``num_envs`` envs."""

    num_envs: int
    n_layers: int
    delta: np.ndarray = field(init=False)
    gamma: np.ndarray = field(init=False)
    vega: np.ndarray = field(init=False)
    theta: np.ndarray = field(init=False)
    short_strike_moneyness: np.ndarray = field(init=False)
    days_to_expiry: np.ndarray = field(init=False)
    unrealised_pnl: np.ndarray = field(init=False)
    contracts: np.ndarray = field(init=False)
    counter_contracts: np.ndarray = field(init=False)
    is_open: np.ndarray = field(init=False)
    net_delta: np.ndarray = field(init=False)
    net_gamma: np.ndarray = field(init=False)
    net_vega: np.ndarray = field(init=False)
    net_theta: np.ndarray = field(init=False)
    margin_requirement: np.ndarray = field(init=False)
    equity: np.ndarray = field(init=False)
    cash: np.ndarray = field(init=False)
    kind: np.ndarray = field(init=False)
    strike: np.ndarray = field(init=False)
    expiry_bar: np.ndarray = field(init=False)
    quantity: np.ndarray = field(init=False)
    layer: np.ndarray = field(init=False)
    entry_price: np.ndarray = field(init=False)
    is_counter: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        per_layer = (self.num_envs, self.n_layers)
        for name in ("delta", "gamma", "vega", "theta", "short_strike_moneyness", "days_to_expiry"):
            setattr(self, name, np.zeros(per_layer))
        self.unrealised_pnl = np.zeros(per_layer)
        self.contracts = np.zeros(per_layer)
        self.counter_contracts = np.zeros(per_layer)
        self.is_open = np.zeros(per_layer, dtype=bool)
        for name in ("net_delta", "net_gamma", "net_vega", "net_theta", "margin_requirement", "cash"):
            setattr(self, name, np.zeros(self.num_envs))
        self.equity = np.full(self.num_envs, 1_000_000.0)
        legs = (self.num_envs, MAX_LEGS)
        self.kind = np.full(legs, -1)
        self.strike = np.zeros(legs)
        self.expiry_bar = np.zeros(legs, dtype=np.int64)
        self.quantity = np.zeros(legs)
        self.layer = np.full(legs, -1)
        self.entry_price = np.zeros(legs)
        self.is_counter = np.zeros(legs, dtype=bool)

    def hold_short(
        self, env: int, layer: int, kind: InstrumentKind, moneyness: float, days: float = 10.0, size: int = 2
    ) -> None:
        """Put a short option (strike 5000) into ``layer`` of ``env``; the layer is open."""
        slot = self._free_slot(env)
        self.kind[env, slot] = kind
        self.strike[env, slot] = 5000.0
        self.quantity[env, slot] = -size
        self.layer[env, slot] = layer
        self.short_strike_moneyness[env, layer] = moneyness
        self.days_to_expiry[env, layer] = days
        self.contracts[env, layer] += size
        self.is_open[env, layer] = True

    def hold_futures(self, env: int, layer: int, quantity: int, counter: bool = False) -> None:
        """ES futures in ``layer``: a counter-trade, else a structure or assigned position."""
        slot = self._free_slot(env)
        self.kind[env, slot] = InstrumentKind.ES_FUTURE
        self.quantity[env, slot] = quantity
        self.layer[env, slot] = layer
        self.is_counter[env, slot] = counter
        if counter:
            self.counter_contracts[env, layer] += abs(quantity)
        self.contracts[env, layer] += abs(quantity)

    def _free_slot(self, env: int) -> int:
        return int(np.flatnonzero(self.quantity[env] == 0)[0])


@dataclass
class Scene:
    """A fake env state: layers, a view, an observation batch and masks."""

    layer_kinds: Sequence[str]
    num_envs: int = 1
    view: FakeView = field(init=False)
    observations: np.ndarray = field(init=False)
    masks: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.layer_names = [f"{kind}_{i}" for i, kind in enumerate(self.layer_kinds)]
        self.names = layout_names(self.layer_names)
        self.view = FakeView(self.num_envs, len(self.layer_kinds))
        self.observations = np.zeros((self.num_envs, len(self.names)), dtype=np.float32)
        self.masks = np.ones((self.num_envs, self.width), dtype=bool)

    @property
    def width(self) -> int:
        return len(self.layer_kinds) * LAYER_CHOICES + BALANCER_CHOICES

    @property
    def nvec(self) -> np.ndarray:
        return np.array([LAYER_CHOICES] * len(self.layer_kinds) + [BALANCER_CHOICES])

    def context(self) -> PolicyContext:
        return PolicyContext(
            book=self.view,
            observation_names=self.names,
            layer_names=self.layer_names,
            layer_kinds=list(self.layer_kinds),
            info={},
        )

    def market(self, **features: float) -> None:
        """Set market features in the observation's units (e.g. ``index_return_bar=1.2`` percent)."""
        for name, value in features.items():
            self.observations[:, self.names.index(f"market.{name}")] = value

    def set_vix(self, vix: float) -> None:
        self.market(log_vix=float(np.log(vix / 20.0)))

    def forbid(self, layer: int, action: int) -> None:
        self.masks[:, layer * LAYER_CHOICES + action] = False

    def forbid_balancer(self, action: int) -> None:
        self.masks[:, len(self.layer_kinds) * LAYER_CHOICES + action] = False

    def act(self, agent: object) -> np.ndarray:
        return agent.act(self.observations, self.masks, self.context())  # type: ignore[attr-defined]
