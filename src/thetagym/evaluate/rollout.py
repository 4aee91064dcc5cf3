"""Roll one policy through a batch of episodes in the vector env and record what happened.

Env ``i`` of the vector env is seeded with ``seeds[i]`` and runs exactly one episode; steps
after an env's episode ended (the env resets itself) are ignored. Per episode the result holds
the measures of :data:`thetagym.measures.SUMMARY_FIELDS` (from the env's episode summary), those
of :data:`thetagym.measures.DAILY_FIELDS` (from the episode's equity at each day's close, in
excess of the rate its cash earned that day; an episode that ended early, by a margin call, stays
in cash to the horizon), ``premium_sold``
(USD of option premium sold) and the per-layer P&L attribution totals
``attr_<layer>_<component>``; optionally, the per-bar trace
of env 0: a row per bar (bar 0, the previous close, carries day 0's date) with the market
(``index``, ``vix``), the book after the step (equity, drawdown, gross contracts, margin use,
net Greeks, per-layer contracts, counter contracts, days to expiry and short-strike moneyness),
the step's chosen and executed actions (``action_<part>``, ``executed_<part>``; -1 on bar 0),
blocked choices, rolls, assignments, counter-trades, and P&L by layer (``pnl_<layer>``) and by
layer and component (``pnl_<layer>_<component>``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thetagym.book import BookView, StepResult
from thetagym.book.attribution import ATTRIBUTION
from thetagym.env.config import EnvConfig, ReplayConfig, resolve_config
from thetagym.env.vector import ShortPremiumVectorEnv
from thetagym.evaluate.config import ScenarioSpec
from thetagym.market.history import load_shared_history
from thetagym.market.path import MarketPath
from thetagym.market.replay import HISTORICAL_EPISODES, load_history
from thetagym.measures import (
    SUMMARY_FIELDS,
    TARGET_VOLATILITY,
    calmar,
    daily_measures,
    premium_sold,
    theta_capture,
)
from thetagym.policies import Policy, PolicyContext
from thetagym.pricing.instruments import IS_OPTION, MULTIPLIER

BALANCER = "balancer"
"""Name of the action part after the layers', in traces and in the export's fidelity table."""
NO_ACTION = -1
"""Action columns of the trace's first row (bar 0, before any step)."""


@dataclass
class Rollout:
    """Episodes (a row each), the trace of env 0 (or None), index paths ``(episodes, bars + 1)``,
    equity at the start and at every day's close ``(episodes, days + 1)`` (an episode that ended
    early stays flat), and the ISO date of each of those closes on path 0 ``(days,)``."""

    episodes: pd.DataFrame
    trace: pd.DataFrame | None
    index_paths: np.ndarray
    daily_equity: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 1)))
    close_dates: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=str))
    cash_rate: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    """The rate the book's cash earned each day ``(episodes, days)`` (per year), for excess returns."""
    action_counts: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0, 0), dtype=np.int64))
    """Executed actions ``(episodes, parts, choices)``: how often each episode did each choice of each
    action part (layers in book order, then the balancer), HOLD included."""


def env_config(path: Path, scenario: ScenarioSpec, days: int | None = None) -> EnvConfig:
    """The env config at ``path`` set to ``scenario``, episodes ``days`` long: for a replay, from the
    window's first day and at most the window (all of it when ``days`` is None); for a simulated
    scenario, the env config's own length when ``days`` is None."""
    base = resolve_config(path, {})
    if scenario.scenario is not None:
        return resolve_config(
            base, {"scenario": scenario.scenario, "episode_days": days or base.episode_days}
        )
    assert scenario.replay is not None
    start, end = HISTORICAL_EPISODES.get(scenario.replay) or scenario.replay.split(":", 1)
    # Given files replay as given; without them, the shared data folder's (VIX3M and T-bill rate included).
    index_csv = str(scenario.index_csv) if scenario.index_csv else ""
    vix_csv = str(scenario.vix_csv) if scenario.vix_csv else ""
    given = index_csv and vix_csv
    dates = (load_history(index_csv, vix_csv) if given else load_shared_history()).dates
    first = max(1, int(np.searchsorted(dates, np.datetime64(start, "D"))))  # day 0 needs a previous close
    window = int(np.searchsorted(dates, np.datetime64(end, "D"), side="right")) - first
    # The path runs past the episode so that expiries exist; where the data ends first, the
    # episode ends that many days before the data does.
    room = base.path_days - base.episode_days
    available = len(dates) - first - room
    sized = resolve_config(base, {"episode_days": max(1, min(days or window, window, available))})
    last = min(first + sized.path_days, len(dates)) - 1  # the only window of path_days starting on ``first``
    replay = ReplayConfig(index_csv=index_csv, vix_csv=vix_csv, start=str(dates[first]), end=str(dates[last]))
    return dataclasses.replace(sized, replay=replay)


def rollout(
    policy: Policy,
    config: EnvConfig,
    seeds: tuple[int, ...],
    trace: bool = False,
    target_volatility: float = TARGET_VOLATILITY,
) -> Rollout:
    """Run ``policy`` for one episode in each of ``len(seeds)`` envs of ``config`` seeded with
    ``seeds``; risk-matched measures scale to ``target_volatility`` (annual fraction). With
    ``trace``, every bar of env 0 is recorded in :attr:`Rollout.trace`."""
    envs = ShortPremiumVectorEnv(len(seeds), config)
    core = envs.core
    layers = [layer.name for layer in config.book.layers]
    kinds = [layer.kind for layer in config.book.layers]
    observation, info = envs.reset(seed=list(seeds))
    market = core.market
    assert market is not None
    bars = config.horizon + 1
    index_paths = market.index[:, :bars].copy()
    cash_rate = market.daily_rate()[:, : config.episode_days].copy()  # what the cash earns each day
    first_path = {
        "index": index_paths[0],
        "vix": market.vix[0, :bars].copy(),
        "date": _bar_dates(market, bars),
    }
    policy.reset(np.arange(len(seeds)))
    active = np.ones(len(seeds), dtype=bool)
    attribution = np.zeros((len(seeds), len(layers), len(ATTRIBUTION)))
    nvec = core.action_nvec
    action_counts = np.zeros((len(seeds), len(nvec), int(nvec.max())), dtype=np.int64)
    summary: dict[str, np.ndarray] = {}
    rows = [_trace_row(0, info, core.book.view(), None, None, layers)]
    previous_info: dict[str, Any] = {}
    equity = np.full((len(seeds), config.horizon + 1), np.nan)
    opened = core.book.view()
    equity[:, 0] = opened.equity
    quantity, strike, expiry, entry = _legs(opened)
    nothing = (np.zeros_like(quantity), strike, expiry, entry)
    option_multiplier = _option_multiplier(opened.kind)
    sold = premium_sold(nothing, _legs(opened), option_multiplier)  # what the reset opened
    step = 0
    while active.any():
        view = core.book.view()
        legs_before = _legs(view)
        context = PolicyContext(view, envs.observation_names, layers, kinds, previous_info)
        actions = np.asarray(policy.act(observation, envs.action_masks(), context))
        observation, _, terminated, truncated, info = envs.step(actions)
        # The core keeps the step's book result and the book before it reset the ended envs.
        result, view_after = core.last_result, core.view_before_reset
        assert result is not None and view_after is not None
        step += 1
        attribution[active] += np.asarray(result.attribution)[active]
        recorded = np.flatnonzero(active)
        for part in range(len(nvec)):
            np.add.at(action_counts[:, part], (recorded, np.asarray(result.executed)[recorded, part]), 1)
        equity[active, step] = np.asarray(result.equity)[active]
        sold[active] += premium_sold(legs_before, _legs(view_after), option_multiplier)[active]
        ended = terminated | truncated
        if trace and active[0]:
            step_info = info["final_info"] if ended[0] else info
            rows.append(_trace_row(len(rows), step_info, view_after, result, actions, layers))
        if ended.any():
            final = info["final_info"]["summary"]
            for name in SUMMARY_FIELDS:
                values = np.asarray(final[name])
                summary.setdefault(name, np.zeros(len(seeds), dtype=values.dtype))[ended & active] = values[
                    ended & active
                ]
            active &= ~ended
            if active.any():  # the envs that ended go on with new episodes, which are not recorded
                policy.reset(np.flatnonzero(ended))
        previous_info = info
    closes = _daily_closes(equity, config.bars_per_day)
    daily = daily_measures(closes, core.book.config.capital, cash_rate, target_volatility)
    days = summary["steps"] / config.bars_per_day
    summary["calmar"] = calmar(summary["annualised_return"], summary["max_drawdown"], days)
    summary.update(daily, premium_sold=sold)
    summary["theta_capture"] = theta_capture(daily["excess_pnl"], summary["theta_accrued"])
    episodes = _episode_table(seeds, index_paths, summary, attribution, layers)
    trace_table = (
        pd.DataFrame(rows).assign(**{k: v[: len(rows)] for k, v in first_path.items()}) if trace else None
    )
    close_dates = first_path["date"][:: config.bars_per_day][1:]
    return Rollout(
        episodes, _ordered(trace_table), index_paths, closes, close_dates, cash_rate, action_counts
    )


def _legs(view: BookView) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Copies of the view's leg arrays that :func:`thetagym.measures.premium_sold` compares."""
    return (
        view.quantity.copy(),
        view.strike.copy(),
        view.expiry_bar.copy(),
        view.entry_price.copy(),
    )


def _option_multiplier(kind: np.ndarray) -> np.ndarray:
    """USD per point of each leg slot of kind ``kind`` (-1: unused) that holds options, else 0."""
    used = kind >= 0
    known = np.where(used, kind, 0)
    return np.where(used & IS_OPTION[known], MULTIPLIER[known], 0.0)


def _daily_closes(equity: np.ndarray, bars_per_day: int) -> np.ndarray:
    """Equity at each day's close ``(episodes, days + 1)`` from equity at every bar ``(episodes,
    bars + 1)``; bars after an episode ended early (NaN) hold its last equity, flat in cash."""
    filled = pd.DataFrame(equity.T).ffill().to_numpy().T
    return np.asarray(filled[:, ::bars_per_day])


def _bar_dates(market: MarketPath, bars: int) -> np.ndarray:
    """ISO date of each bar ``0 .. bars - 1`` of path 0 (bar 0 is the close before day 0)."""
    days = market.day_of_bar(np.arange(bars))
    return np.asarray(market.dates[0, days].astype(str))


def _trace_row(
    bar: int,
    info: dict[str, Any],
    view: BookView,
    result: StepResult | None,
    actions: np.ndarray | None,
    layers: list[str],
) -> dict[str, Any]:
    """One bar of env 0: book state after the step, the step's actions, P&L by layer and component."""
    row: dict[str, Any] = {"bar": bar}
    row.update(
        {key: _item(info[key]) for key in ("equity", "drawdown", "gross_contracts", "margin_use", "blocked")}
    )
    row.update(
        {name: float(getattr(view, name)[0]) for name in ("net_delta", "net_gamma", "net_vega", "net_theta")}
    )
    for j, layer in enumerate(layers):
        row[f"contracts_{layer}"] = int(view.contracts[0, j])
        row[f"counter_{layer}"] = int(view.counter_contracts[0, j])
        row[f"days_to_expiry_{layer}"] = float(view.days_to_expiry[0, j])
        row[f"moneyness_{layer}"] = float(view.short_strike_moneyness[0, j])
    parts = [*layers, BALANCER]
    chosen = actions[0] if actions is not None else np.full(len(parts), NO_ACTION)
    done = np.asarray(result.executed)[0] if result is not None else np.full(len(parts), NO_ACTION)
    row.update({f"action_{p}": int(a) for p, a in zip(parts, chosen, strict=True)})
    row.update({f"executed_{p}": int(a) for p, a in zip(parts, done, strict=True)})
    for name in ("rolls", "assignments", "counter_trades"):
        row[name] = int(np.asarray(getattr(result, name))[0]) if result is not None else 0
    pnl = (
        np.asarray(result.attribution)[0] if result is not None else np.zeros((len(layers), len(ATTRIBUTION)))
    )
    for j, layer in enumerate(layers):
        row[f"pnl_{layer}"] = float(pnl[j].sum())
        row.update({f"pnl_{layer}_{c}": float(pnl[j, k]) for k, c in enumerate(ATTRIBUTION)})
    return row


def _item(values: Any) -> float | int:
    value = np.asarray(values)[0]
    return int(value) if np.issubdtype(value.dtype, np.integer) else float(value)


def _ordered(trace: pd.DataFrame | None) -> pd.DataFrame | None:
    """Trace columns with the market (bar, date, index, vix) first."""
    if trace is None:
        return None
    first = ["bar", "date", "index", "vix"]
    return trace[first + [c for c in trace.columns if c not in first]]


def path_digest(index_path: np.ndarray) -> str:
    """A short fingerprint of an index path: equal paths, equal digests."""
    return hashlib.sha1(np.ascontiguousarray(index_path, dtype=np.float64).tobytes()).hexdigest()[:16]


def _episode_table(
    seeds: tuple[int, ...],
    index_paths: np.ndarray,
    summary: dict[str, np.ndarray],
    attribution: np.ndarray,
    layers: list[str],
) -> pd.DataFrame:
    table: dict[str, Any] = {
        "episode": np.arange(len(seeds)),
        "seed": np.asarray(seeds, dtype=np.int64),
        "path": [path_digest(p) for p in index_paths],
    }
    table.update(summary)
    for j, layer in enumerate(layers):
        table.update({f"attr_{layer}_{c}": attribution[:, j, k] for k, c in enumerate(ATTRIBUTION)})
    return pd.DataFrame(table)
