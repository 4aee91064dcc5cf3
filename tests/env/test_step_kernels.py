"""The compiled step kernels equal, bit for bit, the numpy formulas they replace: the observation,
the episode tracker's update, the reward and the episode end, NaN, inf and clipping included."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numba
import numpy as np
import pytest

from thetagym.book.compiled.buffers import Aggregates, StepOutputs
from thetagym.book.compiled.step import (
    ADDS_BLOCKED,
    ASSIGNMENTS,
    BLOCKED,
    BOOK_EQUITY,
    COUNTER_TRADES,
    EQUITY,
    GROSS_CONTRACTS,
    MARGIN_CALL,
    MARGIN_REQUIREMENT,
    N_COUNTS,
    N_SUMS,
    N_TOTALS,
    ROLLS,
    THETA_ACCRUED,
)
from thetagym.book.view import book_view
from thetagym.env import kernels
from thetagym.env.kernels import INFO_FIELDS
from thetagym.env.observation import ObservationBuilder
from thetagym.env.reward import RewardConfig, reward
from thetagym.measures import MIN_THETA_ACCRUED, EpisodeTracker, theta_capture

CAPITAL = 1_000_000.0


def spiked(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Normal values times ``scale``, with some huge ones (clipped), NaN, inf and signed zeros."""
    values = rng.normal(0.0, scale, shape)
    flat = values.reshape(-1)
    picks = rng.choice(flat.size, size=min(flat.size, 8), replace=False)
    flat[picks] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e12, -1e12, 5.0][: len(picks)]
    return values


@numba.njit(error_model="numpy")
def step_measures(
    outputs: tuple[np.ndarray, ...],
    episode: tuple[np.ndarray, ...],
    bars: np.ndarray,
    horizon: int,
    latest: tuple[np.ndarray, ...],
    results: tuple[np.ndarray, ...],
) -> int:
    """:func:`kernels.measure_env` over every env, as the compiled step calls it; returns the
    number of episodes that ended."""
    records = StepOutputs(*outputs)
    episode_record = kernels.Episode(*episode)
    latest_record = kernels.Latest(*latest)
    results_record = kernels.Results(*results)
    ended = 0
    for i in range(bars.shape[0]):
        ended += kernels.measure_env(i, records, episode_record, bars, horizon, latest_record, results_record)
    return ended


@numba.njit(error_model="numpy")
def observe_all(
    aggregates: tuple[np.ndarray, ...],
    drawdown: np.ndarray,
    observing: tuple[np.ndarray, ...],
    bars: np.ndarray,
    out: np.ndarray,
) -> None:
    """:func:`kernels.observe_env` over every env."""
    records = Aggregates(*aggregates)
    observing_record = kernels.Observing(*observing)
    for i in range(bars.shape[0]):
        kernels.observe_env(i, records, drawdown, observing_record, bars, out)


@numba.njit(error_model="numpy")
def info_all(
    values: np.ndarray, margin_use: np.ndarray, gross: np.ndarray, minimum: float, info: np.ndarray
) -> None:
    """:func:`kernels.info_column` over every env."""
    for i in range(info.shape[1]):
        kernels.info_column(values, margin_use[i], gross[i], minimum, i, info)


def random_aggregates(rng: np.random.Generator, n_envs: int, n_layers: int) -> Aggregates:
    """The book's aggregates with spiked values (what the compiled step observes)."""
    scales = np.array([1.0, 0.01, 2e3, 1e3, 5e4, 5.0, 1.0, 1.0])[None, :, None]
    sums = spiked(rng, (n_envs, N_SUMS, n_layers), 1.0) * scales
    sums[:, 5] = rng.integers(0, 30, (n_envs, n_layers))
    totals = spiked(rng, (n_envs, 3), 1e4)
    totals[:, BOOK_EQUITY] = CAPITAL + rng.normal(0, 5e4, n_envs)
    totals[0, BOOK_EQUITY] = 0.5  # below the 1 USD floor of margin use
    return Aggregates(
        sums,
        spiked(rng, (n_envs, 2, n_layers), 1.0),
        spiked(rng, (n_envs, 4), 1e4),
        rng.random((n_envs, n_layers)) < 0.5,
        totals,
    )


def reference_observation(
    builder: ObservationBuilder, view: Any, drawdown: np.ndarray, index: np.ndarray, market_row: np.ndarray
) -> np.ndarray:
    """The numpy observation the kernel replaced (float64 features times scales, float32, clipped)."""
    n_envs = index.shape[0]
    layers = np.stack(
        [
            view.delta,
            view.gamma * (index * index)[:, None],
            view.vega,
            view.theta,
            view.short_strike_moneyness,
            view.days_to_expiry,
            view.unrealised_pnl,
            view.contracts,
            view.counter_contracts,
            view.is_open,
        ],
        axis=-1,
    ).astype(float)
    book = np.stack(
        [
            view.net_delta,
            view.net_gamma * index * index,
            view.net_vega,
            view.net_theta,
            view.margin_requirement / np.maximum(view.equity, 1.0),
            drawdown,
            view.equity - builder.capital,
        ],
        axis=-1,
    )
    observation = np.empty((n_envs, builder.size), dtype=np.float32)
    split = layers.shape[1] * layers.shape[2]
    np.multiply(layers.reshape(n_envs, -1), builder._layer_scale.reshape(-1), out=observation[:, :split])
    np.multiply(book, builder._book_scale, out=observation[:, split : split + 7])
    observation[:, split + 7 :] = market_row
    np.clip(observation, -builder.clip, builder.clip, out=observation)
    return observation


@pytest.mark.parametrize("seed", range(4))
def test_observation_kernel_equals_the_numpy_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_envs, n_layers, n_bars = 7, 5, 30
    builder = ObservationBuilder([12, 12, 4, 20, 0], CAPITAL, clip=5.0)
    aggregates = random_aggregates(rng, n_envs, n_layers)
    view = book_view(
        *aggregates[:4], aggregates.totals[:, 1], aggregates.totals[:, 0], aggregates.totals[:, 2], {}, {}
    )
    drawdown = np.abs(spiked(rng, (n_envs,), 0.1))
    index = 5000.0 * np.exp(rng.normal(0, 0.05, (n_envs, n_bars + 1)))
    market = spiked(rng, (n_envs, n_bars + 1, 12), 3.0).astype(np.float32)
    bars = rng.integers(0, n_bars + 1, n_envs)
    rows = np.arange(n_envs)

    observation = np.empty((n_envs, builder.size), dtype=np.float32)
    observe_all(tuple(aggregates), drawdown, (index, market, *builder.scales), bars, observation)
    expected = reference_observation(builder, view, drawdown, index[rows, bars], market[rows, bars])
    assert observation.dtype == np.float32 and observation.shape == expected.shape
    np.testing.assert_array_equal(observation, expected)
    assert np.array_equal(np.signbit(observation), np.signbit(expected))


def reference_step(
    config: RewardConfig, tracker: EpisodeTracker, result: SimpleNamespace, bars: np.ndarray, horizon: int
) -> tuple[np.ndarray, ...]:
    """What BatchedCore.step did with numpy: tracker update, reward, episode end, info."""
    ruin_equity = 0.5 * CAPITAL
    previous_equity = tracker.equity.copy()
    previous_max_drawdown = tracker.max_drawdown.copy()
    equity = np.asarray(result.equity, dtype=float)
    margin_use = np.asarray(result.margin_requirement, dtype=float) / np.maximum(equity, 1.0)
    gross = np.asarray(result.gross_contracts, dtype=float)
    tracker.update(
        equity,
        np.asarray(result.theta_accrued),
        gross,
        margin_use,
        margin_call=result.margin_call,
        blocked=result.blocked,
        adds_blocked=result.adds_blocked,
        rolls=result.rolls,
        assignments=result.assignments,
        counter_trades=result.counter_trades,
    )
    rewards = reward(
        config,
        equity - previous_equity,
        tracker.max_drawdown - previous_max_drawdown,
        result.theta_accrued,
        result.blocked,
        CAPITAL,
    )
    tracker.reward += rewards
    terminated = result.margin_call | (equity <= ruin_equity)
    truncated = (bars >= horizon) & ~terminated
    pnl = tracker.equity - tracker.start_equity
    by_name = {
        "equity": tracker.equity,
        "pnl": pnl,
        "theta_accrued": tracker.theta_accrued,
        "theta_capture": theta_capture(pnl, tracker.theta_accrued),
        "drawdown": tracker.drawdown,
        "max_drawdown": tracker.max_drawdown,
        "margin_use": margin_use,
        "gross_contracts": gross,
    }
    info = np.stack([by_name[name] for name in INFO_FIELDS[: kernels.N_INFO_ROWS]])  # the kernel's rows
    return margin_use, rewards, terminated, truncated, info


def random_result(rng: np.random.Generator, n_envs: int) -> SimpleNamespace:
    equity = CAPITAL + rng.normal(0, 2e5, n_envs)
    equity[rng.random(n_envs) < 0.1] = np.nan
    equity[0] = 0.25
    return SimpleNamespace(
        equity=equity,
        margin_call=rng.random(n_envs) < 0.1,
        margin_requirement=np.abs(rng.normal(0, 3e5, n_envs)),
        gross_contracts=rng.integers(0, 60, n_envs),
        theta_accrued=np.where(rng.random(n_envs) < 0.2, 0.0, rng.normal(300, 400, n_envs)),
        blocked=rng.integers(0, 3, n_envs),
        adds_blocked=rng.integers(0, 2, n_envs),
        rolls=rng.integers(0, 2, n_envs),
        assignments=rng.integers(0, 2, n_envs),
        counter_trades=rng.integers(0, 2, n_envs),
    )


@pytest.mark.parametrize(
    "config",
    [RewardConfig(), RewardConfig(scale=3.0, drawdown_penalty=2.5, theta_bonus=0.7, blocked_penalty=0.05)],
)
def test_step_measures_kernel_equals_tracker_reward_and_termination(config: RewardConfig) -> None:
    rng = np.random.default_rng(11)
    n_envs, horizon = 9, 5
    compiled, reference = (EpisodeTracker(n_envs, CAPITAL, bars_per_day=2) for _ in range(2))
    for tracker in (compiled, reference):
        tracker.reset(np.arange(n_envs), np.full(n_envs, CAPITAL), np.full(n_envs, 4.0))
    bars, reference_bars = np.zeros(n_envs, dtype=np.int64), np.zeros(n_envs, dtype=np.int64)
    parameters = kernels.step_parameters(config, CAPITAL, 0.5 * CAPITAL)
    for _ in range(horizon + 1):
        result = random_result(rng, n_envs)
        outputs = (
            np.empty(n_envs),
            np.empty(n_envs),
            np.empty(n_envs, dtype=bool),
            np.empty(n_envs, dtype=bool),
            np.empty((kernels.N_INFO_ROWS, n_envs)),
        )
        totals = np.zeros((n_envs, N_TOTALS))
        counts = np.zeros((n_envs, N_COUNTS), dtype=np.int64)
        totals[:, EQUITY] = result.equity
        totals[:, MARGIN_REQUIREMENT] = result.margin_requirement
        totals[:, GROSS_CONTRACTS] = result.gross_contracts
        totals[:, THETA_ACCRUED] = result.theta_accrued
        for column, name in zip(
            (BLOCKED, ADDS_BLOCKED, ROLLS, ASSIGNMENTS, COUNTER_TRADES, MARGIN_CALL),
            ("blocked", "adds_blocked", "rolls", "assignments", "counter_trades", "margin_call"),
            strict=True,
        ):
            counts[:, column] = getattr(result, name)
        book_outputs = (
            totals,
            np.zeros((n_envs, 1, 8)),
            np.zeros((n_envs, 1)),
            np.zeros((n_envs, 2), dtype=np.int64),
            counts,
        )
        latest = (outputs[0], np.empty(n_envs), np.empty(n_envs, dtype=np.int64))
        ended = step_measures(
            book_outputs,
            (compiled.values, compiled.count_values, compiled.margin_call, parameters),
            bars,
            horizon,
            latest,
            (*outputs[1:], np.empty((n_envs, 1), dtype=np.float32)),
        )
        reference_bars += 1
        expected = reference_step(config, reference, result, reference_bars, horizon)
        np.testing.assert_array_equal(bars, reference_bars)
        for got, want in zip(outputs, expected, strict=True):
            np.testing.assert_array_equal(got, want)
        assert ended == np.count_nonzero(expected[2] | expected[3])
        np.testing.assert_array_equal(compiled.values, reference.values)
        np.testing.assert_array_equal(compiled.count_values, reference.count_values)
        np.testing.assert_array_equal(compiled.margin_call, reference.margin_call)
        info = np.empty((kernels.N_INFO_ROWS, n_envs))
        info_all(compiled.values, outputs[0], expected[4][7], MIN_THETA_ACCRUED, info)
        np.testing.assert_array_equal(latest[1], result.gross_contracts)
        np.testing.assert_array_equal(latest[2], result.blocked)
        np.testing.assert_array_equal(info, expected[4])


def test_tracker_attributes_are_rows_of_its_state() -> None:
    tracker = EpisodeTracker(3, CAPITAL, bars_per_day=1)
    tracker.values[2] = 7.0
    tracker.count_values[3] = 2
    np.testing.assert_array_equal(tracker.equity, 7.0)
    np.testing.assert_array_equal(tracker.counts["rolls"], 2)
    np.testing.assert_array_equal(tracker.capital, CAPITAL)
