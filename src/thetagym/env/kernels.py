"""Compiled (numba) loops of the env's step outside the book: the episode measures, the reward and
the episode end in one call, and the observation in another.

On a few envs the numpy formulas cost a microsecond per tiny-array call, tens of calls a step; one
loop over envs does the same arithmetic in a single call. Each kernel repeats, in the same order of
operations, the numpy reference it replaces, so the results are bit-identical
(tests/env/test_step_kernels.py holds them together):

* :func:`step_measures`: :meth:`thetagym.measures.EpisodeTracker.update`,
  :func:`thetagym.env.reward.reward`, the termination rules of
  :class:`~thetagym.env.core.BatchedCore` and its info (:data:`~thetagym.env.core.INFO_FIELDS`);
* :func:`observe`: the observation of :mod:`thetagym.env.observation`.

Compiled as the book's kernels (:mod:`thetagym.book.compiled.jit`): ``error_model="numpy"``,
no fastmath (division by zero gives inf or NaN, NaN propagates through maxima and clipping as in
numpy); the three entry points are cached on disk and called by the env with one signature each,
the helpers they call compile with them.
Constants come in as arguments (``parameters``), not as module globals, because numba's disk cache
does not notice when a global of another module changes.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.compiled.jit import entry_kernel, kernel
from thetagym.env.reward import RewardConfig
from thetagym.measures import MIN_THETA_ACCRUED, TRACKED_COUNTS, TRACKED_VALUES

# Rows of EpisodeTracker.values and .count_values, as literals so that the cached machine code
# cannot outlive a change of the tracker's layout unnoticed: the check below fails on import.
_CAPITAL, _START_EQUITY, _EQUITY, _PEAK_EQUITY, _DRAWDOWN, _MAX_DRAWDOWN = 0, 1, 2, 3, 4, 5
_THETA_ACCRUED, _PEAK_GROSS, _MARGIN_PEAK, _REWARD = 6, 8, 9, 10
_STEPS, _BLOCKED, _ADDS_BLOCKED, _ROLLS, _ASSIGNMENTS, _COUNTER_TRADES = 0, 1, 2, 3, 4, 5
_ROWS = {
    "capital": _CAPITAL,
    "start_equity": _START_EQUITY,
    "equity": _EQUITY,
    "peak_equity": _PEAK_EQUITY,
    "drawdown": _DRAWDOWN,
    "max_drawdown": _MAX_DRAWDOWN,
    "theta_accrued": _THETA_ACCRUED,
    "peak_gross": _PEAK_GROSS,
    "margin_peak": _MARGIN_PEAK,
    "reward": _REWARD,
}
_COUNT_ROWS = {
    "steps": _STEPS,
    "blocked": _BLOCKED,
    "adds_blocked": _ADDS_BLOCKED,
    "rolls": _ROLLS,
    "assignments": _ASSIGNMENTS,
    "counter_trades": _COUNTER_TRADES,
}
if any(TRACKED_VALUES.index(name) != row for name, row in _ROWS.items()) or any(
    TRACKED_COUNTS.index(name) != row for name, row in _COUNT_ROWS.items()
):
    raise ImportError("thetagym.env.kernels: update its row constants to the EpisodeTracker layout")

INFO_ROWS = (
    "equity",
    "pnl",
    "theta_accrued",
    "theta_capture",
    "drawdown",
    "max_drawdown",
    "margin_use",
    "gross_contracts",
)
"""Rows of the float info block :func:`step_measures` and :func:`fill_info` write (``blocked``, an
integer count, is copied apart)."""
OBSERVED_LAYER_FEATURES = (
    "delta",
    "gamma",
    "vega",
    "theta",
    "short_strike_moneyness",
    "days_to_expiry",
    "unrealised_pnl",
    "contracts",
    "counter_contracts",
    "is_open",
)
"""Per-layer entries :func:`observe` writes, in order (the view fields of those names)."""
OBSERVED_BOOK_FEATURES = (
    "net_delta",
    "net_gamma",
    "net_vega",
    "net_theta",
    "margin_use",
    "drawdown",
    "return",
)
"""Book entries :func:`observe` writes, in order."""


def step_parameters(reward: RewardConfig, capital: float, ruin_equity: float) -> np.ndarray:
    """The float constants :func:`step_measures` reads: capital, ruin equity (USD), the reward
    settings and :data:`~thetagym.measures.MIN_THETA_ACCRUED`."""
    return np.array(
        [
            capital,
            ruin_equity,
            reward.scale,
            reward.drawdown_penalty,
            reward.theta_bonus,
            reward.blocked_penalty,
            MIN_THETA_ACCRUED,
        ],
        dtype=np.float64,
    )


@kernel
def _maximum(a: float, b: float) -> float:
    """``np.maximum``: the larger, NaN if either is NaN (the first operand on ties)."""
    return a if (a >= b or a != a) else b


@kernel
def _info_column(
    values: np.ndarray,
    margin_use: np.ndarray,
    gross: np.ndarray,
    minimum_theta: float,
    i: int,
    info: np.ndarray,
) -> None:
    equity = values[_EQUITY, i]
    pnl = equity - values[_START_EQUITY, i]
    accrued = values[_THETA_ACCRUED, i]
    info[0, i] = equity
    info[1, i] = pnl
    info[2, i] = accrued
    info[3, i] = pnl / accrued if abs(accrued) >= minimum_theta else 0.0
    info[4, i] = values[_DRAWDOWN, i]
    info[5, i] = values[_MAX_DRAWDOWN, i]
    info[6, i] = margin_use[i]
    info[7, i] = gross[i]


@entry_kernel
def fill_info(
    values: np.ndarray, margin_use: np.ndarray, gross: np.ndarray, minimum_theta: float, info: np.ndarray
) -> None:
    """The float info of every env (rows :data:`INFO_ROWS`) from the tracker's ``values``, margin use
    and gross contracts; theta capture is 0 below ``minimum_theta`` USD accrued."""
    for i in range(info.shape[1]):
        _info_column(values, margin_use, gross, minimum_theta, i, info)


@entry_kernel
def step_measures(
    equity: np.ndarray,
    margin_call: np.ndarray,
    margin_requirement: np.ndarray,
    gross: np.ndarray,
    theta: np.ndarray,
    blocked: np.ndarray,
    adds_blocked: np.ndarray,
    rolls: np.ndarray,
    assignments: np.ndarray,
    counter_trades: np.ndarray,
    values: np.ndarray,
    count_values: np.ndarray,
    margin_called: np.ndarray,
    bars: np.ndarray,
    horizon: int,
    parameters: np.ndarray,
    margin_use: np.ndarray,
    rewards: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    info: np.ndarray,
) -> int:
    """One step of every env after the book stepped; returns the number of envs whose episode ended.

    Reads the book's step result (the first ten arrays, over envs) and advances ``bars``; updates
    the tracker state (``values``, ``count_values``, ``margin_called``: :class:`EpisodeTracker`'s
    arrays); writes ``margin_use`` (requirement over equity floored at 1 USD), ``rewards``,
    ``terminated`` (margin call, or equity at or below the ruin equity), ``truncated`` (``horizon``
    bars reached and not terminated) and the float ``info`` (:data:`INFO_ROWS` x envs).
    ``parameters`` come from :func:`step_parameters`.
    """
    capital, ruin_equity, scale = parameters[0], parameters[1], parameters[2]
    drawdown_penalty, theta_bonus, blocked_penalty = parameters[3], parameters[4], parameters[5]
    minimum_theta = parameters[6]
    ended = 0
    for i in range(equity.shape[0]):
        bars[i] += 1
        new_equity = np.float64(equity[i])
        use = np.float64(margin_requirement[i]) / _maximum(new_equity, 1.0)
        margin_use[i] = use
        # EpisodeTracker.update
        previous_equity = values[_EQUITY, i]
        previous_max_drawdown = values[_MAX_DRAWDOWN, i]
        count_values[_STEPS, i] += 1
        values[_EQUITY, i] = new_equity
        peak = _maximum(values[_PEAK_EQUITY, i], new_equity)
        values[_PEAK_EQUITY, i] = peak
        drawdown = (peak - new_equity) / values[_CAPITAL, i]
        values[_DRAWDOWN, i] = drawdown
        max_drawdown = _maximum(previous_max_drawdown, drawdown)
        values[_MAX_DRAWDOWN, i] = max_drawdown
        values[_THETA_ACCRUED, i] += theta[i]
        values[_PEAK_GROSS, i] = _maximum(values[_PEAK_GROSS, i], np.float64(gross[i]))
        values[_MARGIN_PEAK, i] = _maximum(values[_MARGIN_PEAK, i], use)
        called = bool(margin_call[i])
        if called:
            margin_called[i] = True
        count_values[_BLOCKED, i] += blocked[i]
        count_values[_ADDS_BLOCKED, i] += adds_blocked[i]
        count_values[_ROLLS, i] += rolls[i]
        count_values[_ASSIGNMENTS, i] += assignments[i]
        count_values[_COUNTER_TRADES, i] += counter_trades[i]
        # reward.reward
        value = (new_equity - previous_equity) / capital - drawdown_penalty * (
            max_drawdown - previous_max_drawdown
        )
        if theta_bonus != 0.0:
            value = value + theta_bonus * theta[i] / capital
        value = scale * value
        if blocked_penalty != 0.0:
            value = value - blocked_penalty * blocked[i]
        rewards[i] = value
        values[_REWARD, i] += value
        # Episode end and info
        stop = called or new_equity <= ruin_equity
        terminated[i] = stop
        truncated[i] = bars[i] >= horizon and not stop
        if stop or bars[i] >= horizon:
            ended += 1
        _info_column(values, margin_use, gross, minimum_theta, i, info)
    return ended


@entry_kernel
def observe(
    delta: np.ndarray,
    gamma: np.ndarray,
    vega: np.ndarray,
    theta: np.ndarray,
    short_strike_moneyness: np.ndarray,
    days_to_expiry: np.ndarray,
    unrealised_pnl: np.ndarray,
    contracts: np.ndarray,
    counter_contracts: np.ndarray,
    is_open: np.ndarray,
    net_delta: np.ndarray,
    net_gamma: np.ndarray,
    net_vega: np.ndarray,
    net_theta: np.ndarray,
    margin_requirement: np.ndarray,
    equity: np.ndarray,
    drawdown: np.ndarray,
    index: np.ndarray,
    market: np.ndarray,
    bars: np.ndarray,
    layer_scale: np.ndarray,
    book_scale: np.ndarray,
    capital: float,
    clip: np.float32,
    out: np.ndarray,
) -> None:
    """Observations ``out`` (``(num_envs, size)`` float32) of every env at its bar ``bars[i]``.

    The first sixteen arrays are the :class:`~thetagym.book.BookView` fields of those names
    (``(num_envs, n_layers)`` per layer, ``(num_envs,)`` per book); ``drawdown`` the tracker's,
    ``index`` ``(num_envs, n_bars + 1)`` index levels and ``market`` the
    :func:`~thetagym.env.observation.market_features` table, both read at ``bars``.
    ``layer_scale`` (``n_layers * 10``) and ``book_scale`` (7) multiply the raw features; each
    entry is rounded to float32 and clipped to ``[-clip, clip]``.
    """
    n_layers = delta.shape[1]
    n_book = book_scale.shape[0]
    split = layer_scale.shape[0]
    low = -clip
    for i in range(out.shape[0]):
        bar = bars[i]
        if bar < 0 or bar >= index.shape[1] or bar >= market.shape[1]:
            raise IndexError("observe: a bar lies outside the market path")
        level = index[i, bar]
        level_squared = level * level
        row = out[i]
        for layer in range(n_layers):
            base = 10 * layer
            row[base + 0] = np.float64(delta[i, layer]) * layer_scale[base + 0]
            row[base + 1] = np.float64(gamma[i, layer]) * level_squared * layer_scale[base + 1]
            row[base + 2] = np.float64(vega[i, layer]) * layer_scale[base + 2]
            row[base + 3] = np.float64(theta[i, layer]) * layer_scale[base + 3]
            row[base + 4] = np.float64(short_strike_moneyness[i, layer]) * layer_scale[base + 4]
            row[base + 5] = np.float64(days_to_expiry[i, layer]) * layer_scale[base + 5]
            row[base + 6] = np.float64(unrealised_pnl[i, layer]) * layer_scale[base + 6]
            row[base + 7] = np.float64(contracts[i, layer]) * layer_scale[base + 7]
            row[base + 8] = np.float64(counter_contracts[i, layer]) * layer_scale[base + 8]
            row[base + 9] = np.float64(is_open[i, layer]) * layer_scale[base + 9]
        book_equity = np.float64(equity[i])
        row[split + 0] = np.float64(net_delta[i]) * book_scale[0]
        row[split + 1] = np.float64(net_gamma[i]) * level * level * book_scale[1]
        row[split + 2] = np.float64(net_vega[i]) * book_scale[2]
        row[split + 3] = np.float64(net_theta[i]) * book_scale[3]
        row[split + 4] = np.float64(margin_requirement[i]) / _maximum(book_equity, 1.0) * book_scale[4]
        row[split + 5] = drawdown[i] * book_scale[5]
        row[split + 6] = (book_equity - capital) * book_scale[6]
        start = split + n_book
        for k in range(market.shape[2]):
            row[start + k] = market[i, bar, k]
        for k in range(row.shape[0]):
            value = row[k]
            if value < low:
                row[k] = low
            elif value > clip:
                row[k] = clip
