"""Small stand-ins for the env's tests of its own mechanics: a synthetic market path and a book
that follows the book contract with a trivial P&L (so env behaviour can be forced exactly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from thetagym.market import indicators
from thetagym.market.calendar import trading_days
from thetagym.market.path import MarketPath, next_expiry_table


def synthetic_path(seeds: np.ndarray, n_days: int, bars_per_day: int, drift: float = 0.0) -> MarketPath:
    """Geometric Brownian index paths with a VIX that follows realised moves; one path per seed."""
    seeds = np.asarray(seeds)
    n = len(seeds)
    n_bars = n_days * bars_per_day
    noise = np.stack([np.random.default_rng(int(s)).standard_normal(n_bars) for s in seeds])
    dt = 1 / (252 * bars_per_day)
    log_index = np.cumsum((drift - 0.02) * dt + 0.2 * np.sqrt(dt) * noise, axis=1)
    index = 5000 * np.exp(np.concatenate([np.zeros((n, 1)), log_index], axis=1))
    vix = 18 * np.exp(-2 * (np.log(index / 5000)))
    closes = index[:, ::bars_per_day]
    vix_closes = vix[:, ::bars_per_day]
    bars = {
        "realised_volatility": indicators.per_bar(indicators.realised_volatility(closes), bars_per_day),
        "index_rsi": indicators.per_bar(indicators.rsi(closes), bars_per_day),
        "index_macd": indicators.per_bar(indicators.macd(closes), bars_per_day),
        "vix_rsi": indicators.per_bar(indicators.rsi(vix_closes), bars_per_day),
        "vix_macd": indicators.per_bar(indicators.macd(vix_closes), bars_per_day),
    }
    dates = np.tile(trading_days("2024-01-02", n_days), (n, 1))
    variance = (vix / 100) ** 2
    return MarketPath(
        bars_per_day=bars_per_day,
        dates=dates,
        index=index,
        variance=variance,
        implied_variance=variance,
        skew=np.full_like(index, 0.3),
        vix=vix,
        vix3m=vix * 1.05,
        vxx=vix,
        inverse_vix=100 / vix,
        long_implied_variance=np.full(n, 0.03),
        implied_mean_reversion=np.full(n, 2.0),
        jump_variance=np.zeros(n),
        curvature=np.full(n, 0.05),
        scenario=np.zeros(n, dtype=np.int64),
        scenario_names=("synthetic",),
        next_expiry=next_expiry_table(dates),
        **bars,
    )


@dataclass(frozen=True)
class FakeLayer:
    name: str
    max_contracts: int = 20
    contracts: int = 10


@dataclass(frozen=True)
class FakeBookConfig:
    capital: float = 1_000_000.0
    layers: tuple[FakeLayer, ...] = (FakeLayer("put_wing"), FakeLayer("call_wing"))
    guard: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(enabled=True))
    margin_per_contract: float = 20_000.0
    """USD of margin per gross contract; a margin call when equity falls below the requirement."""
    delta_per_contract: float = 0.3


@dataclass(frozen=True)
class FakeStep:
    equity: np.ndarray
    cash: np.ndarray
    pnl: np.ndarray
    theta_accrued: np.ndarray
    blocked: np.ndarray
    margin_requirement: np.ndarray
    margin_call: np.ndarray
    gross_contracts: np.ndarray
    rolls: np.ndarray
    assignments: np.ndarray
    counter_trades: np.ndarray
    adds_blocked: np.ndarray


class FakeBook:
    """Each layer is short ``contracts`` units of index exposure with delta ``delta_per_contract``;
    action OPEN (5) adds 1 contract, CLOSE (4) closes the layer; OPEN is illegal at the cap."""

    def __init__(self, config: FakeBookConfig, num_envs: int) -> None:
        self.config = config
        self.num_envs = num_envs
        n = len(config.layers)
        self.action_nvec = np.array([8] * n + [4])
        self.caps = np.array([layer.max_contracts for layer in config.layers])
        self.margin_per_contract = getattr(config, "margin_per_contract", 20_000.0)
        self.delta_per_contract = getattr(config, "delta_per_contract", 0.3)
        self.contracts = np.zeros((num_envs, n))
        self.equity = np.full(num_envs, config.capital)
        self.requirement = np.zeros(num_envs)

    def reset(self, rows: np.ndarray, market: MarketPath, bars: np.ndarray) -> None:
        self.contracts[rows] = [layer.contracts for layer in self.config.layers]
        self.equity[rows] = self.config.capital
        self.requirement[rows] = self.contracts[rows].sum(axis=1) * self.margin_per_contract

    def action_masks(self, market: MarketPath, bars: np.ndarray) -> np.ndarray:
        masks = np.ones((self.num_envs, int(self.action_nvec.sum())), dtype=bool)
        n = len(self.config.layers)
        masks[:, 5 : 8 * n : 8] = self.contracts < self.caps
        return masks

    def step(self, actions: np.ndarray, market: MarketPath, bars: np.ndarray) -> FakeStep:
        rows = np.arange(self.num_envs)
        layer_actions = actions[:, :-1]
        wants_open = layer_actions == 5
        legal = self.contracts < self.caps
        blocked = (wants_open & ~legal).sum(axis=1) if self.config.guard.enabled else np.zeros(self.num_envs)
        opened = wants_open & (legal | (not self.config.guard.enabled))
        self.contracts += opened
        self.contracts[layer_actions == 4] = 0
        move = market.index[rows, bars + 1] - market.index[rows, bars]
        exposure = self.contracts.sum(axis=1) * self.delta_per_contract * 50.0
        theta = self.contracts.sum(axis=1) * 40.0
        pnl = theta - exposure * np.abs(move)
        self.equity = self.equity + pnl
        self.requirement = self.contracts.sum(axis=1) * self.margin_per_contract
        margin_call = self.equity < self.requirement
        self.contracts[margin_call] = 0
        zeros = np.zeros(self.num_envs, dtype=np.int64)
        return FakeStep(
            equity=self.equity.copy(),
            cash=self.equity.copy(),
            pnl=pnl,
            theta_accrued=theta,
            blocked=blocked.astype(np.int64),
            margin_requirement=self.requirement.copy(),
            margin_call=margin_call,
            gross_contracts=self.contracts.sum(axis=1).astype(np.int64),
            rolls=zeros,
            assignments=zeros,
            counter_trades=zeros,
            adds_blocked=zeros,
        )

    def view(self) -> SimpleNamespace:
        n = len(self.config.layers)
        zeros = np.zeros((self.num_envs, n))
        return SimpleNamespace(
            delta=-self.contracts * self.delta_per_contract,
            gamma=-self.contracts * 1e-3,
            vega=-self.contracts * 100.0,
            theta=self.contracts * 40.0,
            short_strike_moneyness=np.where(self.contracts > 0, -1.0, 0.0),
            days_to_expiry=np.where(self.contracts > 0, 14.0, 0.0),
            unrealised_pnl=zeros,
            contracts=self.contracts.copy(),
            counter_contracts=zeros,
            is_open=self.contracts > 0,
            net_delta=-self.contracts.sum(axis=1) * self.delta_per_contract,
            net_gamma=-self.contracts.sum(axis=1) * 1e-3,
            net_vega=-self.contracts.sum(axis=1) * 100.0,
            net_theta=self.contracts.sum(axis=1) * 40.0,
            margin_requirement=self.requirement.copy(),
            equity=self.equity.copy(),
            cash=self.equity.copy(),
        )
