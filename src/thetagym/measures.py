"""Measures of a short-premium book: the one place they are computed (``docs/measures.md``).

Pure numpy functions over arrays; the environment's ``info``, the rule agents and the reports all
call them. Money is in USD, time in trading days or years as stated, fractions are of the starting
capital. Every function broadcasts over leading axes, so a batch of episodes is one call.

:class:`EpisodeTracker` accumulates the running measures of ``num_envs`` episodes step by step
(no Python loop over envs) and emits an episode summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TRADING_DAYS_PER_YEAR = 252
"""Trading days in a year: the one definition, which the market's calendar, the book and the
rule agents use to turn days into years."""
MIN_THETA_ACCRUED = 1.0
"""USD: below this much theta accrued, theta capture is reported as 0 (nothing was earned)."""
MIN_DRAWDOWN = 0.01
"""Floor (fraction of capital) on the drawdown in the Calmar-like ratio, so calm paths stay finite."""
MIN_CALMAR_DAYS = TRADING_DAYS_PER_YEAR
"""Trading days: Calmar is reported only for episodes at least this long (NaN below)."""
MIN_VOLATILITY = 1e-6
"""Annualised volatility (fraction of capital) below which a book took no risk at all (six cents a
day on $1M): its Sharpe, Sortino and risk-matched return are 0 rather than a ratio of two rounding
errors. Set far below any real position, so that the measures stay scale-free: a threshold near a
small book's volatility would zero its calm episodes and keep its loud ones."""
TARGET_VOLATILITY = 0.10
"""Annualised volatility that :func:`risk_matched_return` scales every book to by default."""

MOMENT_FIELDS = (
    "trading_days",
    "return_sum",
    "return_sum2",
    "return_sum3",
    "return_sum4",
    "downside_sum2",
    "worst_day",
)
"""Keys of :func:`return_moments`: an episode's daily excess returns summed to the powers 1 to 4,
the squared losses summed, and the worst day. They are what the track record of many episodes
laid end to end needs (:func:`pooled_sharpe` and friends), so a summary can be recomputed, and
bootstrapped, from the episodes table alone."""
RISK_MATCHED_MOMENTS = (
    "trading_days",
    "return_sum",
    "return_sum2",
    "return_sum3",
    "return_sum4",
    "worst_day",
)
"""The moments :func:`pooled_risk_matched_return` reads, in its argument order."""
DAILY_FIELDS = (
    "excess_pnl",
    "sharpe",
    "sortino",
    "volatility",
    "risk_matched_return",
    "matched_max_drawdown",
    *MOMENT_FIELDS,
)
"""Keys of :func:`daily_measures`: the per-episode measures read from the daily equity curve."""
HEADLINE_MEASURES = ("sharpe", "sortino", "risk_matched_return", "cvar_5")
"""The scale-free money-and-risk measures a comparison is decided on (``docs/measures.md``); higher
is better."""


@dataclass(frozen=True)
class MeasureLabel:
    """How a person reads a measure: its ``name``, its ``unit``, and whether it is a fraction shown
    in percent."""

    name: str
    unit: str = ""
    percent: bool = False

    def format(self, value: float) -> str:
        """``value`` in this measure's display unit, compactly: ``12.3%``, ``$12,345``, ``1.23``.

        >>> MEASURE_LABELS["pnl"].format(-12345.6), MEASURE_LABELS["cvar_5"].format(-0.0312)
        ('-$12,346', '-3.1%')
        """
        if not np.isfinite(value):
            return "–"
        if self.percent:
            return f"{100 * value:.1f}%"
        if self.unit == "USD":
            return f"{'-' if value < 0 else ''}${abs(value):,.0f}"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}"

    @property
    def heading(self) -> str:
        """``name (unit)``, or the name alone when it has no unit."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


MEASURE_LABELS: dict[str, MeasureLabel] = {
    "sharpe": MeasureLabel("Sharpe ratio", "annualised"),
    "sortino": MeasureLabel("Sortino ratio", "annualised"),
    "risk_matched_return": MeasureLabel("Return at matched risk", "%/yr at 10% vol", percent=True),
    "cvar_5": MeasureLabel("CVaR 5%", "% of capital per episode, over cash", percent=True),
    "volatility": MeasureLabel("Volatility", "%/yr", percent=True),
    "matched_max_drawdown": MeasureLabel("Max drawdown at matched risk", "% at 10% vol", percent=True),
    "max_drawdown": MeasureLabel("Max drawdown", "% of capital", percent=True),
    "pnl": MeasureLabel("P&L", "USD"),
    "excess_pnl": MeasureLabel("P&L over cash", "USD"),
    "premium_sold": MeasureLabel("Premium sold", "USD"),
    "theta_accrued": MeasureLabel("Theta accrued", "USD"),
    "theta_capture": MeasureLabel("Theta capture", "P&L / theta"),
    "total_return": MeasureLabel("Return", "% of capital", percent=True),
    "annualised_return": MeasureLabel("Annualised return", "%/yr", percent=True),
    "calmar": MeasureLabel("Calmar ratio", "episodes of a year or more"),
    "spiral_index": MeasureLabel("Spiral index", "peak / start gross"),
    "margin_peak": MeasureLabel("Peak margin use", "% of equity", percent=True),
    "margin_call": MeasureLabel("Margin calls", "% of episodes", percent=True),
    "blocked": MeasureLabel("Blocked actions", "per episode"),
    "adds_blocked": MeasureLabel("Blocked opposite-wing adds", "per episode"),
    "rolls": MeasureLabel("Rolls", "per episode"),
    "assignments": MeasureLabel("Assignments", "per episode"),
    "counter_trades": MeasureLabel("Counter-trades", "per episode"),
    "steps": MeasureLabel("Steps", "bars"),
    "reward": MeasureLabel("Reward", "sum per episode"),
}
"""Display name and unit of every measure a report or a terminal table shows."""


def measure_label(measure: str) -> MeasureLabel:
    """The label of ``measure``; an unknown one is shown under its own name."""
    return MEASURE_LABELS.get(measure, MeasureLabel(measure))


SUMMARY_FIELDS = (
    "steps",
    "pnl",
    "total_return",
    "theta_accrued",
    "theta_capture",
    "max_drawdown",
    "annualised_return",
    "calmar",
    "spiral_index",
    "blocked",
    "adds_blocked",
    "margin_peak",
    "rolls",
    "assignments",
    "counter_trades",
    "margin_call",
    "reward",
)
"""Keys of :meth:`EpisodeTracker.summary`, in order."""
TRACKED_VALUES = (
    "capital",
    "start_equity",
    "equity",
    "peak_equity",
    "drawdown",
    "max_drawdown",
    "theta_accrued",
    "start_gross",
    "peak_gross",
    "margin_peak",
    "reward",
)
"""Rows of :attr:`EpisodeTracker.values`, each also an attribute of the tracker."""
TRACKED_COUNTS = ("steps", "blocked", "adds_blocked", "rolls", "assignments", "counter_trades")
"""Rows of :attr:`EpisodeTracker.count_values`: ``steps`` and the per-step counts of ``counts``."""


def theta_accrued(theta: np.ndarray, step_years: np.ndarray | float) -> np.ndarray:
    """Theta accrued (USD): the sum over the last axis of ``theta`` (the book's theta, USD per year,
    one value per step) times ``step_years`` (each step's length in years, scalar or per step).

    >>> float(theta_accrued(np.array([252.0, 504.0]), 1 / 252))
    3.0
    """
    return np.asarray(np.sum(np.asarray(theta) * step_years, axis=-1))


def theta_capture(pnl: np.ndarray, accrued: np.ndarray) -> np.ndarray:
    """Net P&L over theta accrued: the share of the decay the book kept (1.0 = all of it).

    ``pnl`` and ``accrued`` are USD per episode (the same shape). Reported as 0 where less than
    :data:`MIN_THETA_ACCRUED` USD was accrued.

    >>> theta_capture(np.array([600.0, -300.0, 5.0]), np.array([1000.0, 1000.0, 0.0])).tolist()
    [0.6, -0.3, 0.0]
    """
    accrued = np.asarray(accrued, dtype=float)
    earned = np.abs(accrued) >= MIN_THETA_ACCRUED
    return np.where(earned, np.asarray(pnl) / np.where(earned, accrued, 1.0), 0.0)


def drawdown(equity: np.ndarray, capital: np.ndarray | float) -> np.ndarray:
    """Drawdown at each point of an equity curve (last axis): running peak minus equity, over capital.

    The peak starts at the first point of the curve.

    >>> drawdown(np.array([100.0, 110.0, 99.0, 120.0]), 100.0).tolist()
    [0.0, 0.0, 0.11, 0.0]
    """
    equity = np.asarray(equity, dtype=float)
    return np.asarray((np.maximum.accumulate(equity, axis=-1) - equity) / np.asarray(capital)[..., None])


def max_drawdown(equity: np.ndarray, capital: np.ndarray | float) -> np.ndarray:
    """Largest peak-to-trough fall of equity curves (last axis), as a fraction of ``capital``.

    >>> max_drawdown(np.array([[100.0, 110.0, 99.0, 120.0], [100.0, 90.0, 95.0, 80.0]]), 100.0).tolist()
    [0.11, 0.2]
    """
    return np.asarray(np.max(drawdown(equity, capital), axis=-1))


def annualised_return(total_return: np.ndarray, days: np.ndarray | float) -> np.ndarray:
    """Compound annual rate of ``total_return`` (a fraction: 0.1 = +10%) earned over ``days``
    trading days.

    A total loss (return <= -1) gives -1; zero days give 0.

    >>> np.round(annualised_return(np.array([0.1, -1.0]), 126), 4).tolist()
    [0.21, -1.0]
    """
    total_return = np.asarray(total_return, dtype=float)
    days = np.asarray(days, dtype=float)
    growth = np.maximum(1.0 + total_return, 0.0)
    exponent = TRADING_DAYS_PER_YEAR / np.maximum(days, 1e-12)
    with np.errstate(over="ignore", divide="ignore"):
        rate = np.where(growth > 0, np.power(np.where(growth > 0, growth, 1.0), exponent) - 1.0, -1.0)
    return np.where(days > 0, np.minimum(rate, 1e6), 0.0)


def calmar(
    annual_return: np.ndarray, max_dd: np.ndarray, days: np.ndarray | float | None = None
) -> np.ndarray:
    """Calmar ratio: ``annual_return`` (fraction a year) over ``max_dd`` (max drawdown, fraction of
    capital, floored at :data:`MIN_DRAWDOWN`).

    Given the episodes' ``days``, NaN for those shorter than :data:`MIN_CALMAR_DAYS` trading days,
    where an annualised return over a quarter says little and the ratio ranks luck: reports pass
    ``days``; the env's running summary does not, as its info holds no NaN.

    >>> calmar(np.array([0.2, 0.2, 0.2]), np.array([0.1, 0.0, 0.1])).tolist()
    [2.0, 20.0, 2.0]
    >>> calmar(np.array([0.2, 0.2]), np.array([0.1, 0.1]), np.array([252, 63])).tolist()
    [2.0, nan]
    """
    ratio = np.asarray(np.asarray(annual_return) / np.maximum(max_dd, MIN_DRAWDOWN))
    if days is None:
        return ratio
    return np.asarray(np.where(np.asarray(days) >= MIN_CALMAR_DAYS, ratio, np.nan))


def cvar(returns: np.ndarray, level: float = 0.05) -> np.ndarray:
    """Conditional value at risk: the mean of the worst ``level`` share of returns (last axis).

    The tail holds ``ceil(level * n)`` returns (at least one); the result is a return (negative
    for a loss), not a loss.

    >>> cvar(np.arange(1.0, 41.0) - 20.0).tolist()  # worst 2 of 40: -19 and -18
    -18.5
    """
    returns = np.asarray(returns, dtype=float)
    if returns.shape[-1] == 0:
        raise ValueError("cvar needs at least one return")
    if not 0.0 < level <= 1.0:
        raise ValueError(f"cvar level must be in (0, 1], got {level}")
    tail = max(int(np.ceil(level * returns.shape[-1] - 1e-9)), 1)
    worst = np.partition(returns, tail - 1, axis=-1)[..., :tail]  # the tail, in no order
    return np.asarray(worst.mean(axis=-1))


def excess_returns(
    daily_equity: np.ndarray, capital: np.ndarray | float, cash_rate: np.ndarray | float = 0.0
) -> np.ndarray:
    """Daily returns on capital in excess of cash: equity curves ``daily_equity`` ``(..., days + 1)``
    (USD at each day's close, day 0 first) on ``capital`` (USD, scalar or per curve) give
    ``(..., days)`` returns ``(E[t] - E[t-1] - E[t-1] cash_rate / 252) / capital``.

    ``cash_rate`` (annual fraction, scalar or per day) is what the book's cash is credited with:
    the excess is over what the account's equity would have earned sitting in cash that day, so
    interest on interest is no return of the book's. Returns are on the fixed starting capital,
    as the book's size is fixed in contracts, so a book twice the size has returns twice the size
    and the same Sharpe ratio.

    >>> excess_returns(np.array([100.0, 101.0, 100.0]), 100.0).tolist()
    [0.01, -0.01]
    >>> excess_returns(np.array([100.0, 100.01, 100.020001]), 100.0, cash_rate=0.0252).round(12).tolist()
    [0.0, -0.0]
    """
    equity = np.asarray(daily_equity, dtype=float)
    capital = np.asarray(capital, dtype=float)[..., None]
    cash = equity[..., :-1] * np.asarray(cash_rate) / TRADING_DAYS_PER_YEAR
    return np.asarray((np.diff(equity, axis=-1) - cash) / capital)


def compounding_returns(daily_equity: np.ndarray, cash_rate: np.ndarray | float = 0.0) -> np.ndarray:
    """Daily returns of ``daily_equity`` (USD at each day's close, the start first) on the previous
    close's equity, in excess of ``cash_rate`` (annual fraction, scalar or per day): what a
    backtest over years uses, where the book's size follows its equity, unlike
    :func:`excess_returns` on fixed starting capital for a fixed-size book's episodes.

    >>> compounding_returns(np.array([100.0, 110.0, 99.0])).round(4).tolist()
    [0.1, -0.1]
    """
    equity = np.asarray(daily_equity, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = equity[..., 1:] / equity[..., :-1]
    returns = np.where(equity[..., :-1] > 0, growth - 1.0, -1.0)
    return np.asarray(returns - np.asarray(cash_rate) / TRADING_DAYS_PER_YEAR)


def peak_drawdown(daily_equity: np.ndarray) -> np.ndarray:
    """Largest fall of ``daily_equity`` (an equity curve, USD, last axis) from its running peak, as a
    fraction of that peak.

    >>> float(peak_drawdown(np.array([100.0, 200.0, 150.0, 210.0])))
    0.25
    """
    equity = np.asarray(daily_equity, dtype=float)
    peak = np.maximum.accumulate(equity, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fall = np.where(peak > 0, 1.0 - equity / peak, 0.0)
    return np.asarray(np.max(fall, axis=-1))


TRACK_FIGURES = ("annualised_return", "volatility", "max_drawdown", "sharpe", "sortino", "calmar")
"""Keys of :func:`track_figures`: a long track record's figures, fractions, annualised."""


def track_figures(daily_equity: np.ndarray, cash_rate: np.ndarray | float = 0.0) -> dict[str, float]:
    """The figures of ``daily_equity``, one long equity curve (USD, a close a day, the start
    first): compound annualised return, annualised volatility, max drawdown from peak, Sharpe and
    Sortino of daily returns on equity in excess of ``cash_rate`` (annual, scalar or per day), and
    Calmar (annualised return over max drawdown, floored at :data:`MIN_DRAWDOWN`).

    >>> figures = track_figures(np.array([100.0, 101.0, 100.5, 102.0]))
    >>> round(figures["annualised_return"], 2), round(figures["max_drawdown"], 4)
    (4.28, 0.005)
    """
    equity = np.asarray(daily_equity, dtype=float)
    days = equity.shape[-1] - 1
    total = equity[-1] / equity[0] - 1.0 if equity[0] > 0 else -1.0
    annual = float(annualised_return(np.array(total), days))
    drawdown = float(peak_drawdown(equity))
    excess = compounding_returns(equity, cash_rate)
    return {
        "annualised_return": annual,
        "volatility": float(volatility(excess)),
        "max_drawdown": drawdown,
        "sharpe": float(sharpe(excess)),
        "sortino": float(sortino(excess)),
        "calmar": float(annual / max(drawdown, MIN_DRAWDOWN)),
    }


def volatility(returns: np.ndarray) -> np.ndarray:
    """Annualised volatility of daily returns (last axis): sample standard deviation times sqrt(252).

    Fewer than two returns give 0.

    >>> round(float(volatility(np.array([0.01, -0.01, 0.01, -0.01]))), 4)
    0.1833
    """
    returns = np.asarray(returns, dtype=float)
    if returns.shape[-1] < 2:
        return np.zeros(returns.shape[:-1])
    return np.asarray(np.std(returns, axis=-1, ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR))


def _took_risk(vol: np.ndarray) -> np.ndarray:
    return np.asarray(vol >= MIN_VOLATILITY)


def sharpe(returns: np.ndarray) -> np.ndarray:
    """Annualised Sharpe ratio of daily excess returns (last axis): mean over standard deviation,
    times sqrt(252); 0 where the volatility is below :data:`MIN_VOLATILITY`.

    >>> round(float(sharpe(np.array([0.002, -0.001, 0.003, 0.0]))), 3)
    8.695
    >>> float(sharpe(np.zeros(10)))
    0.0
    """
    returns = np.asarray(returns, dtype=float)
    vol = volatility(returns)
    mean = returns.mean(axis=-1) * TRADING_DAYS_PER_YEAR if returns.shape[-1] else np.zeros(vol.shape)
    took_risk = _took_risk(vol)
    return np.asarray(np.where(took_risk, mean / np.where(took_risk, vol, 1.0), 0.0))


def sortino(returns: np.ndarray) -> np.ndarray:
    """Annualised Sortino ratio of daily excess returns (last axis): annualised mean over the
    annualised downside deviation ``sqrt(mean(min(r, 0)^2) * 252)``.

    0 where the book took no measurable risk (:data:`MIN_VOLATILITY`); NaN where it took risk
    but never lost on a day (no downside to divide by; summaries drop NaN).

    >>> round(float(sortino(np.array([0.002, -0.001, 0.003, 0.0]))), 3)
    31.749
    """
    returns = np.asarray(returns, dtype=float)
    vol = volatility(returns)
    if returns.shape[-1] == 0:
        return np.zeros(vol.shape)
    mean = returns.mean(axis=-1) * TRADING_DAYS_PER_YEAR
    downside = np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2, axis=-1) * TRADING_DAYS_PER_YEAR)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(downside > 0, mean / np.where(downside > 0, downside, 1.0), np.nan)
    return np.asarray(np.where(_took_risk(vol), ratio, 0.0))


def risk_matched_return(returns: np.ndarray, target_volatility: float = TARGET_VOLATILITY) -> np.ndarray:
    """Annualised compound return of daily returns (last axis) scaled to ``target_volatility``.

    Each day's return is multiplied by ``target_volatility / volatility(returns)`` and the scaled
    returns are compounded: what the book would have earned at the same risk as every other book.
    Compounding charges the volatility drag, and a day whose scaled loss is 100% or more ruins the
    account (-1): levering a book that looks calm until its tail day shows that tail. 0 where the
    book took no measurable risk.

    >>> r = np.array([0.002, -0.001, 0.003, 0.0])
    >>> round(float(risk_matched_return(r)), 4)  # exp(252 x mean log growth) - 1
    1.3733
    """
    returns = np.asarray(returns, dtype=float)
    vol = volatility(returns)
    took_risk = _took_risk(vol)
    scale = np.where(took_risk, target_volatility / np.where(took_risk, vol, 1.0), 0.0)
    growth = 1.0 + returns * scale[..., None]
    ruined = np.any(growth <= 0.0, axis=-1)
    log_growth = np.sum(np.log(np.where(growth > 0.0, growth, 1.0)), axis=-1)
    days = max(returns.shape[-1], 1)
    with np.errstate(over="ignore"):
        annual = np.expm1(np.minimum(log_growth * TRADING_DAYS_PER_YEAR / days, 700.0))
    return np.asarray(np.where(ruined, -1.0, annual))


def matched_max_drawdown(returns: np.ndarray, target_volatility: float = TARGET_VOLATILITY) -> np.ndarray:
    """Max drawdown (fraction of capital) of daily returns (last axis) scaled to ``target_volatility``
    as in :func:`risk_matched_return`, summed as P&L on fixed capital: drawdowns compared at
    matched risk, which a book cannot win by being small.

    >>> round(float(matched_max_drawdown(np.array([0.01, -0.02, 0.01, 0.0]), 0.10)), 4)
    0.0089
    """
    returns = np.asarray(returns, dtype=float)
    vol = volatility(returns)
    took_risk = _took_risk(vol)
    scale = np.where(took_risk, target_volatility / np.where(took_risk, vol, 1.0), 0.0)
    scaled = np.cumsum(returns * scale[..., None], axis=-1)
    curve = np.concatenate([np.zeros((*scaled.shape[:-1], 1)), scaled], axis=-1)
    return np.asarray(np.max(np.maximum.accumulate(curve, axis=-1) - curve, axis=-1))


def daily_measures(
    daily_equity: np.ndarray,
    capital: np.ndarray | float,
    cash_rate: np.ndarray | float = 0.0,
    target_volatility: float = TARGET_VOLATILITY,
) -> dict[str, np.ndarray]:
    """The measures of :data:`DAILY_FIELDS` for equity curves ``daily_equity`` ``(..., days + 1)``
    (USD, a close a day, day 0 the starting equity) on ``capital`` (USD), with cash credited at
    ``cash_rate`` (annual fraction, scalar or per day), risk-matched to ``target_volatility``
    (annual fraction)."""
    returns = excess_returns(daily_equity, capital, cash_rate)
    return {
        "excess_pnl": np.asarray(np.sum(returns, axis=-1) * np.asarray(capital, dtype=float)),
        "sharpe": sharpe(returns),
        "sortino": sortino(returns),
        "volatility": volatility(returns),
        "risk_matched_return": risk_matched_return(returns, target_volatility),
        "matched_max_drawdown": matched_max_drawdown(returns, target_volatility),
        **return_moments(returns),
    }


def return_moments(returns: np.ndarray) -> dict[str, np.ndarray]:
    """The sums of :data:`MOMENT_FIELDS` over daily returns (last axis).

    >>> {k: float(f"{float(v):.3g}") for k, v in return_moments(np.array([0.01, -0.02])).items()}
    {'trading_days': 2.0, 'return_sum': -0.01, 'return_sum2': 0.0005, 'return_sum3': -7e-06, 'return_sum4': 1.7e-07, 'downside_sum2': 0.0004, 'worst_day': -0.02}
    """
    returns = np.asarray(returns, dtype=float)
    worst = returns.min(axis=-1) if returns.shape[-1] else np.zeros(returns.shape[:-1])
    return {
        "trading_days": np.full(returns.shape[:-1], float(returns.shape[-1])),
        "return_sum": returns.sum(axis=-1),
        "return_sum2": (returns**2).sum(axis=-1),
        "return_sum3": (returns**3).sum(axis=-1),
        "return_sum4": (returns**4).sum(axis=-1),
        "downside_sum2": (np.minimum(returns, 0.0) ** 2).sum(axis=-1),
        "worst_day": np.asarray(worst),
    }


def _pooled_mean_volatility(
    days: np.ndarray, sum1: np.ndarray, sum2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean daily return and annualised volatility of the days of several episodes (last axis)."""
    n = np.sum(days, axis=-1)
    mean = np.sum(sum1, axis=-1) / np.maximum(n, 1.0)
    variance = (np.sum(sum2, axis=-1) - n * mean**2) / np.maximum(n - 1.0, 1.0)
    return mean, np.sqrt(np.maximum(variance, 0.0) * TRADING_DAYS_PER_YEAR)


def pooled_volatility(days: np.ndarray, sum1: np.ndarray, sum2: np.ndarray) -> np.ndarray:
    """Annualised volatility of every day of a set of episodes, from their :func:`return_moments`
    (arrays over episodes, last axis): the episodes' track record laid end to end.

    ``days`` is each episode's ``trading_days``, ``sum1`` and ``sum2`` its ``return_sum`` and
    ``return_sum2``; the other pooled measures take the same arguments.

    >>> r = np.array([[0.01, -0.01], [0.01, -0.01]])
    >>> m = return_moments(r)
    >>> bool(np.isclose(pooled_volatility(m["trading_days"], m["return_sum"], m["return_sum2"]),
    ...                 volatility(r.ravel())))
    True
    """
    return np.asarray(_pooled_mean_volatility(days, sum1, sum2)[1])


def pooled_sharpe(days: np.ndarray, sum1: np.ndarray, sum2: np.ndarray) -> np.ndarray:
    """Annualised Sharpe ratio of every day of a set of episodes (last axis) from their
    :func:`return_moments`: equal to :func:`sharpe` of their daily returns concatenated. Unlike a
    mean of per-episode ratios, a few losing quarters weigh by their losses, not as one ratio each.

    >>> r = np.array([[0.002, -0.001], [0.003, 0.0]])
    >>> m = return_moments(r)
    >>> round(float(pooled_sharpe(m["trading_days"], m["return_sum"], m["return_sum2"])), 3)
    8.695
    """
    mean, vol = _pooled_mean_volatility(days, sum1, sum2)
    took_risk = _took_risk(vol)
    return np.asarray(np.where(took_risk, mean * TRADING_DAYS_PER_YEAR / np.where(took_risk, vol, 1.0), 0.0))


def pooled_sortino(days: np.ndarray, sum1: np.ndarray, sum2: np.ndarray, downside2: np.ndarray) -> np.ndarray:
    """Annualised Sortino ratio of every day of a set of episodes (last axis), as :func:`sortino`
    of their daily returns concatenated; ``downside2`` is each episode's ``downside_sum2`` (the
    other arguments as in :func:`pooled_volatility`).

    >>> r = np.array([[0.002, -0.001], [0.003, 0.0]])
    >>> m = return_moments(r)
    >>> args = [m[k] for k in ("trading_days", "return_sum", "return_sum2", "downside_sum2")]
    >>> round(float(pooled_sortino(*args)), 3)
    31.749
    """
    n = np.sum(days, axis=-1)
    mean, vol = _pooled_mean_volatility(days, sum1, sum2)
    downside = np.sqrt(np.sum(downside2, axis=-1) / np.maximum(n, 1.0) * TRADING_DAYS_PER_YEAR)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            downside > 0, mean * TRADING_DAYS_PER_YEAR / np.where(downside > 0, downside, 1.0), np.nan
        )
    return np.asarray(np.where(_took_risk(vol), ratio, 0.0))


def pooled_risk_matched_return(
    days: np.ndarray,
    sum1: np.ndarray,
    sum2: np.ndarray,
    sum3: np.ndarray,
    sum4: np.ndarray,
    worst_day: np.ndarray,
    target_volatility: float = TARGET_VOLATILITY,
) -> np.ndarray:
    """:func:`risk_matched_return` of every day of a set of episodes (last axis): the whole track
    record scaled by one factor to ``target_volatility`` (annual fraction) and compounded.

    The arguments are the episodes' :data:`RISK_MATCHED_MOMENTS` in order: ``days`` their
    ``trading_days``, ``sum1`` to ``sum4`` their ``return_sum`` to ``return_sum4``, ``worst_day``
    their ``worst_day``.

    The log growth ``sum log(1 + k r)`` is taken from the moments as ``k S1 - k^2 S2/2 + k^3 S3/3
    - k^4 S4/4``: the next term is ``(k r)^5 / 5`` a day, under 1e-4 of a day's log growth for scaled
    daily moves within ±15%. A worst day that the scaled book could not survive ruins it (-1).

    >>> r = np.array([[0.002, -0.001], [0.003, 0.0]])
    >>> m = return_moments(r)
    >>> args = [m[k] for k in RISK_MATCHED_MOMENTS]
    >>> round(float(pooled_risk_matched_return(*args)), 3), round(float(risk_matched_return(r.ravel())), 3)
    (1.373, 1.373)
    """
    n = np.sum(days, axis=-1)
    _, vol = _pooled_mean_volatility(days, sum1, sum2)
    took_risk = _took_risk(vol)
    k = np.where(took_risk, target_volatility / np.where(took_risk, vol, 1.0), 0.0)
    s1, s2, s3, s4 = (np.sum(x, axis=-1) for x in (sum1, sum2, sum3, sum4))
    log_growth = k * s1 - k**2 * s2 / 2 + k**3 * s3 / 3 - k**4 * s4 / 4
    ruined = k * np.min(worst_day, axis=-1) <= -1.0
    with np.errstate(over="ignore"):
        annual = np.expm1(np.minimum(log_growth * TRADING_DAYS_PER_YEAR / np.maximum(n, 1.0), 700.0))
    return np.asarray(np.where(ruined, -1.0, annual))


def pooled_theta_capture(pnl: np.ndarray, accrued: np.ndarray, axis: int = -1) -> np.ndarray:
    """Theta capture of a set of episodes: total ``pnl`` over total theta ``accrued`` (both USD per
    episode) along ``axis`` (a
    ratio of sums, which a nearly empty book cannot blow up as it does a mean of ratios); NaN
    where less than :data:`MIN_THETA_ACCRUED` USD was accrued in all.

    >>> round(float(pooled_theta_capture(np.array([600.0, 5.0]), np.array([1000.0, 0.01]))), 4)
    0.605
    """
    total_pnl = np.sum(np.asarray(pnl, dtype=float), axis=axis)
    total = np.sum(np.asarray(accrued, dtype=float), axis=axis)
    earned = np.abs(total) >= MIN_THETA_ACCRUED
    return np.asarray(np.where(earned, total_pnl / np.where(earned, total, 1.0), np.nan))


def premium_sold(
    before: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    option_multiplier: np.ndarray,
) -> np.ndarray:
    """USD of option premium sold in one step, per env: from the leg arrays ``(quantity, strike,
    expiry_bar, entry_price)``, each ``(num_envs, max_legs)``, before and after the step, and each
    leg's ``option_multiplier`` (USD per point of premium; 0 for legs that are not options).

    A short option leg that is new after the step (it was not short, or its strike, expiry or
    entry price changed without it growing: a roll or a re-open) sold all of its contracts at its
    entry price; a short leg that grew sold the difference of ``contracts x entry price`` (the
    entry is a quantity-weighted average).

    >>> multiplier = np.array([[50.0, 50.0, 0.0]])  # two ES puts and an ES future
    >>> legs = lambda q, k, p: (np.array([q]), np.array([k]), np.zeros((1, 3)), np.array([p]))
    >>> premium_sold(legs([-2.0, 0.0, 1.0], [4000.0, 0, 0], [10.0, 0, 5]),
    ...              legs([-3.0, -1.0, 2.0], [4000.0, 3900, 0], [12.0, 8.0, 5]), multiplier).tolist()
    [1200.0]
    """
    q0, k0, e0, p0 = (np.asarray(a, dtype=float) for a in before)
    q1, k1, e1, p1 = (np.asarray(a, dtype=float) for a in after)
    multiplier = np.asarray(option_multiplier, dtype=float)
    short = (multiplier > 0) & (q1 < 0)
    grew = -q1 > np.maximum(-q0, 0.0)
    same_leg = (q0 < 0) & (k0 == k1) & (e0 == e1) & ((p0 == p1) | grew)
    points = np.where(same_leg, np.maximum(-q1 * p1 - np.maximum(-q0, 0.0) * p0, 0.0), -q1 * p1)
    return np.asarray(np.sum(np.where(short, points * multiplier, 0.0), axis=-1))


def spiral_index(peak_gross: np.ndarray, start_gross: np.ndarray) -> np.ndarray:
    """``peak_gross`` contracts over ``start_gross`` contracts, per episode (1.0 = never grew; a
    start of 0 counts as 1).

    >>> spiral_index(np.array([30, 10, 4]), np.array([10, 10, 0])).tolist()
    [3.0, 1.0, 4.0]
    """
    return np.asarray(np.asarray(peak_gross, dtype=float) / np.maximum(start_gross, 1))


class EpisodeTracker:
    """Running measures of ``num_envs`` episodes, updated once a step for all envs at once.

    Arrays are ``(num_envs,)``. :meth:`reset` starts new episodes in the rows of a mask (or index
    array); :meth:`update` adds one step; :meth:`summary` gives the measures so far. The arrays are
    rows of two state arrays, :attr:`values` (floats) and :attr:`count_values` (integers), which the
    env's compiled step updates in place (:func:`thetagym.env.kernels.measure_env`, tested equal
    to :meth:`update`).

    >>> tracker = EpisodeTracker(num_envs=1, capital=100.0, bars_per_day=1)
    >>> tracker.reset(np.array([True]), equity=np.array([100.0]), gross=np.array([10]))
    >>> for equity in (110.0, 99.0, 105.0):
    ...     tracker.update(equity=np.array([equity]), theta=np.array([10.0]), gross=np.array([12]),
    ...                    margin_use=np.array([0.3]))
    >>> s = tracker.summary()
    >>> [round(float(s[k][0]), 4) for k in ("pnl", "theta_capture", "max_drawdown", "spiral_index")]
    [5.0, 0.1667, 0.11, 1.2]
    """

    def __init__(self, num_envs: int, capital: float | np.ndarray, bars_per_day: int) -> None:
        self.num_envs = num_envs
        self.bars_per_day = bars_per_day
        self.values = np.zeros((len(TRACKED_VALUES), num_envs))
        """Float state, rows named by :data:`TRACKED_VALUES`; the attributes below are views of its
        rows, so compiled code can update the whole state from one array."""
        self.count_values = np.zeros((len(TRACKED_COUNTS), num_envs), dtype=np.int64)
        """Integer state, rows named by :data:`TRACKED_COUNTS` (views: ``steps`` and ``counts``)."""
        rows = dict(zip(TRACKED_VALUES, self.values, strict=True))
        self.capital = rows["capital"]
        self.capital[:] = capital
        self.start_equity = rows["start_equity"]
        self.equity = rows["equity"]
        self.peak_equity = rows["peak_equity"]
        self.start_equity[:] = self.equity[:] = self.peak_equity[:] = self.capital
        self.drawdown = rows["drawdown"]
        """Current drawdown, fraction of capital."""
        self.max_drawdown = rows["max_drawdown"]
        self.theta_accrued = rows["theta_accrued"]
        self.start_gross = rows["start_gross"]
        self.peak_gross = rows["peak_gross"]
        self.margin_peak = rows["margin_peak"]
        """Peak margin use: requirement over equity."""
        self.reward = rows["reward"]
        self.margin_call = np.zeros(num_envs, dtype=bool)
        self.steps = self.count_values[0]
        self.counts = dict(zip(TRACKED_COUNTS[1:], self.count_values[1:], strict=True))

    def reset(self, rows: np.ndarray, equity: np.ndarray, gross: np.ndarray) -> None:
        """Start episodes in ``rows`` (mask or indices) at ``equity`` (USD) and ``gross`` contracts,
        both given for the selected rows only."""
        self.steps[rows] = 0
        self.start_equity[rows] = equity
        self.equity[rows] = equity
        self.peak_equity[rows] = np.maximum(equity, self.capital[rows])
        self.drawdown[rows] = (self.peak_equity[rows] - self.equity[rows]) / self.capital[rows]
        self.max_drawdown[rows] = self.drawdown[rows]
        self.theta_accrued[rows] = 0.0
        self.start_gross[rows] = gross
        self.peak_gross[rows] = gross
        self.margin_peak[rows] = 0.0
        self.margin_call[rows] = False
        self.reward[rows] = 0.0
        for count in self.counts.values():
            count[rows] = 0

    def update(
        self,
        equity: np.ndarray,
        theta: np.ndarray,
        gross: np.ndarray,
        margin_use: np.ndarray,
        reward: np.ndarray | float = 0.0,
        margin_call: np.ndarray | None = None,
        **counts: np.ndarray,
    ) -> None:
        """Add one step for every env: end-of-step ``equity`` (USD), ``theta`` accrued this step
        (USD), ``gross`` contracts, ``margin_use`` (requirement / equity), ``reward``, whether the
        step ended in a ``margin_call`` (None: none did), and counts this step named as in
        :data:`SUMMARY_FIELDS` (``blocked``, ``rolls``, ...)."""
        self.steps += 1
        self.equity[:] = equity
        np.maximum(self.peak_equity, equity, out=self.peak_equity)
        np.divide(self.peak_equity - equity, self.capital, out=self.drawdown)
        np.maximum(self.max_drawdown, self.drawdown, out=self.max_drawdown)
        self.theta_accrued += theta
        np.maximum(self.peak_gross, gross, out=self.peak_gross)
        np.maximum(self.margin_peak, margin_use, out=self.margin_peak)
        self.reward += reward
        if margin_call is not None:
            self.margin_call |= margin_call
        for name, value in counts.items():
            self.counts[name] += value

    def summary(self, rows: np.ndarray | slice = slice(None)) -> dict[str, np.ndarray]:
        """Measures of the episodes in ``rows`` so far, keyed as :data:`SUMMARY_FIELDS` (arrays)."""
        capital = self.capital[rows]
        pnl = self.equity[rows] - self.start_equity[rows]
        total_return = pnl / capital
        days = self.steps[rows] / self.bars_per_day
        annual = annualised_return(total_return, days)
        max_dd = self.max_drawdown[rows]
        summary: dict[str, Any] = {
            "steps": self.steps[rows].copy(),
            "pnl": pnl,
            "total_return": total_return,
            "theta_accrued": self.theta_accrued[rows].copy(),
            "theta_capture": theta_capture(pnl, self.theta_accrued[rows]),
            "max_drawdown": max_dd.copy(),
            "annualised_return": annual,
            "calmar": calmar(annual, max_dd),
            "spiral_index": spiral_index(self.peak_gross[rows], self.start_gross[rows]),
            "margin_peak": self.margin_peak[rows].copy(),
            "margin_call": self.margin_call[rows].copy(),
            "reward": self.reward[rows].copy(),
        }
        summary.update({name: count[rows].copy() for name, count in self.counts.items()})
        return {key: summary[key] for key in SUMMARY_FIELDS}
