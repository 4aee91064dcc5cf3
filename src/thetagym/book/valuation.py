"""Pricing the book's legs from the market: mids, Greeks, bid/ask costs and standard strikes.

ES options are Black-76 on the ES future of the quarterly expiry they exercise into, at the
surface's implied volatility; ES futures are that future; VIX calls are Black-76 on the VIX
future of the option's expiry at :func:`~thetagym.market.vix.vix_option_volatility`; ETP shares
are ``path.vxx`` or ``path.inverse_vix``. Non-options get delta 1 and no gamma, vega or theta.
Greeks are per point of the leg's own underlying, vega per 1.00 of volatility, theta per year
of trading time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from thetagym.book.config import BookConfig
from thetagym.book.positions import SlotLayout
from thetagym.market.path import MarketPath
from thetagym.market.surface import implied_volatility
from thetagym.market.vix import vix_future_price, vix_option_volatility
from thetagym.pricing.black76 import black76_greeks
from thetagym.pricing.spreads import bid_ask, futures_bid_ask

_STRIKE_ITERATIONS = 3
MAX_YEARS = 10.0
"""Cap on times to expiry (years): legs that never expire (ETP shares) stay finite."""


def years_between(market: MarketPath, bars: np.ndarray, target_bar: np.ndarray) -> np.ndarray:
    """Trading years from ``bars`` (column) to ``target_bar``, capped at :data:`MAX_YEARS`."""
    return np.minimum(market.time_to_bar(bars[:, None], target_bar), MAX_YEARS)


@dataclass
class Marks:
    """Per-leg market state, ``(n_envs, n_slots)``: ``underlying`` (points or USD per share),
    ``volatility`` (decimal), ``time_to_expiry`` (years) and the Black-76 price and Greeks."""

    underlying: np.ndarray
    volatility: np.ndarray
    time_to_expiry: np.ndarray
    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray

    def where(self, mask: np.ndarray, other: Marks) -> Marks:
        """``other`` where ``mask`` (``(n_envs, n_slots)``), else ``self``."""
        return Marks(
            *(np.where(mask, b, a) for a, b in zip(vars(self).values(), vars(other).values(), strict=True))
        )

    def take(self, rows: np.ndarray) -> Marks:
        return Marks(*(value[rows] for value in vars(self).values()))

    def copy(self) -> Marks:
        return Marks(*(value.copy() for value in vars(self).values()))

    def put(self, rows: np.ndarray, other: Marks) -> None:
        for name, value in vars(other).items():
            getattr(self, name)[rows] = value


class Valuation:
    """Prices a layout's legs; holds the static column groups so each bar costs one Greeks call."""

    def __init__(self, config: BookConfig, layout: SlotLayout) -> None:
        self.config = config
        self.layout = layout
        self.vix_columns = np.flatnonzero(layout.is_vix)
        self.etp_columns = np.flatnonzero(layout.is_etp)
        self.option = layout.is_option
        self.is_call = layout.is_call
        self.linear = ~layout.is_option
        self.es_option = layout.is_option & layout.is_es
        self.vix_call = layout.is_option & layout.is_vix

    def underlying(
        self,
        market: MarketPath,
        rows: np.ndarray,
        bars: np.ndarray,
        expiry_bar: np.ndarray,
        underlying_bar: np.ndarray,
    ) -> np.ndarray:
        """Price of each leg's underlying (``(n, n_slots)``): the ES future of ``underlying_bar``,
        the VIX future of ``expiry_bar``, or the ETP share."""
        forward = market.es_future(rows, bars, years_between(market, bars, underlying_bar))
        if self.vix_columns.size:
            tau = years_between(market, bars, expiry_bar[:, self.vix_columns])
            forward[:, self.vix_columns] = vix_future_price(market, rows, bars, tau)
        if self.etp_columns.size:
            inverse = self.layout.etp_inverse[self.etp_columns]
            forward[:, self.etp_columns] = np.where(
                inverse, market.inverse_vix[rows, bars][:, None], market.vxx[rows, bars][:, None]
            )
        return forward

    def volatility(
        self,
        market: MarketPath,
        rows: np.ndarray,
        bars: np.ndarray,
        strike: np.ndarray,
        forward: np.ndarray,
        time_to_expiry: np.ndarray,
    ) -> np.ndarray:
        """Implied volatility of each option leg (0 for the others)."""
        safe_strike = np.where(strike > 0.0, strike, forward)
        surface = market.surface_at(rows, bars)
        volatility = implied_volatility(surface, np.log(safe_strike / forward), time_to_expiry)
        if self.vix_columns.size:
            volatility[:, self.vix_columns] = vix_option_volatility(
                market, rows, bars, time_to_expiry[:, self.vix_columns]
            )
        return np.where(self.option, volatility, 0.0)

    def mark(
        self,
        market: MarketPath,
        rows: np.ndarray,
        bars: np.ndarray,
        strike: np.ndarray,
        expiry_bar: np.ndarray,
        underlying_bar: np.ndarray,
        forward: np.ndarray | None = None,
    ) -> Marks:
        """Mid prices and Greeks of every slot of envs ``rows`` at bars ``bars`` (one Greeks call).
        ``forward``: the legs' :meth:`underlying` at these bars, when the caller has it already."""
        if forward is None:
            forward = self.underlying(market, rows, bars, expiry_bar, underlying_bar)
        time_to_expiry = years_between(market, bars, expiry_bar)
        volatility = self.volatility(market, rows, bars, strike, forward, time_to_expiry)
        greeks = black76_greeks(forward, strike, time_to_expiry, volatility, self.is_call, market.rate)
        option = self.option
        return Marks(
            underlying=forward,
            volatility=volatility,
            time_to_expiry=time_to_expiry,
            price=np.where(option, greeks.price, forward),
            delta=np.where(option, greeks.delta, 1.0),
            gamma=np.where(option, greeks.gamma, 0.0),
            vega=np.where(option, greeks.vega, 0.0),
            theta=np.where(option, greeks.theta, 0.0),
        )

    def trade_cost(self, marks: Marks, strike: np.ndarray, trade: np.ndarray) -> np.ndarray:
        """Points per contract paid over mid to trade ``trade`` (signed) at the bid or ask."""
        config = self.config
        spreads = config.spreads
        with np.errstate(divide="ignore", invalid="ignore"):
            safe_strike = np.where(strike > 0.0, strike, marks.underlying)
            std = np.log(safe_strike / marks.underlying) / (marks.volatility * np.sqrt(marks.time_to_expiry))
        bid, ask = bid_ask(spreads, marks.price, std, marks.time_to_expiry, marks.volatility)
        future_bid, future_ask = futures_bid_ask(spreads, marks.underlying)
        buy_cost = np.where(self.option, ask - marks.price, future_ask - marks.underlying)
        sell_cost = np.where(self.option, marks.price - bid, marks.underlying - future_bid)
        cost = np.where(trade > 0, buy_cost, sell_cost)
        linear_other = self.linear & ~self.layout.is_es
        if linear_other.any():
            other_half = np.where(self.layout.is_etp, config.etp_half_spread, config.vix_future_half_spread)
            cost = np.where(linear_other, other_half, cost)
        return cost

    def strike_for_delta(
        self,
        market: MarketPath,
        rows: np.ndarray,
        bars: np.ndarray,
        forward: np.ndarray,
        time_to_expiry: np.ndarray,
    ) -> np.ndarray:
        """Strikes (points, on the strike grid) whose Black-76 delta is each slot's target.

        Solves ``K = F exp(-d1 sigma sqrt(T) + sigma^2 T / 2)`` with ``d1 = N^-1(|delta| e^{rT})``
        (negated for puts), re-reading the smile at the new strike a few times. Long condor wings
        are placed ``strike_offset`` points from their short leg's strike.
        """
        layout = self.layout
        tau = np.maximum(time_to_expiry, 1e-6)
        probability = np.clip(np.abs(layout.delta_target) * np.exp(market.rate * tau), 1e-4, 1 - 1e-4)
        d1 = np.where(self.is_call, ndtri(probability), -ndtri(probability))
        strike = forward.copy()
        surface = market.surface_at(rows, bars)
        # VIX option volatility does not depend on the strike: read it once.
        vix_volatility = (
            vix_option_volatility(market, rows, bars, tau[:, self.vix_columns])
            if self.vix_columns.size
            else None
        )
        for _ in range(_STRIKE_ITERATIONS):
            volatility = implied_volatility(surface, np.log(strike / forward), tau)
            if vix_volatility is not None:
                volatility[:, self.vix_columns] = vix_volatility
            std = volatility * np.sqrt(tau)
            strike = forward * np.exp(-d1 * std + 0.5 * std * std)
        step = np.where(layout.is_vix, self.config.vix_strike_step, self.config.strike_step)
        strike = np.maximum(np.round(strike / step) * step, step)
        strike = strike[:, layout.anchor] + layout.strike_offset
        return np.where(self.option, np.maximum(strike, step), 0.0)
