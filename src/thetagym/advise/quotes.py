"""Option quotes in place of the model surface.

The book marks every ES option on one parametric surface (:func:`thetagym.market.surface.implied_volatility`),
read from the market path by its compiled kernels. Quotes therefore replace the surface by
calibrating it: the surface's instantaneous variance, long-run variance and skew are fitted, by
least squares in volatility, to the quotes' implied volatilities (given, or implied from the
bid/ask mid by Black-76), and the fit's error is reported beside the advice.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares

from thetagym.advise.inputs import OptionQuote, Source
from thetagym.advise.snapshot import SnapshotState, bar_years
from thetagym.market.calendar import ExpiryCalendar
from thetagym.market.surface import SurfaceState, implied_volatility
from thetagym.pricing.black76 import black76_price

VOLATILITY_BOUNDS = (1e-4, 5.0)
BISECTIONS = 80
"""Halvings of the volatility interval: 5 / 2**80 is far below any quote's precision."""


def implied_from_price(
    price: np.ndarray,
    forward: np.ndarray,
    strike: np.ndarray,
    years: np.ndarray,
    is_call: np.ndarray,
    rate: float,
) -> np.ndarray:
    """Black-76 implied volatility (decimal) of option prices (points), by bisection; NaN where the
    price lies outside what any volatility in :data:`VOLATILITY_BOUNDS` gives.

    >>> vol = implied_from_price(np.array([black76_price(100.0, 100.0, 0.25, 0.2, True)]),
    ...     np.array([100.0]), np.array([100.0]), np.array([0.25]), np.array([True]), 0.0)
    >>> round(float(vol[0]), 10)
    0.2
    """
    low = np.full(price.shape, VOLATILITY_BOUNDS[0])
    high = np.full(price.shape, VOLATILITY_BOUNDS[1])
    floor = black76_price(forward, strike, years, low, is_call, rate)
    ceiling = black76_price(forward, strike, years, high, is_call, rate)
    for _ in range(BISECTIONS):
        middle = 0.5 * (low + high)
        above = black76_price(forward, strike, years, middle, is_call, rate) > price
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    return np.where((price >= floor) & (price <= ceiling), 0.5 * (low + high), np.nan)


def calibrate_surface(
    state: SnapshotState,
    quotes: tuple[OptionQuote, ...],
    calendar: ExpiryCalendar,
    bar: int,
    bars_per_day: int,
) -> tuple[SnapshotState, str]:
    """``state`` with its surface fitted to ``quotes`` (ES options) on the snapshot's ``calendar``
    (day 0 the snapshot's date) at ``bar``; and a one-line note on the fit."""
    dates = calendar.dates
    n = len(quotes)
    years, forward, strike = np.empty(n), np.empty(n), np.empty(n)
    is_call = np.empty(n, dtype=bool)
    observed = np.empty(n)
    for k, quote in enumerate(quotes):
        where = Source(quote.source.file, quote.source.line, "expiry")
        day = int(np.searchsorted(dates, np.datetime64(quote.expiry, "D")))
        if day >= len(dates) or dates[day] != np.datetime64(quote.expiry, "D"):
            raise where.error(
                quote.expiry.isoformat(), "is not a trading day on or after the snapshot's date"
            )
        bars_left = (day + 1) * bars_per_day - bar
        if bars_left <= 0:
            raise where.error(quote.expiry.isoformat(), "has expired at the snapshot's time")
        years[k] = bar_years(bars_left, bars_per_day)
        quarter = int(calendar.next_expiry("quarterly", day))
        quarter_bars = ((quarter + 1) * bars_per_day - bar) if quarter >= 0 else bars_left
        forward[k] = state.index * np.exp(state.carry * bar_years(quarter_bars, bars_per_day))
        strike[k] = quote.strike
        is_call[k] = quote.is_call
        observed[k] = np.nan if quote.implied_volatility is None else quote.implied_volatility
    from_price = np.isnan(observed)
    if from_price.any():
        mid = np.array([0.5 * ((q.bid or 0.0) + (q.ask or 0.0)) for q in quotes])
        implied = implied_from_price(mid, forward, strike, years, is_call, state.rate)
        observed = np.where(from_price, implied, observed)
        bad = np.flatnonzero(np.isnan(observed))
        if bad.size:
            quote = quotes[int(bad[0])]
            raise Source(quote.source.file, quote.source.line, "bid").error(
                float(mid[bad[0]]),
                "is a mid price no volatility gives (below intrinsic value, or absurdly high)",
            )
    log_moneyness = np.log(strike / forward)

    def surface(parameters: np.ndarray) -> SurfaceState:
        spot, long, skew = parameters
        return SurfaceState(
            *map(
                np.asarray,
                (spot, long, state.implied_mean_reversion, state.jump_variance, skew, state.curvature),
            )
        )

    def residuals(parameters: np.ndarray) -> np.ndarray:
        return np.asarray(implied_volatility(surface(parameters), log_moneyness, years) - observed)

    start = np.array([state.implied_variance, state.long_implied_variance, state.skew])
    lower, upper = np.array([1e-6, 1e-6, 0.0]), np.array([4.0, 4.0, 2.0])
    fit = least_squares(residuals, np.clip(start, lower, upper), bounds=(lower, upper))
    errors = residuals(fit.x)
    spot, long, skew = (float(value) for value in fit.x)
    calibrated = dataclasses.replace(state, implied_variance=spot, long_implied_variance=long, skew=skew)
    note = (
        f"surface calibrated to {n} option quotes: RMS error {100 * np.sqrt(np.mean(errors**2)):.2f} vol points, "
        f"largest {100 * np.max(np.abs(errors)):.2f}"
    )
    return calibrated, note
