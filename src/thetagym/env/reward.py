"""The reward: change of equity over capital, minus a penalty on new drawdown, plus options.

Per step and env, with equity ``E``, starting capital ``C``, the step's return ``r = (E_t -
E_{t-1}) / C``, max drawdown so far ``D`` (fraction of capital), theta accrued this step ``theta``
(USD) and ``blocked`` illegal choices:

    reward = scale * (r - variance_penalty * r**2 - drawdown_penalty * (D_t - D_{t-1})
                      + theta_bonus * theta / C) - blocked_penalty * blocked

``variance_penalty`` makes the reward a mean-variance utility, the local form of the Sharpe ratio
the scoreboard ranks on: for a book with mean step return ``m`` and variance ``v``, the Sharpe
ratio rises with ``m - k * v`` at ``k = m / (2 v)`` (about 15 to 30 for a short-premium book
earning a Sharpe ratio near 1 at 3-5% volatility a year). Squares of bar returns add up to the
day's variance when the bars are independent, so the same ``k`` holds per bar and per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.config import setting


@dataclass(frozen=True)
class RewardConfig:
    """Reward settings; the default is equity change over capital with a drawdown penalty."""

    scale: float = setting(100.0, gt=0.0, le=1e4, doc="reward units per 1.0 of capital (100: percent)")
    variance_penalty: float = setting(
        0.0, ge=0.0, le=1e4, doc="weight on the squared step return (mean-variance utility), 0 = off"
    )
    drawdown_penalty: float = setting(
        1.0, ge=0.0, le=1e3, doc="weight on the increase of max drawdown (fraction of capital), 0 = off"
    )
    theta_bonus: float = setting(0.0, ge=0.0, le=1e3, doc="weight on theta accrued this step over capital")
    blocked_penalty: float = setting(
        0.0, ge=0.0, le=1e3, doc="reward units taken per illegal choice the guard replaced by HOLD"
    )


def reward(
    config: RewardConfig,
    equity_change: np.ndarray,
    drawdown_increase: np.ndarray,
    theta_accrued: np.ndarray,
    blocked: np.ndarray,
    capital: float,
) -> np.ndarray:
    """Rewards of one step over envs (float64 array); money in USD, drawdown in fractions.

    >>> float(reward(RewardConfig(), np.array(1_000.0), np.array(0.002), np.array(50.0),
    ...              np.array(0), 100_000.0))
    0.8
    >>> float(reward(RewardConfig(drawdown_penalty=0.0, variance_penalty=20.0), np.array(-1_000.0),
    ...              np.array(0.0), np.array(0.0), np.array(0), 100_000.0))
    -1.2
    """
    step_return = equity_change / capital
    value = step_return - config.drawdown_penalty * drawdown_increase
    if config.variance_penalty:
        value = value - config.variance_penalty * step_return**2
    if config.theta_bonus:
        value = value + config.theta_bonus * theta_accrued / capital
    value = config.scale * value
    if config.blocked_penalty:
        value = value - config.blocked_penalty * blocked
    return np.asarray(value, dtype=np.float64)
