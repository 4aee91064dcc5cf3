"""The single Gymnasium env: the batched core with one env."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from thetagym.env.config import EnvConfig, resolve_config
from thetagym.env.factory import make_core
from thetagym.env.observation import observation_names

_ROW = np.zeros(1, dtype=np.int64)


class ShortPremiumEnv(gymnasium.Env[np.ndarray, np.ndarray]):
    """A multi-layer book of short S&P 500 options, managed bar by bar.

    ## Description

    The agent manages a book of layers (short call and put wings, condors, ES futures, a VIX ETP
    layer, a hedge layer) on a simulated or replayed S&P 500 market with several bars per trading
    day. The book earns the option decay (theta) and loses on index and volatility moves. The agent
    rolls, opens, closes, accepts assignment, counter-trades each layer and shifts the book's
    delta; the spiral-prevention guard (``docs/guard.md``) replaces illegal choices by HOLD.

    ## Action Space

    ``MultiDiscrete([8] * n_layers + [4])``: one part per layer, in the book config's order,
    ``thetagym.book.LayerAction``: 0 HOLD, 1 ROLL_CLOSER, 2 ROLL_OUT, 3 ACCEPT_ASSIGNMENT, 4 CLOSE,
    5 OPEN, 6 OPEN_COUNTER, 7 CLOSE_COUNTER; the last part is ``thetagym.book.BalancerAction``:
    0 HOLD, 1 SHIFT_BULL, 2 SHIFT_BEAR, 3 FLATTEN. :meth:`action_masks` gives the legal choices
    (flat, ``sum(nvec)`` booleans) for masked PPO; an illegal choice is replaced by HOLD and counted
    in ``info["blocked"]``.

    ## Observation Space

    ``Box(-clip, clip, (10 * n_layers + 19,), float32)`` with ``clip = observation_clip`` (5.0);
    every entry is scaled by construction and clipped, no running statistics. Names in order come
    from :func:`thetagym.env.observation.observation_names`.

    | index             | name                              | meaning (scale)                                    |
    |-------------------|-----------------------------------|----------------------------------------------------|
    | 10 l + 0          | ``<layer>.delta``                 | ES-equivalent delta / layer contract cap           |
    | 10 l + 1          | ``<layer>.gamma``                 | gamma P&L of a 1% index move / capital, percent    |
    | 10 l + 2          | ``<layer>.vega``                  | USD per vol point / capital, percent               |
    | 10 l + 3          | ``<layer>.theta``                 | USD per day / capital, per mille                   |
    | 10 l + 4          | ``<layer>.short_strike_moneyness``| log(K/F) / (iv sqrt(tau)) of the short strike      |
    | 10 l + 5          | ``<layer>.days_to_expiry``        | days to the nearest short expiry / 30              |
    | 10 l + 6          | ``<layer>.unrealised_pnl``        | USD / capital x 10                                 |
    | 10 l + 7          | ``<layer>.contracts``             | gross contracts / layer cap                        |
    | 10 l + 8          | ``<layer>.counter_contracts``     | counter-trade contracts / layer cap                |
    | 10 l + 9          | ``<layer>.is_open``               | 1 if the layer holds positions                     |
    | 10 L + 0..3       | ``book.net_delta`` .. ``net_theta``| as the layer entries (delta over all caps)        |
    | 10 L + 4          | ``book.margin_use``               | margin requirement / equity                        |
    | 10 L + 5          | ``book.drawdown``                 | current drawdown / capital x 10                    |
    | 10 L + 6          | ``book.return``                   | (equity / capital - 1) x 10                        |
    | 10 L + 7, 8       | ``market.log_vix``, ``term_slope``| log(VIX / 20); (VIX / VIX3M - 1) x 5               |
    | 10 L + 9          | ``market.realised_volatility``    | trailing 21-day, per year x 5                      |
    | 10 L + 10..13     | ``market.index_rsi`` .. ``vix_macd``| RSI in [-1, 1]; MACD / price x 100 (VIX x 20)    |
    | 10 L + 14, 15     | ``market.index_return_bar/_day``  | log return of the last bar (%), last day (% / 2)   |
    | 10 L + 16         | ``market.time_of_day``            | bar within the day / bars per day                  |
    | 10 L + 17, 18     | ``market.days_to_weekly/monthly`` | trading days to the next expiry / 5, / 21          |

    Every entry lies in ``[-clip, clip]``. The observation at bar ``t`` uses market data up to ``t``.

    ## Rewards

    ``scale * ((E_t - E_{t-1}) / C - drawdown_penalty * (D_t - D_{t-1}) + theta_bonus * theta_t / C)
    - blocked_penalty * blocked_t``: equity change over starting capital ``C``, minus a penalty on
    each increase of the episode's max drawdown ``D`` (fraction of capital); defaults ``scale=100``
    (percent), ``drawdown_penalty=1``, ``theta_bonus=0``, ``blocked_penalty=0``
    (:class:`thetagym.env.reward.RewardConfig`).

    Equity includes interest: at each day's close the cash (premium received included; futures
    count only their gains and losses) earns the market path's rate of that day over 1/252 of a
    year (:mod:`thetagym.book.engine`). The step's interest (USD) and the rate credited (per year,
    for excess returns over what the equity would earn in cash, :func:`thetagym.measures.excess_returns`) are
    ``env.core.last_result.interest`` and ``.cash_rate``; the rate of every day of the episode's path
    is ``env.core.market.daily_rate()``.

    ## Starting State

    A fresh market path (its seed drawn from the env's generator) at bar 0, the previous close;
    cash equals capital and each layer with ``open_at_reset`` holds its standard structure.

    ## Episode End

    Terminated: a margin call (equity below the maintenance margin; the book is liquidated), or
    ruin (equity at or below ``ruin_fraction`` of capital). Truncated: after ``episode_days``
    trading days (``episode_days * bars_per_day`` steps). ``info`` carries the running measures
    each step (:data:`thetagym.env.kernels.INFO_FIELDS`) and, at the end, ``info["summary"]``: the
    episode's measures (:data:`thetagym.measures.SUMMARY_FIELDS`).

    ## Arguments

    ``gymnasium.make("thetagym/ShortPremium-v0", config="configs/env/default.yaml", **overrides)``:
    ``config`` is an :class:`~thetagym.env.config.EnvConfig`, a YAML path or mapping (None: the
    default config); ``overrides`` replace top-level settings, e.g. ``episode_days=5`` or
    ``scenario="crash"``. With the guard off (``book.guard.enabled: false``) the env warns once.

    ## Version History

    * v0: initial version; cash earns interest at the path's rate, and the attribution has an
      ``interest`` column (issue 12).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        config: EnvConfig | str | Path | dict[str, Any] | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"ShortPremiumEnv does not render; got render_mode={render_mode!r}")
        self.config = resolve_config(config, overrides)
        self.core = make_core(self.config, num_envs=1, autoreset=False)
        clip = self.config.observation_clip
        self.action_space = spaces.MultiDiscrete(self.core.action_nvec)
        self.observation_space = spaces.Box(-clip, clip, (self.core.observation_size,), np.float32)
        self.observation_names = observation_names(self.config)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.core.generators[0] = self.np_random
        observation, info = self.core.reset(_ROW)
        return observation[0], _first(info)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        out = self.core.step(action)
        info = out.env_info(0)
        if out.done_rows.size:
            info["summary"] = _first(out.summary)
        return out.observation[0], out.reward.item(), out.terminated.item(), out.truncated.item(), info

    def action_masks(self) -> np.ndarray:
        """Legal choices, flat ``(sum(nvec),)`` bool in the action parts' order; HOLD always legal."""
        return self.core.action_masks()[0]


def _first(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The only entries of one-env arrays, as Python scalars."""
    return {key: value.item() for key, value in arrays.items()}
