"""The env's step compiled (numba): the book's step, the episode measures, the reward, the episode
end, the book's aggregates and the observation of every env in one call, :func:`step`.

A single env's step is a few microseconds of arithmetic; called as a chain of numpy operations
and kernels it cost ten times that in calls. The per-env kernels repeat, in the same order of
operations, the numpy references they replace, so the results are bit-identical
(tests/env/test_step_kernels.py holds them together):

* :func:`measure_env`: :meth:`thetagym.measures.EpisodeTracker.update`,
  :func:`thetagym.env.reward.reward`, the termination rules of
  :class:`~thetagym.env.core.BatchedCore` and its info (:data:`~thetagym.env.core.INFO_FIELDS`);
* :func:`observe_env`: the observation of :mod:`thetagym.env.observation`.

Compiled as the book's kernels (:mod:`thetagym.book.compiled.jit`): ``error_model="numpy"``,
no fastmath (division by zero gives inf or NaN, NaN propagates through maxima and clipping as in
numpy); the entry points are cached on disk and called by the env with one signature each, the
kernels they call compile with them. Numba's disk cache checks only this file, so the cache is
also dropped when a kernel source compiled into it changes (the book's, whose column constants it
reads, the pricing and market kernels: :func:`~thetagym.book.compiled.jit.drop_stale_cache`).
Settings of other modules (the reward, the ruin equity) come in as arguments (``parameters``).
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np

from thetagym.book.compiled import step as book_kernels
from thetagym.book.compiled.jit import (
    KERNEL_SOURCES,
    drop_stale_cache,
    entry_kernel,
    kernel,
    parallel_entry_kernel,
)
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
"""Rows of the float info block :func:`measure_env` and :func:`fill_info` write (``blocked``, an
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
VIEW_FIELDS = (
    *OBSERVED_LAYER_FEATURES,
    "net_delta",
    "net_gamma",
    "net_vega",
    "net_theta",
    "margin_requirement",
    "equity",
)
"""The :class:`~thetagym.book.BookView` fields :func:`observe` reads, in order."""


drop_stale_cache(Path(__file__).parent / "__pycache__", (*KERNEL_SOURCES, Path(__file__)))


def step_parameters(reward: RewardConfig, capital: float, ruin_equity: float) -> np.ndarray:
    """The float constants :func:`measure_env` reads: capital, ruin equity (USD), the reward
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
    values: np.ndarray, margin_use: float, gross: float, minimum_theta: float, i: int, info: np.ndarray
) -> None:
    """Column ``i`` of the float info (:data:`INFO_ROWS`) from the tracker's ``values``."""
    equity = values[_EQUITY, i]
    pnl = equity - values[_START_EQUITY, i]
    accrued = values[_THETA_ACCRUED, i]
    info[0, i] = equity
    info[1, i] = pnl
    info[2, i] = accrued
    info[3, i] = pnl / accrued if abs(accrued) >= minimum_theta else 0.0
    info[4, i] = values[_DRAWDOWN, i]
    info[5, i] = values[_MAX_DRAWDOWN, i]
    info[6, i] = margin_use
    info[7, i] = gross


@entry_kernel
def fill_info(
    values: np.ndarray, margin_use: np.ndarray, gross: np.ndarray, minimum_theta: float, info: np.ndarray
) -> None:
    """The float info of every env (rows :data:`INFO_ROWS`) from the tracker's ``values``, margin use
    and gross contracts; theta capture is 0 below ``minimum_theta`` USD accrued."""
    for i in range(info.shape[1]):
        _info_column(values, margin_use[i], gross[i], minimum_theta, i, info)


@kernel
def measure_env(
    i: int,
    equity: float,
    margin_call: bool,
    margin_requirement: float,
    gross: float,
    theta: float,
    blocked: int,
    adds_blocked: int,
    rolls: int,
    assignments: int,
    counter_trades: int,
    episode: tuple[np.ndarray, ...],
    bars: np.ndarray,
    horizon: int,
    margin_use: np.ndarray,
    results: tuple[np.ndarray, ...],
) -> bool:
    """One step of env ``i`` after its book stepped; returns whether its episode ended.

    Reads the book's step result for the env (``equity`` ... ``counter_trades``) and advances
    ``bars[i]``; updates the tracker state of ``episode`` (``values``, ``count_values``,
    ``margin_called``: :class:`EpisodeTracker`'s arrays, then the ``parameters`` of
    :func:`step_parameters`); writes ``margin_use`` (requirement over equity floored at 1 USD) and
    the ``results`` ``rewards``, ``terminated`` (margin call, or equity at or below the ruin equity),
    ``truncated`` (``horizon`` bars reached and not terminated) and the float ``info``
    (:data:`INFO_ROWS` x envs) at ``i``.
    """
    values, count_values, margin_called, parameters = episode
    rewards, terminated, truncated, info = results
    capital, ruin_equity, scale = parameters[0], parameters[1], parameters[2]
    drawdown_penalty, theta_bonus, blocked_penalty = parameters[3], parameters[4], parameters[5]
    minimum_theta = parameters[6]
    bars[i] += 1
    new_equity = np.float64(equity)
    use = np.float64(margin_requirement) / _maximum(new_equity, 1.0)
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
    values[_THETA_ACCRUED, i] += theta
    values[_PEAK_GROSS, i] = _maximum(values[_PEAK_GROSS, i], np.float64(gross))
    values[_MARGIN_PEAK, i] = _maximum(values[_MARGIN_PEAK, i], use)
    called = bool(margin_call)
    if called:
        margin_called[i] = True
    count_values[_BLOCKED, i] += blocked
    count_values[_ADDS_BLOCKED, i] += adds_blocked
    count_values[_ROLLS, i] += rolls
    count_values[_ASSIGNMENTS, i] += assignments
    count_values[_COUNTER_TRADES, i] += counter_trades
    # reward.reward
    value = (new_equity - previous_equity) / capital - drawdown_penalty * (
        max_drawdown - previous_max_drawdown
    )
    if theta_bonus != 0.0:
        value = value + theta_bonus * theta / capital
    value = scale * value
    if blocked_penalty != 0.0:
        value = value - blocked_penalty * blocked
    rewards[i] = value
    values[_REWARD, i] += value
    # Episode end and info
    stop = called or new_equity <= ruin_equity
    terminated[i] = stop
    truncated[i] = bars[i] >= horizon and not stop
    _info_column(values, use, gross, minimum_theta, i, info)
    return stop or bars[i] >= horizon


@entry_kernel
def observe(view, drawdown, observing, bars, out):
    """Observations ``out`` (``(num_envs, size)`` float32) of every env (see :func:`observe_env`)."""
    for i in range(out.shape[0]):
        observe_env(i, view, drawdown, observing, bars, out)


@kernel
def observe_env(i, view, drawdown, observing, bars, out):
    """Observation ``out[i]`` of env ``i`` at its bar ``bars[i]``.

    ``view`` holds the :class:`~thetagym.book.BookView` fields of :data:`VIEW_FIELDS`, in order
    (``(num_envs, n_layers)`` per layer, ``(num_envs,)`` per book); ``drawdown`` is the tracker's.
    ``observing`` holds ``index`` ``(num_envs, n_bars + 1)`` index levels and ``market``, the
    :func:`~thetagym.env.observation.market_features` table, both read at ``bars``, then the
    :attr:`~thetagym.env.observation.ObservationBuilder.scales`: ``layer_scale`` (``n_layers * 10``)
    and ``book_scale`` (7), which multiply the raw features, and ``constants`` (capital in USD, the
    clip): each entry is rounded to float32 and clipped to ``[-clip, clip]``.
    """
    delta, gamma, vega, theta, short_strike_moneyness, days_to_expiry = view[:6]
    unrealised_pnl, contracts, counter_contracts, is_open = view[6:10]
    net_delta, net_gamma, net_vega, net_theta, margin_requirement, equity = view[10:]
    index, market, layer_scale, book_scale, constants = observing
    capital, clip = constants[0], np.float32(constants[1])
    n_layers = delta.shape[1]
    n_book = book_scale.shape[0]
    split = layer_scale.shape[0]
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
    low = -clip
    for k in range(row.shape[0]):
        value = row[k]
        if value < low:
            row[k] = low
        elif value > clip:
            row[k] = clip


@kernel
def _view_fields(aggregates):
    """The :data:`VIEW_FIELDS` of the book's aggregates (as :func:`thetagym.book.view.book_view`)."""
    sums, nearest, net, is_open, totals = aggregates
    return (
        sums[:, 0],
        sums[:, 1],
        sums[:, 2],
        sums[:, 3],
        nearest[:, 0],
        nearest[:, 1],
        sums[:, 4],
        sums[:, 5],
        sums[:, 6],
        is_open,
        net[:, 0],
        net[:, 1],
        net[:, 2],
        net[:, 3],
        totals[:, book_kernels.BOOK_MARGIN_REQUIREMENT],
        totals[:, book_kernels.BOOK_EQUITY],
    )


@entry_kernel
def step(
    book_arguments,
    actions,
    bars,
    horizon,
    bars_per_day,
    outputs,
    aggregates,
    episode,
    observing,
    latest,
    results,
    observation,
):
    """One step of every env: the book trades ``actions`` at ``bars`` and marks the next bar, then
    the measures, reward and episode end, the book's aggregates and the observation (see
    :func:`step_envs`); returns the number of envs whose episode ended, or -1, stepping nothing,
    if a choice lies outside its part's range."""
    book, market, state = book_kernels.unpack(*book_arguments)
    if not book_kernels.actions_in_range(actions, book[1].shape[0]):
        return -1
    n = bars.shape[0]
    return step_envs(
        book,
        market,
        state,
        actions,
        bars,
        horizon,
        bars_per_day,
        outputs,
        aggregates,
        episode,
        observing,
        latest,
        results,
        observation,
        0,
        n,
    )


@parallel_entry_kernel
def step_parallel(
    book_arguments,
    actions,
    bars,
    horizon,
    bars_per_day,
    outputs,
    aggregates,
    episode,
    observing,
    latest,
    results,
    observation,
    n_chunks,
):
    """:func:`step` on numba's threads, envs split into ``n_chunks`` contiguous chunks."""
    book, market, state = book_kernels.unpack(*book_arguments)
    if not book_kernels.actions_in_range(actions, book[1].shape[0]):
        return -1
    n = bars.shape[0]
    ended = 0
    for chunk in numba.prange(n_chunks):
        ended += step_envs(
            book,
            market,
            state,
            actions,
            bars,
            horizon,
            bars_per_day,
            outputs,
            aggregates,
            episode,
            observing,
            latest,
            results,
            observation,
            chunk * n // n_chunks,
            (chunk + 1) * n // n_chunks,
        )
    return ended


@kernel
def step_envs(
    book,
    market,
    state,
    actions,
    bars,
    horizon,
    bars_per_day,
    outputs,
    aggregates,
    episode,
    observing,
    latest,
    results,
    observation,
    first,
    last,
):
    """Step envs ``first`` to ``last - 1``; returns how many of their episodes ended.

    ``book``, ``market``, ``state``, ``actions``, ``bars`` and the book's step ``outputs`` are those
    of :func:`thetagym.book.compiled.step.step_envs`; ``aggregates`` those of
    :func:`~thetagym.book.compiled.step.aggregate_env` (at the next bar, ``bars_per_day``);
    ``horizon`` and ``episode`` (tracker ``values``, ``count_values``, ``margin_called``,
    ``parameters``) are what :func:`measure_env` reads, ``observing`` what :func:`observe_env`
    reads; ``latest`` (``margin_use``, ``gross``, ``blocked``) keeps what a reset's info reads;
    ``results`` (``rewards``, ``terminated``, ``truncated``, ``info``) and ``observation`` are the
    step's outputs. Every tuple holds arrays only (numba passes nothing else into a parallel loop).
    """
    book_kernels.step_envs(book, market, state, actions, bars, first, last, outputs)
    totals, _, _, _, counts = outputs
    margin_use, gross, blocked = latest
    drawdown = episode[0][_DRAWDOWN]
    view = _view_fields(aggregates)
    ended = 0
    for env in range(first, last):
        gross[env] = totals[env, book_kernels.GROSS_CONTRACTS]
        blocked[env] = counts[env, book_kernels.BLOCKED]
        if measure_env(
            env,
            totals[env, book_kernels.EQUITY],
            counts[env, book_kernels.MARGIN_CALL] != 0,
            totals[env, book_kernels.MARGIN_REQUIREMENT],
            gross[env],
            totals[env, book_kernels.THETA_ACCRUED],
            blocked[env],
            counts[env, book_kernels.ADDS_BLOCKED],
            counts[env, book_kernels.ROLLS],
            counts[env, book_kernels.ASSIGNMENTS],
            counts[env, book_kernels.COUNTER_TRADES],
            episode,
            bars,
            horizon,
            margin_use,
            results,
        ):
            ended += 1
        book_kernels.aggregate_env(book, state, env, bars_per_day, *aggregates)
        observe_env(env, view, drawdown, observing, bars, observation)
    return ended
