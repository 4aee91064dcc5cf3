"""Causal daily indicators on price series: realised volatility, RSI and MACD.

All functions take closes shaped ``(n_paths, n_days)`` and return arrays of the same shape whose
value on day ``d`` uses closes up to day ``d`` only. :func:`per_bar` spreads daily values over a
path's bars so that a bar sees the value of the last close before it.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from thetagym.market.calendar import TRADING_DAYS_PER_YEAR


def exponential_average(values: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average along the last axis with ``alpha = 2 / (span + 1)``,
    started at the first value.

    >>> exponential_average(np.array([[1.0, 1.0, 4.0]]), span=3).tolist()
    [[1.0, 1.0, 2.5]]
    """
    alpha = 2.0 / (span + 1.0)
    first = values[..., :1]
    filtered = lfilter([alpha], [1.0, alpha - 1.0], values - first, axis=-1)
    return np.asarray(filtered + first)


def realised_volatility(closes: np.ndarray, window: int = 21) -> np.ndarray:
    """Annualised close-to-close volatility over the trailing ``window`` days (decimal).

    Days with fewer than ``window`` returns use the returns they have; day 0 gives 0.

    >>> closes = 100 * np.exp(np.cumsum(np.tile([0.01, -0.01], 20)))[None, :]
    >>> round(float(realised_volatility(closes)[0, -1]), 4)
    0.1587
    """
    returns = np.diff(np.log(closes), axis=-1, prepend=np.log(closes[..., :1]))
    squared = np.cumsum(returns * returns, axis=-1)
    lagged = np.zeros_like(squared)
    lagged[..., window:] = squared[..., :-window]
    counts = np.minimum(np.arange(closes.shape[-1]), window)
    mean_square = (squared - lagged) / np.maximum(counts, 1)
    return np.asarray(np.sqrt(mean_square * TRADING_DAYS_PER_YEAR))


def rsi(closes: np.ndarray, period: int = 14) -> np.ndarray:
    """Relative strength index with Wilder's smoothing, scaled to [-1, 1] as ``(RSI - 50) / 50``.

    >>> float(rsi(np.array([[1.0, 2.0, 3.0, 4.0]]))[0, -1])
    1.0
    """
    change = np.diff(closes, axis=-1, prepend=closes[..., :1])
    alpha = 1.0 / period
    # Gains and losses smoothed in one call (rows are independent: the same values as two calls).
    moves = np.empty((2, *change.shape))
    np.maximum(change, 0.0, out=moves[0])
    np.maximum(-change, 0.0, out=moves[1])
    gains, losses = lfilter([alpha], [1.0, alpha - 1.0], moves, axis=-1)
    total = gains + losses
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.where(total > 0, (gains - losses) / np.where(total > 0, total, 1.0), 0.0)
    return np.asarray(strength)


def macd(closes: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> np.ndarray:
    """MACD histogram (MACD line minus its signal line) over the close, so unitless.

    >>> float(macd(np.full((1, 5), 50.0))[0, -1])
    0.0
    """
    line = exponential_average(closes, fast) - exponential_average(closes, slow)
    histogram = line - exponential_average(line, signal)
    return np.asarray(histogram / closes)


def per_bar(daily: np.ndarray, bars_per_day: int) -> np.ndarray:
    """Spread ``(n_paths, n_days + 1)`` daily values (column 0: the close before the first day)
    over ``(n_paths, n_days * bars_per_day + 1)`` bars: the bars of day ``d`` see the value of
    close ``d`` (the previous close) and the day's close bar sees close ``d + 1``.

    >>> per_bar(np.array([[0.0, 1.0, 2.0]]), bars_per_day=2).tolist()
    [[0.0, 0.0, 1.0, 1.0, 2.0]]
    """
    previous = np.repeat(daily[..., :-1], bars_per_day, axis=-1)
    bars = np.concatenate([daily[..., :1], previous], axis=-1)
    bars[..., bars_per_day::bars_per_day] = daily[..., 1:]
    return bars
