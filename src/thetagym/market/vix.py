"""The VIX complex: VIX and VIX3M from the surface, VIX futures, VIX options volatility and ETPs.

Under the pricing measure the diffusive spot variance ``v`` mean-reverts at ``kappa`` to ``theta``
and jumps add a constant variance ``J`` per year. The square of an index of horizon ``T`` (the VIX:
``T`` = 21 trading days; VIX3M: 63) is the risk-neutral expected average variance over
``[0, T]``, the variance-swap-like rate of the surface's at-the-money term structure:

    VIX^2 = theta + (v - theta) * a(T) + J,   a(T) = (1 - exp(-kappa T)) / (kappa T).

VIX futures. Under Q the expected square of the VIX at a future time ``t`` is affine in ``v``:
``E[VIX_t^2] = theta + J + (v - theta) a(T) exp(-kappa t)``. The log-VIX has instantaneous
volatility ``eta = a(T) xi sqrt(v) / (2 VIX^2)`` (``xi`` the Q vol-of-variance) and reverts at
``kappa``, so its variance over ``[0, t]`` is about ``s^2 = eta^2 (1 - exp(-2 kappa t)) / (2 kappa)``;
for a log-normal VIX the futures price, the risk-neutral mean of the VIX, is

    F(t) = sqrt(E[VIX_t^2]) * exp(-s^2 / 2),

which equals the VIX at ``t = 0``. VIX options are priced with Black-76 on this future at the
volatility ``sqrt(s^2 / t)``.

Futures expire on the Wednesday 30 calendar days before the third Friday of the next month,
settling at that day's close (to the VIX). The VXX-like ETP holds a one-month constant-maturity
roll of the first two futures (the S&P 500 VIX short-term futures index rule: the front weight
falls linearly from 1 to 0 over the business days between two expiries, set at each close); the
inverse ETP returns minus the same index's return, reset daily.
"""

from __future__ import annotations

import numpy as np

from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
from thetagym.market.kernels import (
    MAX_VIX_OPTION_VOLATILITY,
    MIN_VIX_OPTION_VOLATILITY,
    log_vix_variance_scalar,
    vix_future_price_scalar,
    vix_option_volatility_scalar,
    vix_squared_scalar,
)
from thetagym.market.params import VIX3M_HORIZON, VIX_HORIZON
from thetagym.pricing.kernels import as_ufunc

Array = np.ndarray | float

# The formulas are the scalar kernels of thetagym.market.kernels, applied element by element.
_FIVE = f"float64({', '.join(['float64'] * 5)})"
_SIX = f"float64({', '.join(['float64'] * 6)})"


@as_ufunc([_FIVE])
def _vix_squared_ufunc(
    spot_variance: float, long_variance: float, mean_reversion: float, jump_variance: float, horizon: float
) -> float:
    return vix_squared_scalar(spot_variance, long_variance, mean_reversion, jump_variance, horizon)


@as_ufunc([_SIX])
def _log_vix_variance_ufunc(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    vol_of_variance: float,
    time_to_expiry: float,
) -> float:
    return log_vix_variance_scalar(
        spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, time_to_expiry
    )


@as_ufunc([_SIX])
def _futures_price_ufunc(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    vol_of_variance: float,
    time_to_expiry: float,
) -> float:
    return vix_future_price_scalar(
        spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, time_to_expiry
    )


@as_ufunc([_SIX])
def _vix_option_volatility_ufunc(
    spot_variance: float,
    long_variance: float,
    mean_reversion: float,
    jump_variance: float,
    vol_of_variance: float,
    time_to_expiry: float,
) -> float:
    return vix_option_volatility_scalar(
        spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, time_to_expiry
    )


def vix_squared(
    spot_variance: Array,
    long_variance: Array,
    mean_reversion: Array,
    jump_variance: Array,
    horizon: float = VIX_HORIZON,
) -> np.ndarray:
    """Risk-neutral expected average variance over ``horizon`` years (decimal, per year).

    >>> float(vix_squared(np.asarray(0.04), np.asarray(0.04), np.asarray(2.0), np.asarray(0.0)))
    0.04
    """
    return np.asarray(
        _vix_squared_ufunc(spot_variance, long_variance, mean_reversion, jump_variance, horizon)
    )


def vix_level(
    spot_variance: Array,
    long_variance: Array,
    mean_reversion: Array,
    jump_variance: Array,
    horizon: float = VIX_HORIZON,
) -> np.ndarray:
    """VIX-style index (points) of ``horizon`` years: ``100 * sqrt(vix_squared)``.

    >>> round(float(vix_level(np.asarray(0.0225), np.asarray(0.0225), np.asarray(2.0), np.asarray(0.0))), 6)
    15.0
    """
    return np.asarray(
        100.0
        * np.sqrt(
            np.maximum(vix_squared(spot_variance, long_variance, mean_reversion, jump_variance, horizon), 0.0)
        )
    )


def log_vix_variance(
    spot_variance: Array,
    long_variance: Array,
    mean_reversion: Array,
    jump_variance: Array,
    vol_of_variance: Array,
    time_to_expiry: np.ndarray,
) -> np.ndarray:
    """Risk-neutral variance of ``log VIX`` over ``time_to_expiry`` years (``s^2`` above)."""
    return np.asarray(
        _log_vix_variance_ufunc(
            spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, time_to_expiry
        )
    )


def futures_price(
    spot_variance: Array,
    long_variance: Array,
    mean_reversion: Array,
    jump_variance: Array,
    vol_of_variance: Array,
    time_to_expiry: np.ndarray,
) -> np.ndarray:
    """VIX future (points) expiring in ``time_to_expiry`` years; equals the VIX at expiry.

    >>> args = [np.asarray(x) for x in (0.02, 0.06, 1.5, 0.003)]
    >>> spot = float(vix_level(*args))
    >>> prices = futures_price(*args, 0.45, np.array([0.0, 1 / 12, 1 / 3]))
    >>> bool(np.isclose(prices[0], spot) and prices[0] < prices[1] < prices[2])
    True
    """
    return np.asarray(
        _futures_price_ufunc(
            spot_variance, long_variance, mean_reversion, jump_variance, vol_of_variance, time_to_expiry
        )
    )


def _path_state(
    path: object, rows: np.ndarray, bars: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """The arguments of :func:`futures_price` before ``time_to_expiry``: the four variance-state
    columns ``(n, 1)`` of paths ``rows`` at bars ``bars``, then the vol of variance."""
    rows = np.asarray(rows)
    bars = np.asarray(bars)
    return (
        path.implied_variance[rows, bars][:, None],  # type: ignore[attr-defined]
        path.long_implied_variance[rows, bars][:, None],  # type: ignore[attr-defined]
        path.implied_mean_reversion[rows][:, None],  # type: ignore[attr-defined]
        path.jump_variance[rows][:, None],  # type: ignore[attr-defined]
        getattr(path, "vol_of_implied_variance", 0.45),
    )


def vix_future_price(
    path: object, rows: np.ndarray, bars: np.ndarray, time_to_expiry: np.ndarray
) -> np.ndarray:
    """VIX futures prices (points) of paths ``rows`` at bars ``bars`` (1-d, length ``n``) for
    maturities ``time_to_expiry`` (years, ``(n, k)``); returns ``(n, k)``."""
    return futures_price(*_path_state(path, rows, bars), np.asarray(time_to_expiry, dtype=float))


def vix_option_volatility(
    path: object, rows: np.ndarray, bars: np.ndarray, time_to_expiry: np.ndarray
) -> np.ndarray:
    """Black-76 volatility (per year, decimal) of VIX options on the future of the same expiry,
    ``(n, k)`` like :func:`vix_future_price`; clipped to [0.2, 2.5]."""
    return np.asarray(
        _vix_option_volatility_ufunc(*_path_state(path, rows, bars), np.asarray(time_to_expiry, dtype=float))
    )


def futures_expiry_days(dates: np.ndarray) -> np.ndarray:
    """Trading-day indices (relative to ``dates[0]``, may be negative or past the end) of the VIX
    futures expiries from the month before the first date to three months after the last.

    >>> from thetagym.market.calendar import trading_days
    >>> days = futures_expiry_days(trading_days("2024-01-02", 40))
    >>> [str(np.busday_offset(np.datetime64("2024-01-02"), d)) for d in days[:3]]
    ['2023-12-20', '2024-01-17', '2024-02-14']
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    first = dates[0].astype("datetime64[M]") - 1
    last = dates[-1].astype("datetime64[M]") + 3
    months = np.arange(first, last + 1)
    next_month_first_day = (months + 1).astype("datetime64[D]")
    third_friday = np.busday_offset(next_month_first_day, 2, roll="forward", weekmask="Fri")
    expiry = third_friday - np.timedelta64(30, "D")
    expiry = np.busday_offset(expiry, 0, roll="backward")
    return np.asarray(np.busday_count(dates[0], expiry), dtype=np.int64)


def roll_schedule(n_days: int, expiry_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each day ``d`` of a path: the expiry days of the first and second futures held during
    day ``d`` (chosen at the previous close: the first expires on or after ``d``) and the front
    weight ``(e1 - (d - 1)) / (e1 - e0)`` set at that close (``e0`` the previous expiry).

    >>> front, second, weight = roll_schedule(4, np.array([-2, 2, 7, 12]))
    >>> front.tolist(), second.tolist(), weight.tolist()
    ([2, 2, 2, 7], [7, 7, 7, 12], [0.75, 0.5, 0.25, 1.0])
    """
    expiry_days = np.sort(np.asarray(expiry_days))
    days = np.arange(n_days)
    position = np.searchsorted(expiry_days, days, side="left")
    if np.any(position == 0) or np.any(position >= len(expiry_days)):
        raise ValueError("expiry days must start before the first day and extend past the last")
    extended = np.concatenate([expiry_days, [expiry_days[-1] + 25]])
    front = extended[position]
    second = extended[position + 1]
    previous = extended[position - 1]
    weight = (front - (days - 1)) / (front - previous)
    return front, second, np.asarray(weight, dtype=float)


def etp_series(
    state: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    vol_of_variance: float,
    bars_per_day: int,
    expiry_days: np.ndarray,
    vxx_initial: float,
    inverse_initial: float,
    inverse_floor: float,
    *,
    schedule: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """VXX-like and daily-reset inverse ETP per bar, and the first two futures per bar.

    ``state`` is ``(implied_variance (n_paths, n_bars + 1), long_implied_variance (n_paths, n_bars
    + 1), implied_mean_reversion (n_paths,), jump_variance (n_paths,))``. ``schedule``, if given, is
    ``roll_schedule(n_days, expiry_days)`` computed beforehand (the simulator reuses one per path
    length). Returns ``(vxx, inverse, front_future, second_future)``, each ``(n_paths, n_bars + 1)``;
    the futures are those held during each bar's day (at bar 0, the first day's).
    """
    spot, long, kappa, jump = state
    n_paths, n_columns = spot.shape
    n_days = (n_columns - 1) // bars_per_day
    front, second, weight = roll_schedule(n_days, expiry_days) if schedule is None else schedule
    bars = np.arange(n_days)[:, None] * bars_per_day + np.arange(bars_per_day + 1)[None, :]
    bars_per_year = TRADING_DAYS_PER_YEAR * bars_per_day
    gathered = spot[:, bars]  # (n_paths, n_days, bpd + 1)
    constants = (long[:, bars], kappa[:, None, None], jump[:, None, None])
    futures = []
    for expiry in (front, second):
        tau = ((expiry[:, None] + 1) * bars_per_day - bars) / bars_per_year
        futures.append(futures_price(gathered, *constants, vol_of_variance, tau[None, :, :]))
    f1, f2 = futures
    w = weight[None, :, None]
    gross = w * f1[..., 1:] / f1[..., :1] + (1.0 - w) * f2[..., 1:] / f2[..., :1]  # (n_paths, n_days, bpd)
    daily = gross[..., -1]
    vxx_close = vxx_initial * np.cumprod(
        np.concatenate([np.ones((n_paths, 1)), daily[:, :-1]], axis=1), axis=1
    )
    inverse_daily = np.maximum(2.0 - gross, inverse_floor)
    inverse_close = inverse_initial * np.cumprod(
        np.concatenate([np.ones((n_paths, 1)), inverse_daily[:, :-1, -1]], axis=1), axis=1
    )
    vxx = np.empty((n_paths, n_columns))
    inverse = np.empty((n_paths, n_columns))
    vxx[:, 0] = vxx_initial
    inverse[:, 0] = inverse_initial
    vxx[:, 1:] = (vxx_close[:, :, None] * gross).reshape(n_paths, -1)
    inverse[:, 1:] = (inverse_close[:, :, None] * inverse_daily).reshape(n_paths, -1)
    first = np.empty((n_paths, n_columns))
    nearest = np.empty((n_paths, n_columns))
    first[:, 0] = f1[:, 0, 0]
    nearest[:, 0] = f2[:, 0, 0]
    first[:, 1:] = f1[..., 1:].reshape(n_paths, -1)
    nearest[:, 1:] = f2[..., 1:].reshape(n_paths, -1)
    return vxx, inverse, first, nearest


__all__ = [
    "MAX_VIX_OPTION_VOLATILITY",
    "MIN_VIX_OPTION_VOLATILITY",
    "VIX3M_HORIZON",
    "VIX_HORIZON",
    "etp_series",
    "futures_expiry_days",
    "futures_price",
    "log_vix_variance",
    "roll_schedule",
    "vix_future_price",
    "vix_level",
    "vix_option_volatility",
    "vix_squared",
]
