"""The reward: change of equity over capital, minus a penalty on new drawdown, plus options.

Per step and env, with equity ``E``, starting capital ``C``, max drawdown so far ``D`` (fraction of
capital), theta accrued this step ``theta`` (USD) and ``blocked`` illegal choices:

    reward = scale * ((E_t - E_{t-1}) / C - drawdown_penalty * (D_t - D_{t-1})
                      + theta_bonus * theta / C) - blocked_penalty * blocked
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.config import setting


@dataclass(frozen=True)
class RewardConfig:
    """Reward settings; the default is equity change over capital with a drawdown penalty."""

    scale: float = setting(100.0, gt=0.0, le=1e4, doc="reward units per 1.0 of capital (100: percent)")
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
    """
    value = equity_change / capital - config.drawdown_penalty * drawdown_increase
    if config.theta_bonus:
        value = value + config.theta_bonus * theta_accrued / capital
    value = config.scale * value
    if config.blocked_penalty:
        value = value - config.blocked_penalty * blocked
    return np.asarray(value, dtype=np.float64)
