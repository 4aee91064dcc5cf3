"""Random and masked actions over every env config in ``configs/env`` and every scenario.

At every step of every env: the numbers are finite; the book equals cash plus its marks; the
attribution adds up to the P&L; with the guard on, no layer and no book is over its cap, and while
the book is out of delta balance no short option of the opposite wing is added (guard rule 3);
a masked agent is never blocked, and an unmasked one's illegal choices (by the masks) are exactly
what is blocked and replaced by HOLD, its legal ones executed as chosen. The env itself, stepped
with the same kinds of actions, returns finite rewards and observations within their bounds.

``THETAGYM_FUZZ_STEPS`` sets the number of book steps (env-steps over all runs; default 24,576,
about 30 s on two cores); ``THETAGYM_FUZZ_STEPS=1000000`` is the long run. A replay config's book
runs on the simulated scenarios.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pytest

from thetagym.book import Book
from thetagym.env.config import EnvConfig, load_env_config
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.market.scenarios import ScenarioBook
from thetagym.market.simulator import simulate
from thetagym.pricing.instruments import IS_CALL, IS_OPTION

ROOT = Path(__file__).resolve().parents[1]
ENV_CONFIGS = sorted((ROOT / "configs" / "env").glob("*.yaml"))
SCENARIOS = ScenarioBook.builtin().names
ENVS = 4
"""Envs (paths) per run."""
TOTAL_STEPS = int(os.environ.get("THETAGYM_FUZZ_STEPS", "24576"))
BARS = max(8, math.ceil(TOTAL_STEPS / (len(ENV_CONFIGS) * len(SCENARIOS) * 2 * ENVS)))
"""Bars per run: the total spread over configs, scenarios, masked and unmasked runs."""


def _pick(masks: np.ndarray, nvec: np.ndarray, rng: np.random.Generator, masked: bool) -> np.ndarray:
    """One choice per action part: uniform among the legal ones (``masked``), else among all."""
    if not masked:
        return rng.integers(0, nvec, size=(len(masks), nvec.size))
    parts = np.split(masks * rng.random(masks.shape), np.cumsum(nvec)[:-1], axis=1)
    return np.stack([part.argmax(axis=1) for part in parts], axis=1)


def _short_options(book: Book, calls: bool) -> np.ndarray:
    """Short call (or put) option contracts per env and layer, ``(num_envs, n_layers)``."""
    view = book.view()
    wanted = IS_OPTION[view.kind] & (IS_CALL[view.kind] == calls) & (view.quantity < 0)
    short = np.where(wanted, -view.quantity, 0.0)[:, : book.layout.layer.size]
    return short @ book.layout.layer_onehot


@pytest.mark.parametrize("masked", [True, False], ids=["masked", "random"])
@pytest.mark.parametrize("path", ENV_CONFIGS, ids=[p.stem for p in ENV_CONFIGS])
def test_book_invariants_hold_under_random_actions(path: Path, masked: bool) -> None:
    env_config = load_env_config(path)
    config = env_config.book
    guard = config.guard
    caps = np.array([layer.max_contracts for layer in config.layers])
    sells_calls = np.array([layer.kind in ("call_wing", "condor") for layer in config.layers])
    sells_puts = np.array([layer.kind in ("put_wing", "condor") for layer in config.layers])
    band = guard.delta_band * guard.delta_budget
    days = dataclasses.replace(env_config, episode_days=BARS // env_config.bars_per_day + 2).path_days
    out_of_balance = 0
    for number, scenario in enumerate(SCENARIOS):
        rng = np.random.default_rng([number, masked])
        market = simulate(env_config.market, scenario, days, seeds=np.arange(ENVS) + 100 * number)
        book = Book(config, ENVS)
        book.reset(np.arange(ENVS), market, np.zeros(ENVS, dtype=np.int64))
        offsets = np.r_[0, np.cumsum(book.action_nvec)[:-1]]
        for bar in range(BARS):
            bars = np.full(ENVS, bar)
            masks = book.action_masks(market, bars)
            actions = _pick(masks, book.action_nvec, rng, masked)
            net_delta = book.view().net_delta
            calls_before, puts_before = _short_options(book, True), _short_options(book, False)
            result = book.step(actions, market, bars)
            where = f"{path.name}, {scenario}, bar {bar}"
            for name in ("equity", "cash", "pnl", "attribution", "margin_requirement", "theta_accrued"):
                assert np.all(np.isfinite(getattr(result, name))), f"{where}: {name}"
            np.testing.assert_allclose(
                result.attribution.sum(axis=(1, 2)), result.pnl, atol=1e-6, err_msg=where
            )
            marks = (book.quantity * book.marks.price) @ book.layout.multiplier
            np.testing.assert_allclose(result.equity, book.cash + marks, rtol=1e-12, err_msg=where)
            legal = np.take_along_axis(masks, actions + offsets, axis=1)
            np.testing.assert_array_equal(result.blocked, (~legal).sum(axis=1), err_msg=where)
            np.testing.assert_array_equal(result.executed, np.where(legal, actions, 0), err_msg=where)
            if masked:
                assert not result.blocked.any(), where
            if not guard.enabled:
                continue
            assert np.all(result.layer_contracts <= caps), where
            assert np.all(result.gross_contracts <= guard.book_max_contracts), where
            long_delta, short_delta = (net_delta > band)[:, None], (net_delta < -band)[:, None]
            out_of_balance += int(long_delta.sum() + short_delta.sum())
            added_calls = (_short_options(book, True) > calls_before + 1e-9) & sells_calls & long_delta
            added_puts = (_short_options(book, False) > puts_before + 1e-9) & sells_puts & short_delta
            assert not added_calls.any() and not added_puts.any(), f"{where}: rule 3"
    if guard.enabled and (sells_calls.any() or sells_puts.any()):
        assert out_of_balance > 0, "rule 3 was never put to the test"


@pytest.mark.parametrize("path", ENV_CONFIGS, ids=[p.stem for p in ENV_CONFIGS])
def test_env_steps_are_finite_and_bounded(path: Path) -> None:
    config: EnvConfig = load_env_config(path)
    for number, scenario in enumerate(SCENARIOS):  # simulated paths, also for a replay config
        envs = ShortPremiumVectorEnv(4, config, episode_days=3, scenario=scenario, replay=None)
        rng = np.random.default_rng(number)
        observation, _ = envs.reset(seed=200 + number)
        nvec = envs.single_action_space.nvec
        clip = config.observation_clip
        for step in range(3 * config.bars_per_day + 2):  # crosses an episode end (autoreset)
            actions = _pick(envs.action_masks(), nvec, rng, masked=step % 2 == 0)
            observation, reward, _, _, info = envs.step(actions)
            where = f"{path.name}, {scenario}, step {step}"
            assert np.all(np.isfinite(observation)) and np.all(np.abs(observation) <= clip), where
            assert np.all(np.isfinite(reward)), where
            for key in ("equity", "pnl", "margin_use", "gross_contracts", "drawdown"):
                assert np.all(np.isfinite(info[key])), f"{where}: {key}"
        envs.close()
