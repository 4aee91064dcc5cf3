"""The observation: a fixed-size float32 vector scaled by construction into about [-5, 5].

No running statistics: every feature is divided by a fixed, meaningful scale (the layer's
contract cap, the starting capital, 30 days, ...) and the vector is clipped to ``[-clip, clip]``.
Three blocks, in order:

* per layer (``<layer>.<feature>``), :data:`LAYER_FEATURES`;
* book (``book.<feature>``), :data:`BOOK_FEATURES`;
* market (``market.<feature>``), :data:`MARKET_FEATURES`, computed once per path for every bar
  by :func:`market_features` (each bar's row uses the path up to that bar only).

The observation at bar ``t`` reads the book marked at bar ``t`` and market data up to ``t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from thetagym.book.compiled.guard import ES_MULTIPLIER
from thetagym.book.compiled.step import (
    BOOK_CASH,
    BOOK_EQUITY,
    BOOK_MARGIN_REQUIREMENT,
    N_BOOK_TOTALS,
    N_SUMS,
    NEAREST,
    NET,
    SUMS,
)
from thetagym.env import kernels
from thetagym.market.path import MarketPath

if TYPE_CHECKING:
    from thetagym.book import BookView

ONE_PERCENT = 0.01

LAYER_FEATURES = kernels.LAYER_FEATURES
"""Per-layer entries (defined where the compiled observation writes them)."""
BOOK_FEATURES = kernels.BOOK_FEATURES
"""Book entries."""
MARKET_FEATURES = (
    "log_vix",  # log(VIX / 20)
    "term_slope",  # (VIX / VIX3M - 1) x5
    "realised_volatility",  # trailing 21-day, per year x5
    "index_rsi",  # (RSI - 50) / 50
    "index_macd",  # MACD histogram over price x100
    "vix_rsi",
    "vix_macd",  # x20
    "index_return_bar",  # log return of the last bar, percent
    "index_return_day",  # log return over the last day's bars, percent / 2
    "time_of_day",  # bar within the trading day / bars per day, in [0, 1)
    "days_to_weekly",  # trading days to the next weekly expiry / 5
    "days_to_monthly",  # trading days to the next monthly expiry / 21
)
NO_EXPIRY_DAYS = 63.0
"""Trading days reported when the path ends before the next expiry."""


def observation_names(config: Any) -> list[str]:
    """Names of the observation's entries, in order, for an :class:`~thetagym.env.config.EnvConfig`
    (or anything with ``.book.layers[i].name``)."""
    return layout_names([layer.name for layer in config.book.layers])


def layout_names(layer_names: Sequence[str]) -> list[str]:
    """Observation names for a book whose layers are named ``layer_names``.

    >>> layout_names(["put"])[:2], len(layout_names(["put"]))
    (['put.delta', 'put.gamma'], 29)
    """
    names = [f"{layer}.{feature}" for layer in layer_names for feature in LAYER_FEATURES]
    names += [f"book.{feature}" for feature in BOOK_FEATURES]
    names += [f"market.{feature}" for feature in MARKET_FEATURES]
    return names


def market_features(path: MarketPath) -> np.ndarray:
    """Market block of the observation for every bar: ``(n_paths, n_bars + 1, n_features)`` float32.

    Row ``k`` uses the path's per-bar series at bars ``<= k`` and the expiry calendar.
    """
    bars_per_day = path.bars_per_day
    n_bars = path.n_bars
    bars = np.arange(n_bars + 1)
    index = np.log(path.index)
    bar_return = np.zeros_like(index)
    bar_return[:, 1:] = np.diff(index, axis=1)
    day_return = np.zeros_like(index)
    day_return[:, bars_per_day:] = index[:, bars_per_day:] - index[:, :-bars_per_day]
    day_return[:, 1:bars_per_day] = index[:, 1:bars_per_day] - index[:, :1]
    features = [
        np.log(path.vix / 20.0),
        (path.vix / path.vix3m - 1.0) * 5.0,
        path.realised_volatility * 5.0,
        path.index_rsi,
        path.index_macd * 100.0,
        path.vix_rsi,
        path.vix_macd * 20.0,
        bar_return * 100.0,
        day_return * 50.0,
        np.broadcast_to(np.where(bars == 0, 0, (bars - 1) % bars_per_day) / bars_per_day, index.shape),
        _days_to_expiry(path, "weekly") / 5.0,
        _days_to_expiry(path, "monthly") / 21.0,
    ]
    # One pass per feature straight into float32 (np.stack then astype went through float64 with a
    # slow last-axis concatenation: most of a reset's cost outside the simulator).
    table = np.empty((*index.shape, len(features)), dtype=np.float32)
    for position, feature in enumerate(features):
        table[..., position] = feature
    return table


def _days_to_expiry(path: MarketPath, schedule: str) -> np.ndarray:
    """Trading days from each bar to the close of the next expiry of ``schedule``, ``(n_paths, n_bars + 1)``."""
    bars = np.arange(path.n_bars + 1)
    day = np.asarray(path.day_of_bar(bars))
    expiry_day = path.next_expiry[schedule][:, day]
    # After the close bar of an expiry day, that expiry has settled: look at the next day.
    settled = bars >= path.close_bar(day)
    next_day = np.minimum(day + 1, path.n_days - 1)
    expiry_day = np.where(settled, path.next_expiry[schedule][:, next_day], expiry_day)
    days = (path.close_bar(expiry_day) - bars) / path.bars_per_day
    return np.where(expiry_day >= 0, days, NO_EXPIRY_DAYS)


class ObservationBuilder:
    """The scales of the observation's features: ``layer_caps`` holds each layer's contract cap,
    ``capital`` the starting capital (USD), ``clip`` the bound. The observation itself is built by
    one compiled function, :func:`thetagym.env.kernels.observe_env`, on reset as on step.
    """

    def __init__(self, layer_caps: Sequence[float], capital: float, clip: float) -> None:
        self.n_layers = len(layer_caps)
        self.capital = float(capital)
        self.clip = float(clip)
        self.size = self.n_layers * len(LAYER_FEATURES) + len(BOOK_FEATURES) + len(MARKET_FEATURES)
        caps = np.maximum(np.asarray(layer_caps, dtype=float), 1.0)
        gamma_scale = 0.5 * ONE_PERCENT**2 * ES_MULTIPLIER / capital * 100.0
        per_layer = np.array(
            [
                1.0,
                gamma_scale,
                100.0 / capital,
                1000.0 / capital,
                1.0,
                1.0 / 30.0,
                10.0 / capital,
                1.0,
                1.0,
                1.0,
            ]
        )
        self._layer_scale = np.tile(per_layer, (self.n_layers, 1))
        for column in ("delta", "contracts", "counter_contracts"):
            self._layer_scale[:, LAYER_FEATURES.index(column)] /= caps
        self._book_scale = np.array(
            [1.0 / caps.sum(), gamma_scale, 100.0 / capital, 1000.0 / capital, 1.0, 10.0, 10.0 / capital]
        )
        self.scales = (self._layer_scale.reshape(-1), self._book_scale, np.array([self.capital, self.clip]))
        """What :func:`~thetagym.env.kernels.observe_env` reads of the builder: the flat layer scale
        ``(n_layers * 10,)``, the book scale ``(7,)`` and the constants (capital in USD, clip)."""

    def build_at(
        self, view: BookView, drawdown: np.ndarray, index: np.ndarray, market: np.ndarray, bars: np.ndarray
    ) -> np.ndarray:
        """Observation ``(num_envs, size)`` float32 of every env of a ``view`` made outside the env
        (with the env's own function, :func:`~thetagym.env.kernels.observe_env`), given the current
        ``drawdown`` (fraction of capital), reading env ``i``'s index level and market row at bar
        ``bars[i]`` of ``index`` (``(num_envs, n_bars + 1)`` points) and ``market`` (the
        :func:`market_features` table)."""
        n = np.asarray(view.equity).shape[0]
        sums = np.zeros((n, N_SUMS, self.n_layers))
        for row, name in enumerate(SUMS[: SUMS.index("structure_contracts")]):
            sums[:, row] = getattr(view, name)
        nearest = np.stack([np.asarray(getattr(view, name), dtype=float) for name in NEAREST], axis=1)
        net = np.stack([np.asarray(getattr(view, name), dtype=float) for name in NET], axis=1)
        totals = np.zeros((n, N_BOOK_TOTALS))
        totals[:, BOOK_EQUITY] = view.equity
        totals[:, BOOK_CASH] = view.cash
        totals[:, BOOK_MARGIN_REQUIREMENT] = view.margin_requirement
        aggregates = (sums, nearest, net, np.array(view.is_open, dtype=bool), totals)
        observing = (np.asarray(index, dtype=float), np.asarray(market, dtype=np.float32), *self.scales)
        out = np.empty((n, self.size), dtype=np.float32)
        kernels.observe(
            aggregates, np.array(drawdown, dtype=float), observing, np.array(bars, dtype=np.int64), out
        )
        return out
