"""Stylized facts of market paths beside published S&P 500 / VIX figures (``docs/market.md#stylized-facts``).

Pure functions of a :class:`MarketPath`, pooled over all its paths, on daily closes. The figures:

========================  ====================================================================
``annualised_volatility``  standard deviation of daily log returns times sqrt(252), percent
``return_skewness``        skewness of daily log returns
``return_excess_kurtosis`` excess kurtosis of daily log returns
``big_move_days``          days per year with an absolute simple return above 5%
``return_vix_correlation`` correlation of the daily return with the daily change of log VIX
``vix_pNN``                percentiles of the VIX close (points)
``vix_mean_reversion``     AR(1) speed of log VIX per year, ``-252 log(b)`` (paths demeaned)
``vrp_mean``               VIX close minus realised volatility of the next 21 days (vol points)
``vrp_positive_share``     share of days with that difference above zero, percent
``contango_share``         share of days with VIX below VIX3M, percent (the VIX term structure
                           definition: 91.5% of days 2009-2021; the futures-curve count of 81%
                           contango since 2006 is not used)
``vxx_monthly_return``     mean 21-day simple return of the VXX-like ETP, percent
``risk_reversal_25d``      median one-month 25-delta risk reversal (put minus call IV), vol points
========================  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
from thetagym.market.path import MarketPath
from thetagym.market.surface import ONE_MONTH, SurfaceState, atm_variance, implied_volatility

VIX_PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
MONTH_DAYS = 21


@dataclass(frozen=True)
class Target:
    """A published figure, the tolerance the default mix must meet and where it comes from."""

    value: float
    tolerance: float
    unit: str
    label: str
    source: str


TARGETS: dict[str, Target] = {
    "annualised_volatility": Target(18.2, 3.0, "%", "index volatility, annualised", "S&P 500 1990-2023"),
    "return_skewness": Target(-0.39, 0.5, "", "skewness of daily returns", "S&P 500 1990-2023"),
    "return_excess_kurtosis": Target(10.6, 6.0, "", "excess kurtosis of daily returns", "S&P 500 1990-2023"),
    "big_move_days": Target(
        1.2, 1.1, "/yr", "days with |return| > 5% per year", "1.2 in 1990-2023, 2.3 in 2007-2021"
    ),
    "return_vix_correlation": Target(-0.71, 0.10, "", "corr(daily return, change of log VIX)", "1990-2023"),
    "vix_p01": Target(10.1, 1.5, "pts", "VIX 1st percentile", "VIX 1990-2023"),
    "vix_p05": Target(11.4, 1.5, "pts", "VIX 5th percentile", "VIX 1990-2023"),
    "vix_p25": Target(13.9, 2.0, "pts", "VIX 25th percentile", "VIX 1990-2023"),
    "vix_p50": Target(17.8, 2.5, "pts", "VIX median", "VIX 1990-2023"),
    "vix_p75": Target(23.0, 3.0, "pts", "VIX 75th percentile", "VIX 1990-2023"),
    "vix_p95": Target(33.4, 5.0, "pts", "VIX 95th percentile", "VIX 1990-2023"),
    "vix_p99": Target(47.3, 10.0, "pts", "VIX 99th percentile", "VIX 1990-2023"),
    "vix_mean_reversion": Target(4.7, 3.0, "/yr", "AR(1) mean reversion of log VIX", "VIX 1990-2023"),
    "vrp_mean": Target(4.12, 1.5, "vp", "VIX minus next-21-day realised vol, mean", "1990-2023"),
    "vrp_positive_share": Target(85.8, 7.0, "%", "days with VIX above next-21-day realised", "1990-2023"),
    "contango_share": Target(91.5, 6.0, "%", "days with VIX below VIX3M", "2009-2021"),
    "vxx_monthly_return": Target(-5.0, 2.5, "%", "VXX-like ETP mean monthly return", "VXX since 2009"),
    "risk_reversal_25d": Target(6.0, 2.0, "vp", "1-month 25-delta risk reversal, median", "4-8 vp normal"),
}


def daily(series: np.ndarray, bars_per_day: int) -> np.ndarray:
    """Closes of a per-bar series: ``(n_paths, n_days + 1)``, column 0 the close before day 0."""
    return np.asarray(series[:, ::bars_per_day])


def daily_log_returns(path: MarketPath) -> np.ndarray:
    """Close-to-close log returns of the index, ``(n_paths, n_days)``."""
    return np.diff(np.log(daily(path.index, path.bars_per_day)), axis=1)


def _moments(returns: np.ndarray) -> tuple[float, float, float]:
    centred = returns - returns.mean()
    variance = float(np.mean(centred**2))
    skewness = float(np.mean(centred**3) / variance**1.5)
    kurtosis = float(np.mean(centred**4) / variance**2 - 3.0)
    return variance, skewness, kurtosis


def forward_realised_volatility(returns: np.ndarray, window: int = MONTH_DAYS) -> np.ndarray:
    """Realised volatility (percent, annualised) of the ``window`` returns after each close:
    element ``d`` uses returns ``d .. d + window - 1`` (closes ``d`` to ``d + window``);
    ``(n_paths, n_days - window + 1)``."""
    squared = np.concatenate([np.zeros((returns.shape[0], 1)), np.cumsum(returns**2, axis=1)], axis=1)
    total = squared[:, window:] - squared[:, :-window]
    return np.asarray(100.0 * np.sqrt(total / window * TRADING_DAYS_PER_YEAR))


def risk_reversal(
    surface: SurfaceState, time_to_expiry: float = ONE_MONTH, delta: float = 0.25
) -> np.ndarray:
    """Put minus call implied volatility (vol points) at ``delta`` (forward Black-76 deltas),
    strikes found by fixed-point iteration on the smile.

    >>> state = SurfaceState(*map(np.asarray, (0.0225, 0.0225, 2.0, 0.0, 0.3, 0.05)))
    >>> round(float(risk_reversal(state)), 2)
    6.62
    """
    tau = time_to_expiry
    root = np.sqrt(tau)
    atm = np.sqrt(atm_variance(surface, np.asarray(tau)))
    result = []
    for d1 in (ndtri(1.0 - delta), ndtri(delta)):  # put (N(d1) = 1 - delta), call (N(d1) = delta)
        vol = atm
        for _ in range(12):
            log_moneyness = 0.5 * vol * vol * tau - d1 * vol * root
            vol = implied_volatility(surface, log_moneyness, np.asarray(tau))
        result.append(vol)
    return np.asarray(100.0 * (result[0] - result[1]))


def stylized_facts(path: MarketPath) -> dict[str, float]:
    """The figures of :data:`TARGETS`, measured on ``path`` (all paths pooled)."""
    bpd = path.bars_per_day
    returns = daily_log_returns(path)
    flat = returns.ravel()
    variance, skewness, kurtosis = _moments(flat)
    years = returns.size / TRADING_DAYS_PER_YEAR
    vix = daily(path.vix, bpd)
    log_vix = np.log(vix)
    change = np.diff(log_vix, axis=1).ravel()
    facts: dict[str, float] = {
        "annualised_volatility": 100.0 * float(np.sqrt(variance * TRADING_DAYS_PER_YEAR)),
        "return_skewness": skewness,
        "return_excess_kurtosis": kurtosis,
        "big_move_days": float(np.count_nonzero(np.abs(np.expm1(flat)) > 0.05) / years),
        "return_vix_correlation": float(np.corrcoef(flat, change)[0, 1]),
    }
    closes = vix[:, 1:].ravel()
    for q, value in zip(VIX_PERCENTILES, np.percentile(closes, VIX_PERCENTILES), strict=True):
        facts[f"vix_p{q:02d}"] = float(value)
    demeaned = log_vix - log_vix.mean(axis=1, keepdims=True)
    previous, following = demeaned[:, :-1].ravel(), demeaned[:, 1:].ravel()
    slope = float(np.dot(previous, following) / max(np.dot(previous, previous), 1e-300))
    facts["vix_mean_reversion"] = float(-TRADING_DAYS_PER_YEAR * np.log(min(max(slope, 1e-6), 1.0)))
    if returns.shape[1] >= MONTH_DAYS:
        premium = vix[:, : returns.shape[1] - MONTH_DAYS + 1] - forward_realised_volatility(returns)
        facts["vrp_mean"] = float(premium.mean())
        facts["vrp_positive_share"] = 100.0 * float(np.mean(premium > 0.0))
    else:
        facts["vrp_mean"] = float("nan")
        facts["vrp_positive_share"] = float("nan")
    facts["contango_share"] = 100.0 * float(np.mean(vix[:, 1:] < daily(path.vix3m, bpd)[:, 1:]))
    vxx_monthly = path.vxx[:, :: MONTH_DAYS * bpd]
    if vxx_monthly.shape[1] >= 2:
        facts["vxx_monthly_return"] = 100.0 * float(np.mean(vxx_monthly[:, 1:] / vxx_monthly[:, :-1] - 1.0))
    else:
        facts["vxx_monthly_return"] = float("nan")
    bars = np.arange(bpd, path.n_bars + 1, bpd)
    rows = np.repeat(np.arange(path.n_paths), bars.size)
    surface = path.surface_at(rows, np.tile(bars, path.n_paths))
    facts["risk_reversal_25d"] = float(np.median(risk_reversal(surface)))
    return facts


def compare(
    facts: dict[str, float], targets: dict[str, Target] | None = None
) -> dict[str, dict[str, object]]:
    """Each figure with its ``value``, ``target``, ``tolerance``, ``within``, ``unit`` and ``label``."""
    targets = TARGETS if targets is None else targets
    table: dict[str, dict[str, object]] = {}
    for name, target in targets.items():
        value = facts.get(name, float("nan"))
        within = bool(np.isfinite(value) and abs(value - target.value) <= target.tolerance)
        table[name] = {
            "value": float(value),
            "target": target.value,
            "tolerance": target.tolerance,
            "within": within,
            "unit": target.unit,
            "label": target.label,
            "source": target.source,
        }
    return table
