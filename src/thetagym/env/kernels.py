"""The env compiled (numba): reset, action masks, the observation and the step of every env, one
call each through :func:`run` (or :func:`run_parallel` on numba's threads).

The step is the book's step (:func:`thetagym.book.compiled.step.step_envs`, whose docstring states
the order of events) followed, per env, by the episode measures, the reward and the episode end
(:func:`measure_env`), the book's aggregates at the next bar and the observation
(:func:`observe_env`, the one function that builds it, on reset as on step). A single env's step is
a few microseconds of arithmetic; called as a chain of numpy operations and kernels it cost ten
times that in calls. The kernels repeat, in the same order of operations, the numpy references
they replace, so the results are bit-identical (tests/env/test_step_kernels.py holds them
together): :meth:`thetagym.measures.EpisodeTracker.update`, :func:`thetagym.env.reward.reward`,
the termination rules of :class:`~thetagym.env.core.BatchedCore` and its info.

Compiled as the book's kernels (:mod:`thetagym.book.compiled.jit`): ``error_model="numpy"``, no
fastmath. Numba's disk cache checks only this file, so the cache is also dropped when a source
compiled into it changes (the book's, the pricing and market kernels, and :mod:`thetagym.measures`,
whose tracker rows it reads: :func:`~thetagym.book.compiled.jit.drop_stale_cache`). Settings of
other modules (the reward, the ruin equity) come in as arguments (``parameters``).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from thetagym import measures
from thetagym.book.compiled import step as book
from thetagym.book.compiled.buffers import Aggregates, StepOutputs, unpack
from thetagym.book.compiled.jit import (
    KERNEL_SOURCES,
    drop_stale_cache,
    entry_kernel,
    inline_kernel,
    kernel,
    parallel_entry_kernel,
)
from thetagym.env.reward import RewardConfig
from thetagym.measures import MIN_THETA_ACCRUED, TRACKED_COUNTS, TRACKED_VALUES

drop_stale_cache(
    Path(__file__).parent / "__pycache__", (*KERNEL_SOURCES, Path(__file__), Path(measures.__file__))
)

# Rows of EpisodeTracker.values and .count_values (frozen into the compiled code).
_CAPITAL, _START_EQUITY, _EQUITY, _PEAK_EQUITY, _DRAWDOWN, _MAX_DRAWDOWN = (
    TRACKED_VALUES.index(name)
    for name in ("capital", "start_equity", "equity", "peak_equity", "drawdown", "max_drawdown")
)
_THETA_ACCRUED, _PEAK_GROSS, _MARGIN_PEAK, _REWARD = (
    TRACKED_VALUES.index(name) for name in ("theta_accrued", "peak_gross", "margin_peak", "reward")
)
_STEPS, _BLOCKED, _ADDS_BLOCKED, _ROLLS, _ASSIGNMENTS, _COUNTER_TRADES = (
    TRACKED_COUNTS.index(name)
    for name in ("steps", "blocked", "adds_blocked", "rolls", "assignments", "counter_trades")
)

INFO_FIELDS = (
    "equity",  # USD
    "pnl",  # USD since the episode started
    "theta_accrued",  # USD since the episode started
    "theta_capture",  # pnl / theta_accrued so far (0 while nothing accrued)
    "drawdown",  # current, fraction of capital
    "max_drawdown",  # fraction of capital
    "margin_use",  # margin requirement / equity
    "gross_contracts",
    "blocked",  # illegal choices the guard replaced by HOLD this step
)
"""Keys of the per-step info: arrays over envs (the single env reports scalars). The compiled step
writes every field but the last into the rows of one float array (:func:`info_column`); the last,
``blocked``, an integer count, it keeps in :class:`Latest`."""
N_INFO_ROWS = len(INFO_FIELDS) - 1
"""Rows of the float info: :data:`INFO_FIELDS` but ``blocked``."""
LAYER_FEATURES = (
    "delta",  # ES-equivalent contracts / layer contract cap
    "gamma",  # USD P&L of a 1% index move from gamma / capital, in percent
    "vega",  # USD per vol point / capital, in percent
    "theta",  # USD per day / capital, in per mille
    "short_strike_moneyness",  # log(K/F) / (iv sqrt(tau)) of the short strike, standard deviations
    "days_to_expiry",  # of the nearest short option / 30
    "unrealised_pnl",  # USD / capital, x10
    "contracts",  # gross contracts / layer contract cap
    "counter_contracts",  # counter-trade contracts / layer contract cap
    "is_open",  # 1 if the layer holds positions
)
"""Per-layer entries of the observation, in the order :func:`observe_env` writes them."""
BOOK_FEATURES = (
    "net_delta",  # ES-equivalent contracts / sum of layer caps
    "net_gamma",  # as the layer feature
    "net_vega",
    "net_theta",
    "margin_use",  # margin requirement / equity
    "drawdown",  # current drawdown, fraction of capital x10
    "return",  # (equity / capital - 1) x10
)
"""Book entries of the observation, in the order :func:`observe_env` writes them."""
RESET, OBSERVE, MASKS, STEP = range(4)
"""The operations of :func:`run`."""


class Episode(NamedTuple):
    """What :func:`measure_env` reads and updates: the tracker's ``values``, ``count_values`` and
    ``margin_called`` (:class:`~thetagym.measures.EpisodeTracker`'s arrays) and the
    ``parameters`` of :func:`step_parameters`."""

    values: np.ndarray
    count_values: np.ndarray
    margin_called: np.ndarray
    parameters: np.ndarray


class Observing(NamedTuple):
    """What :func:`observe_env` reads besides the book: ``index_level`` ``(num_envs, n_bars + 1)``
    index levels (points) and ``market``, the :func:`~thetagym.env.observation.market_features` table, both read
    at each env's bar; the :attr:`~thetagym.env.observation.ObservationBuilder.scales`:
    ``layer_scale`` (``n_layers * 10``) and ``book_scale`` (7), which multiply the raw features,
    and ``constants`` (capital in USD, the clip)."""

    index_level: np.ndarray
    market: np.ndarray
    layer_scale: np.ndarray
    book_scale: np.ndarray
    constants: np.ndarray


class Latest(NamedTuple):
    """Per env, what a reset's info reads of the latest step: ``margin_use``, ``gross`` contracts
    and ``blocked`` choices."""

    margin_use: np.ndarray
    gross: np.ndarray
    blocked: np.ndarray


class Results(NamedTuple):
    """Per env, what a step returns: ``rewards``, ``terminated``, ``truncated``, the float ``info``
    (:data:`N_INFO_ROWS` x envs) and the ``observation`` ``(num_envs, size)`` float32."""

    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info: np.ndarray
    observation: np.ndarray


class Envs(NamedTuple):
    """Per call: the ``rows`` to reset, the envs' ``bars``, their ``actions``, the ``legal`` choices
    table ``(num_envs, n_layers + 1, 8)`` and ``limits`` (the episode's horizon in bars, bars per
    day)."""

    rows: np.ndarray
    bars: np.ndarray
    actions: np.ndarray
    legal: np.ndarray
    limits: np.ndarray


class Call(NamedTuple):
    """The arguments of :func:`run`, passed as a plain tuple of plain tuples of arrays (a named
    tuple costs twice as much to pass, and a parallel loop takes flat tuples only) and read by
    name inside: the book's ``packed`` buffers (:data:`~thetagym.book.compiled.buffers.Packed`),
    its step ``outputs`` and ``aggregates``, the :class:`Episode`, :class:`Observing`,
    :class:`Latest`, :class:`Results` and :class:`Envs`."""

    packed: tuple
    outputs: tuple
    aggregates: tuple
    episode: tuple
    observing: tuple
    latest: tuple
    results: tuple
    envs: tuple


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
def info_column(
    values: np.ndarray, margin_use: float, gross: float, minimum_theta: float, i: int, info: np.ndarray
) -> None:
    """Column ``i`` of the float info (:data:`INFO_FIELDS` but ``blocked``) from the tracker's ``values``; theta
    capture is 0 below ``minimum_theta`` USD accrued."""
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


@inline_kernel
def measure_env(
    i: int,
    outputs: StepOutputs,
    episode: Episode,
    bars: np.ndarray,
    horizon: int,
    latest: Latest,
    results: Results,
) -> bool:
    """One step of env ``i`` after its book stepped (``outputs``); returns whether its episode ended.

    Advances ``bars[i]``; updates the tracker state of ``episode``; writes ``latest`` (margin use:
    requirement over equity floored at 1 USD; gross contracts; blocked choices) and the
    ``results`` ``rewards``, ``terminated`` (margin call, or equity at or below the ruin equity),
    ``truncated`` (``horizon`` bars reached and not terminated) and the float ``info`` at ``i``.
    """
    totals, counts = outputs.totals, outputs.counts
    values, count_values, margin_called, parameters = episode
    capital, ruin_equity, scale = parameters[0], parameters[1], parameters[2]
    drawdown_penalty, theta_bonus, blocked_penalty = parameters[3], parameters[4], parameters[5]
    minimum_theta = parameters[6]
    gross = totals[i, book.GROSS_CONTRACTS]
    theta = totals[i, book.THETA_ACCRUED]
    blocked = counts[i, book.BLOCKED]
    latest.gross[i] = gross
    latest.blocked[i] = blocked
    bars[i] += 1
    new_equity = np.float64(totals[i, book.EQUITY])
    use = np.float64(totals[i, book.MARGIN_REQUIREMENT]) / _maximum(new_equity, 1.0)
    latest.margin_use[i] = use
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
    called = counts[i, book.MARGIN_CALL] != 0
    if called:
        margin_called[i] = True
    count_values[_BLOCKED, i] += blocked
    count_values[_ADDS_BLOCKED, i] += counts[i, book.ADDS_BLOCKED]
    count_values[_ROLLS, i] += counts[i, book.ROLLS]
    count_values[_ASSIGNMENTS, i] += counts[i, book.ASSIGNMENTS]
    count_values[_COUNTER_TRADES, i] += counts[i, book.COUNTER_TRADES]
    # reward.reward
    value = (new_equity - previous_equity) / capital - drawdown_penalty * (
        max_drawdown - previous_max_drawdown
    )
    if theta_bonus != 0.0:
        value = value + theta_bonus * theta / capital
    value = scale * value
    if blocked_penalty != 0.0:
        value = value - blocked_penalty * blocked
    results.rewards[i] = value
    values[_REWARD, i] += value
    # Episode end and info
    stop = called or new_equity <= ruin_equity
    results.terminated[i] = stop
    results.truncated[i] = bars[i] >= horizon and not stop
    info_column(values, use, np.float64(gross), minimum_theta, i, results.info)
    return stop or bars[i] >= horizon


@kernel
def observe_env(
    i: int,
    aggregates: Aggregates,
    drawdown: np.ndarray,
    observing: Observing,
    bars: np.ndarray,
    out: np.ndarray,
) -> None:
    """Observation ``out[i]`` (:data:`LAYER_FEATURES`, :data:`BOOK_FEATURES`, then the market
    table's row) of env ``i`` at its bar ``bars[i]``, from the book's ``aggregates`` and the
    tracker's ``drawdown``: each raw feature times its scale, rounded to float32 and clipped to
    ``[-clip, clip]``."""
    sums, nearest, net, is_open, totals = aggregates
    index, market, layer_scale, book_scale, constants = observing
    capital, clip = constants[0], np.float32(constants[1])
    n_layers = sums.shape[2]
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
        row[base + 0] = sums[i, book.SUM_DELTA, layer] * layer_scale[base + 0]
        row[base + 1] = sums[i, book.SUM_GAMMA, layer] * level_squared * layer_scale[base + 1]
        row[base + 2] = sums[i, book.SUM_VEGA, layer] * layer_scale[base + 2]
        row[base + 3] = sums[i, book.SUM_THETA, layer] * layer_scale[base + 3]
        row[base + 4] = nearest[i, book.NEAREST_MONEYNESS, layer] * layer_scale[base + 4]
        row[base + 5] = nearest[i, book.NEAREST_DAYS, layer] * layer_scale[base + 5]
        row[base + 6] = sums[i, book.SUM_UNREALISED, layer] * layer_scale[base + 6]
        row[base + 7] = sums[i, book.SUM_CONTRACTS, layer] * layer_scale[base + 7]
        row[base + 8] = sums[i, book.SUM_COUNTER, layer] * layer_scale[base + 8]
        row[base + 9] = np.float64(is_open[i, layer]) * layer_scale[base + 9]
    book_equity = totals[i, book.BOOK_EQUITY]
    row[split + 0] = net[i, 0] * book_scale[0]
    row[split + 1] = net[i, 1] * level * level * book_scale[1]
    row[split + 2] = net[i, 2] * book_scale[2]
    row[split + 3] = net[i, 3] * book_scale[3]
    row[split + 4] = totals[i, book.BOOK_MARGIN_REQUIREMENT] / _maximum(book_equity, 1.0) * book_scale[4]
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


@entry_kernel
def observe(aggregates, drawdown, observing, bars, out):
    """Observations ``out`` of every env from plain tuples of :class:`~thetagym.book.compiled.
    buffers.Aggregates` and :class:`Observing` (for views made outside the env, see
    :meth:`~thetagym.env.observation.ObservationBuilder.build_at`)."""
    records, observing_record = Aggregates(*aggregates), Observing(*observing)
    for env in range(out.shape[0]):
        observe_env(env, records, drawdown, observing_record, bars, out)


@kernel
def _checked(operation: int, envs: Envs) -> bool:
    """False for a step whose actions hold a choice outside its part's range."""
    return operation != STEP or book.actions_in_range(envs.actions, envs.legal.shape[1] - 1)


@entry_kernel
def run(operation, call, first, last):
    """Run ``operation`` on envs ``first`` to ``last - 1``: :data:`RESET` the book's ``rows`` at
    their ``bars`` then aggregate the envs; :data:`OBSERVE` the envs' info and observation; the
    legal choices of :data:`MASKS`; a :data:`STEP` (the book's, then measures, aggregates and
    observation). Returns the number of episodes a step ended (0 for the other operations), or -1,
    doing nothing, if a step's choice lies outside its part's range. ``call`` is a plain tuple of
    a :class:`Call`, made records here."""
    record = Call(*call)
    envs = Envs(*record.envs)
    if not _checked(operation, envs):
        return -1
    tables, market, state = unpack(record.packed)
    aggregates = Aggregates(*record.aggregates)
    episode = Episode(*record.episode)
    observing = Observing(*record.observing)
    latest = Latest(*record.latest)
    results = Results(*record.results)
    horizon, bars_per_day = int(envs.limits[0]), envs.limits[1]
    if operation == RESET:
        book.reset_envs(tables, market, state, envs.rows, envs.bars[envs.rows])
        for env in range(first, last):
            book.aggregate_env(tables, state, env, bars_per_day, aggregates)
        return 0
    if operation == OBSERVE:
        minimum_theta = episode.parameters[6]
        for env in range(first, last):
            info_column(
                episode.values, latest.margin_use[env], latest.gross[env], minimum_theta, env, results.info
            )
            observe_env(env, aggregates, episode.values[_DRAWDOWN], observing, envs.bars, results.observation)
        return 0
    if operation == MASKS:
        book.masks_envs(tables, market, state, envs.bars, envs.legal, first, last)
        return 0
    outputs = StepOutputs(*record.outputs)
    book.step_envs(tables, market, state, envs.actions, envs.bars, first, last, outputs)
    ended = 0
    for env in range(first, last):
        if measure_env(env, outputs, episode, envs.bars, horizon, latest, results):
            ended += 1
        book.aggregate_env(tables, state, env, bars_per_day, aggregates)
        observe_env(env, aggregates, episode.values[_DRAWDOWN], observing, envs.bars, results.observation)
    return ended


@parallel_entry_kernel
def run_parallel(operation, call, n_chunks):
    """:func:`run` of every env on numba's threads: the masks and the step split envs into
    ``n_chunks`` contiguous chunks (envs are independent: each writes only its own rows)."""
    record = Call(*call)
    envs = Envs(*record.envs)
    if not _checked(operation, envs):
        return -1
    n = envs.bars.shape[0]
    chunks = n_chunks if operation == MASKS or operation == STEP else 1
    packed, outputs, aggregates, episode = record.packed, record.outputs, record.aggregates, record.episode
    observing, latest, results, flat_envs = record.observing, record.latest, record.results, record.envs
    ended = 0
    for chunk in numba.prange(chunks):
        # Rebuilt in the loop: a parallel loop takes tuples of arrays, not tuples of tuples.
        part = (packed, outputs, aggregates, episode, observing, latest, results, flat_envs)
        ended += run(operation, part, chunk * n // chunks, (chunk + 1) * n // chunks)
    return ended
