"""Measures of a short-premium book: the one place they are computed (DESIGN §5).

Pure numpy functions over arrays; the environment's ``info``, the rule agents and the reports all
call them. Money is in USD, time in trading days or years as stated, fractions are of the starting
capital. Every function broadcasts over leading axes, so a batch of episodes is one call.

:class:`EpisodeTracker` accumulates the running measures of ``num_envs`` episodes step by step
(no Python loop over envs) and emits an episode summary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TRADING_DAYS_PER_YEAR = 252
MIN_THETA_ACCRUED = 1.0
"""USD: below this much theta accrued, theta capture is reported as 0 (nothing was earned)."""
MIN_DRAWDOWN = 0.01
"""Floor (fraction of capital) on the drawdown in the Calmar-like ratio, so calm paths stay finite."""

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
    """Theta accrued (USD): the sum over the last axis of theta (USD per year) times step time (years).

    >>> float(theta_accrued(np.array([252.0, 504.0]), 1 / 252))
    3.0
    """
    return np.asarray(np.sum(np.asarray(theta) * step_years, axis=-1))


def theta_capture(pnl: np.ndarray, accrued: np.ndarray) -> np.ndarray:
    """Net P&L over theta accrued: the share of the decay the book kept (1.0 = all of it).

    Reported as 0 where less than :data:`MIN_THETA_ACCRUED` USD was accrued.

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
    """Compound annual rate of a total return (fraction) earned over ``days`` trading days.

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


def calmar(annual_return: np.ndarray, max_dd: np.ndarray) -> np.ndarray:
    """Calmar-like ratio: annualised return over max drawdown (floored at :data:`MIN_DRAWDOWN`).

    >>> calmar(np.array([0.2, 0.2]), np.array([0.1, 0.0])).tolist()
    [2.0, 20.0]
    """
    return np.asarray(np.asarray(annual_return) / np.maximum(max_dd, MIN_DRAWDOWN))


def cvar(returns: np.ndarray, level: float = 0.05) -> np.ndarray:
    """Conditional value at risk: the mean of the worst ``level`` share of returns (last axis).

    The tail holds ``ceil(level * n)`` returns (at least one); the result is a return (negative
    for a loss), not a loss.

    >>> cvar(np.arange(1.0, 41.0) - 20.0).tolist()  # worst 2 of 40: -19 and -18
    -18.5
    """
    returns = np.sort(np.asarray(returns, dtype=float), axis=-1)
    if returns.shape[-1] == 0:
        raise ValueError("cvar needs at least one return")
    if not 0.0 < level <= 1.0:
        raise ValueError(f"cvar level must be in (0, 1], got {level}")
    tail = max(int(np.ceil(level * returns.shape[-1] - 1e-9)), 1)
    return np.asarray(returns[..., :tail].mean(axis=-1))


def spiral_index(peak_gross: np.ndarray, start_gross: np.ndarray) -> np.ndarray:
    """Peak gross contracts over starting gross contracts (1.0 = never grew; start 0 counts as 1).

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
        (USD), ``gross`` contracts, ``margin_use`` (requirement / equity), ``reward``, and counts
        this step named as in :data:`SUMMARY_FIELDS` (``blocked``, ``rolls``, ...)."""
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
