"""The env's compiled step (book, measures, aggregates and observation in one call) gives what the
book's own step and view give, and the observation the numpy formulas make of that view; it splits
over threads without changing a bit, and the step's ``last_result`` and ``view_before_reset`` are
snapshots that later steps and resets leave alone."""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pytest

from thetagym.book import Book, engine
from thetagym.env.vector import ShortPremiumVectorEnv

from .conftest import DEFAULT_CONFIG, ENV_CONFIGS, masked_random_actions
from .test_step_kernels import reference_observation

N_ENVS = 4


def _fields(record: object) -> dict[str, np.ndarray]:
    """Copies of the fields of a dataclass instance."""
    return {field.name: np.array(getattr(record, field.name)) for field in dataclasses.fields(record)}  # type: ignore[arg-type]


@pytest.mark.parametrize("config", [DEFAULT_CONFIG, ENV_CONFIGS[0]], ids=["default", ENV_CONFIGS[0].stem])
def test_env_step_equals_the_book_alone(config: object) -> None:
    envs = ShortPremiumVectorEnv(N_ENVS, config, episode_days=10)
    envs.reset(seed=21)
    core = envs.core
    assert core.market is not None
    alone = Book(core.book.config, N_ENVS)
    alone.reset(np.arange(N_ENVS), core.market, np.zeros(N_ENVS, dtype=np.int64))
    rng = np.random.default_rng(21)
    nvec = core.action_nvec
    for step in range(60):
        actions = masked_random_actions(rng, envs.action_masks(), nvec) * (
            rng.random((N_ENVS, len(nvec))) < 0.3
        )
        np.testing.assert_array_equal(alone.action_masks(core.market, core.bars), envs.action_masks())
        expected = alone.step(actions, core.market, core.bars)
        expected_view = alone.view()
        observation, _, terminated, truncated, info = envs.step(actions)
        if (terminated | truncated).any():  # the env started new paths: stop comparing
            break
        rows, bars = np.arange(N_ENVS), core.bars
        expected_observation = reference_observation(
            core.observations,
            expected_view,
            core.tracker.drawdown,
            core.market.index[rows, bars],
            core._market_table[rows, bars],
        )
        np.testing.assert_array_equal(observation, expected_observation, f"step {step}")
        for name, value in _fields(expected).items():
            np.testing.assert_array_equal(getattr(core.last_result, name), value, f"step {step}: {name}")
        for name, value in _fields(expected_view).items():
            np.testing.assert_array_equal(
                getattr(core.view_before_reset, name), value, f"step {step}: {name}"
            )
        np.testing.assert_array_equal(info["equity"], expected.equity)
        np.testing.assert_array_equal(info["gross_contracts"], expected.gross_contracts)
        np.testing.assert_array_equal(info["blocked"], expected.blocked)
    assert step >= 30, "episodes ended too early to compare"


def _rollout(envs: ShortPremiumVectorEnv, n_steps: int) -> list[np.ndarray]:
    """Observations, rewards, ends and per-step info of ``n_steps`` random steps (autoresets included)."""
    envs.reset(seed=5)
    rng = np.random.default_rng(5)
    nvec = envs.core.action_nvec
    shape = (envs.num_envs, len(nvec))
    out: list[np.ndarray] = []
    for _ in range(n_steps):
        actions = rng.integers(0, nvec, size=shape) * (rng.random(shape) < 0.2)
        observation, reward, terminated, truncated, info = envs.step(actions)
        out += [observation, reward, terminated, truncated]
        out += [np.asarray(info[key]) for key in sorted(info) if not key.startswith(("_", "final"))]
    return out


def test_parallel_env_step_equals_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "PARALLEL_MIN_ENVS", 10**6)
    serial = _rollout(ShortPremiumVectorEnv(40, DEFAULT_CONFIG, episode_days=2), 40)
    monkeypatch.setattr(engine, "PARALLEL_MIN_ENVS", 1)
    parallel_envs = ShortPremiumVectorEnv(40, DEFAULT_CONFIG, episode_days=2)
    assert parallel_envs.core.book.parallel_chunks() == min(numba.get_num_threads(), 40)
    parallel = _rollout(parallel_envs, 40)
    assert len(serial) == len(parallel)
    for one, other in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(one, other)


def test_last_result_and_view_before_reset_are_snapshots() -> None:
    envs = ShortPremiumVectorEnv(3, DEFAULT_CONFIG, episode_days=1)
    envs.reset(seed=2)
    core = envs.core
    assert core.last_result is None and core.view_before_reset is None
    hold = np.zeros((3, len(core.action_nvec)), dtype=np.int64)
    while True:
        _, _, terminated, truncated, info = envs.step(hold)
        result, view = core.last_result, core.view_before_reset
        assert result is not None and view is not None
        assert core.last_result is result  # built once per step
        kept = (_fields(result), _fields(view))
        if (terminated | truncated).any():
            break
    done = terminated | truncated
    final = info["final_info"]
    # The view shows the ended episodes' last bar, not the new episodes' first.
    np.testing.assert_array_equal(view.equity[done], final["equity"][done])
    np.testing.assert_array_equal(result.equity[done], final["equity"][done])
    assert not np.array_equal(view.equity[done], info["equity"][done])
    assert not view.quantity.flags.writeable
    envs.step(hold)
    envs.reset(seed=3)
    for before, record in zip(kept, (result, view), strict=True):
        for name, value in _fields(record).items():
            np.testing.assert_array_equal(value, before[name], name)


@pytest.mark.parametrize(("part", "value"), [(0, 8), (2, -1), (-1, 4)])
def test_an_action_out_of_range_is_refused_and_nothing_steps(part: int, value: int) -> None:
    envs = ShortPremiumVectorEnv(2, DEFAULT_CONFIG)
    envs.reset(seed=1)
    core = envs.core
    nvec = core.action_nvec
    actions = np.zeros((2, len(nvec)), dtype=np.int64)
    actions[1, part] = value
    bars, equity, marks = core.bars.copy(), core.book.equity(), core.book.marks.price.copy()
    expected = rf"action part {part % len(nvec)} of env 1 is {value}, outside 0\.\.{nvec[part] - 1}"
    with pytest.raises(ValueError, match=expected):
        envs.step(actions)
    np.testing.assert_array_equal(core.bars, bars)
    np.testing.assert_array_equal(core.book.equity(), equity)
    np.testing.assert_array_equal(core.book.marks.price, marks)
    with pytest.raises(ValueError, match=expected):
        core.book.step(actions, core.market, core.bars)  # the book alone refuses it too
    envs.step(np.zeros_like(actions))
    np.testing.assert_array_equal(core.bars, bars + 1)
