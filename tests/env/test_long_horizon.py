"""Episodes of one and five years (252 and 1,260 trading days) run by rule agents to the horizon.

The expiry calendars keep producing weekly, monthly and quarterly expiries to the last year, layers
re-open after their options expire, ES futures roll on every quarterly expiry of the calendar at a
price that moves only by the carry between the two contracts, assignment into futures still works
in the last year, a margin call still ends a five-year episode, every value stays finite, the P&L
attribution adds up to the P&L at every step, and a five-year episode replays bit for bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from thetagym.book.attribution import ATTRIBUTION
from thetagym.book.positions import SlotLayout
from thetagym.env.config import EnvConfig, resolve_config
from thetagym.env.core import PathSource
from thetagym.env.observation import observation_names
from thetagym.env.paths import path_source
from thetagym.env.registration import ENV_ID
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR, ExpiryCalendar, trading_days
from thetagym.market.path import EXPIRY_SCHEDULES, MarketPath
from thetagym.policies import PolicyContext
from thetagym.policies.rules import load_rule_agent
from thetagym.pricing.instruments import InstrumentKind

from .conftest import DEFAULT_CONFIG, ROOT

ONE_YEAR = TRADING_DAYS_PER_YEAR
FIVE_YEARS = 5 * TRADING_DAYS_PER_YEAR
COSTS = ATTRIBUTION.index("costs")
OPTION_LAYERS = ("call_wing", "put_wing", "condor")
"""Layers of ES options, whose assigned futures go to the layer's extra slot."""
RULES = ROOT / "configs" / "rules"
CONDOR_CONFIG = ROOT / "configs" / "env" / "alvh_condor_ladder.yaml"


@dataclass
class Episode:
    """One episode of a single env, a row per step: after step ``k`` the book is marked at bar
    ``bars[k]``. Leg arrays are ``(steps, n_slots)``; ``price`` is the slots' marks."""

    config: EnvConfig
    market: MarketPath
    layout: SlotLayout
    bars: np.ndarray
    observation: np.ndarray
    reward: np.ndarray
    info: np.ndarray
    """Per step, the info's equity, pnl, theta_accrued, drawdown, margin_use."""
    equity: np.ndarray
    pnl: np.ndarray
    attribution: np.ndarray
    greeks: np.ndarray
    """Per step, the layers' delta, gamma, vega, theta and unrealised P&L, then the net Greeks."""
    margin_requirement: np.ndarray
    margin_call: np.ndarray
    gross: np.ndarray
    executed: np.ndarray
    assignments: np.ndarray
    quantity: np.ndarray
    expiry_bar: np.ndarray
    price: np.ndarray
    terminated: bool
    truncated: bool
    summary: dict[str, Any]

    @property
    def bars_per_day(self) -> int:
        return self.market.bars_per_day

    @property
    def days(self) -> int:
        return self.config.episode_days

    def calendar(self) -> ExpiryCalendar:
        return ExpiryCalendar.from_dates(self.market.dates[0])

    def close_bar(self, day: np.ndarray | int) -> np.ndarray:
        return (np.asarray(day) + 1) * self.bars_per_day

    def last_year(self, bars: np.ndarray) -> np.ndarray:
        """Which of ``bars`` lie in the episode's last 252 trading days."""
        return (bars > (self.days - ONE_YEAR) * self.bars_per_day) & (bars <= self.config.horizon)

    def layer_slot(self, kind: str) -> int:
        """The first structure slot of the book's first layer of ``kind``."""
        kinds: list[str] = [layer.kind for layer in self.config.book.layers]
        layer = kinds.index(kind)
        return int(np.flatnonzero((self.layout.layer == layer) & self.layout.is_structure)[0])


def run(
    agent: str,
    days: int,
    scenario: str,
    seed: int,
    config: EnvConfig | Path = DEFAULT_CONFIG,
    paths: Any = None,
    **overrides: Any,
) -> Episode:
    """Run the rule agent ``agent`` for one episode of ``days`` trading days in a single env made
    by ``gym.make``; ``paths`` (optional) wraps the env's path source."""
    env = gym.make(ENV_ID, config=config, scenario=scenario, episode_days=days, **overrides)
    base: Any = env.unwrapped
    core = base.core
    if paths is not None:
        core.paths = paths(core.paths)
    book_config = base.config.book
    policy = load_rule_agent(RULES / f"{agent}.yaml", book_config)
    names = [layer.name for layer in book_config.layers]
    kinds = [layer.kind for layer in book_config.layers]
    observation, _ = env.reset(seed=seed)
    policy.reset(np.arange(1))
    book, n_slots = core.book, core.book.layout.n_slots
    rows: dict[str, list[Any]] = {}

    def keep(**values: Any) -> None:
        for key, value in values.items():
            rows.setdefault(key, []).append(np.array(value))

    terminated = truncated = False
    info: dict[str, Any] = {}
    while not (terminated or truncated):
        context = PolicyContext(book.view(), base.observation_names, names, kinds, {})
        actions = np.asarray(policy.act(observation[None], base.action_masks()[None], context))
        observation, reward, terminated, truncated, info = env.step(actions[0])
        result, view = core.last_result, book.view()
        greeks = [getattr(view, name)[0] for name in ("delta", "gamma", "vega", "theta", "unrealised_pnl")]
        net = [getattr(view, name)[0] for name in ("net_delta", "net_gamma", "net_vega", "net_theta")]
        keep(
            bars=core.bars[0],
            observation=observation,
            reward=reward,
            info=[info[key] for key in ("equity", "pnl", "theta_accrued", "drawdown", "margin_use")],
            equity=result.equity[0],
            pnl=result.pnl[0],
            attribution=result.attribution[0],
            greeks=np.concatenate([*greeks, net]),
            margin_requirement=result.margin_requirement[0],
            margin_call=result.margin_call[0],
            gross=result.gross_contracts[0],
            executed=result.executed[0],
            assignments=result.assignments[0],
            quantity=book.quantity[0, :n_slots],
            expiry_bar=book.expiry_bar[0, :n_slots],
            price=book.marks.price[0, :n_slots],
        )
    market = core.market
    assert market is not None
    return Episode(
        config=base.config,
        market=market,
        layout=book.layout,
        terminated=bool(terminated),
        truncated=bool(truncated),
        summary=info["summary"],
        **{key: np.stack(values) for key, values in rows.items()},
    )


# ------------------------------------------------------------------------------------ checks
def check_horizon_and_dates(episode: Episode) -> None:
    """The episode truncates at the horizon, one step a bar, and its bars walk the trading days."""
    config, market, bpd = episode.config, episode.market, episode.bars_per_day
    assert episode.truncated and not episode.terminated
    assert episode.summary["steps"] == config.horizon == episode.days * bpd
    np.testing.assert_array_equal(episode.bars, np.arange(1, config.horizon + 1))
    np.testing.assert_array_equal(market.dates[0], trading_days(config.market.start_date, config.path_days))
    days = market.day_of_bar(episode.bars)
    assert np.all(np.diff(days) >= 0) and np.all(np.bincount(days) == bpd)
    dates = market.dates[0, days]
    assert len(np.unique(dates)) == episode.days
    assert dates[-1] == trading_days(config.market.start_date, episode.days)[-1]
    assert np.all(np.is_busday(dates))
    # The observation's expiry cycle: the next weekly expiry is at most 5 days, the next monthly
    # at most 5 weeks away, to the last bar (never the "no expiry" default of a path's end).
    names = observation_names(config)
    weekly = episode.observation[:, names.index("market.days_to_weekly")] * 5.0
    monthly = episode.observation[:, names.index("market.days_to_monthly")] * 21.0
    assert np.all((weekly > 0.0) & (weekly <= 5.0 + 1e-5)) and np.all(
        (monthly > 0.0) & (monthly <= 25.0 + 1e-5)
    )


def check_finite(episode: Episode) -> None:
    """Observations, rewards, info, equity, attribution, Greeks and margin are finite every step."""
    clip = episode.config.observation_clip
    assert np.all(np.isfinite(episode.observation)) and np.all(np.abs(episode.observation) <= clip)
    for name in ("reward", "info", "equity", "pnl", "attribution", "greeks", "margin_requirement", "price"):
        assert np.all(np.isfinite(getattr(episode, name))), name
    assert np.all(episode.margin_requirement >= 0.0)
    assert np.all(episode.margin_requirement[episode.gross > 0] > 0.0), "margin is computed for a held book"
    assert not episode.margin_call.any()


def check_attribution(episode: Episode) -> None:
    """Every step's attribution adds up to its P&L, and the P&L adds up to the equity's change."""
    total = episode.attribution.sum(axis=(1, 2))
    np.testing.assert_allclose(total, episode.pnl, rtol=1e-9, atol=1e-6)
    start = episode.equity[0] - episode.pnl[0]
    np.testing.assert_allclose(start + np.cumsum(episode.pnl), episode.equity, rtol=1e-9)


def option_expiries(episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    """(step, slot) of every option leg that was held into its expiry bar and settled there (its
    layer held at that step, so neither rolled nor closed it)."""
    layout = episode.layout
    held = (episode.quantity[:-1] != 0.0) & layout.is_option
    expiring = episode.expiry_bar[:-1] == episode.bars[1:, None]
    holding = episode.executed[1:, layout.layer] == 0
    step, slot = np.nonzero(held & expiring & holding)
    return step + 1, slot


def check_option_expiries(episode: Episode) -> None:
    """Options are held only before their expiry, which is a day of their schedule's calendar; every
    schedule the book trades has expiries in the last year, and layers re-open after them."""
    calendar = episode.calendar()
    layout, bars = episode.layout, episode.bars
    held = (episode.quantity != 0.0) & layout.is_option
    assert np.all(episode.expiry_bar[held] > np.broadcast_to(bars[:, None], held.shape)[held]), (
        "held past expiry"
    )
    for option in np.flatnonzero(layout.is_option):
        schedule = EXPIRY_SCHEDULES[layout.schedule[option]]
        expiries = np.unique(episode.expiry_bar[held[:, option], option])
        assert np.isin(expiries, episode.close_bar(getattr(calendar, schedule))).all(), (option, schedule)
    step, slot = option_expiries(episode)
    late = episode.last_year(bars[step])
    traded = {EXPIRY_SCHEDULES[s] for s in layout.schedule[np.flatnonzero(held.any(axis=0))]}
    expired = {EXPIRY_SCHEDULES[s] for s in layout.schedule[slot[late]]}
    assert expired == traded, f"schedules with expiries in the last year: {expired}, traded: {traded}"
    reopened = [held[k + 1 :, s].any() for k, s in zip(step[late], slot[late], strict=True)]
    assert any(reopened), "no layer re-opened after an expiry in the last year"


def futures_rolls(episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    """(step, slot) of every ES futures roll: a slot held before and after a step that changed its
    contract's expiry, other than an assigned-futures slot receiving an assignment (which moves
    what it holds to the front contract)."""
    layout = episode.layout
    held = episode.quantity != 0.0
    changed = episode.expiry_bar[1:] != episode.expiry_bar[:-1]
    futures = layout.kind == InstrumentKind.ES_FUTURE
    options = [k for k, layer in enumerate(episode.config.book.layers) if layer.kind in OPTION_LAYERS]
    assigned = np.isin(np.arange(layout.n_slots), layout.extra_slot[options])
    receiving = assigned & (episode.assignments[1:, None] > 0)
    step, slot = np.nonzero(held[1:] & held[:-1] & changed & futures & ~receiving)
    return step + 1, slot


def check_futures(episode: Episode, every_quarter: bool) -> None:
    """Held ES futures are never inside their roll window; futures roll at the close
    ``futures_roll_days`` before a quarterly expiry of the calendar into the next quarter (the
    futures layer at every one of them when ``every_quarter``), and a roll moves the price only by
    the carry between the two contracts and costs only its bid/ask and fees."""
    book, market = episode.config.book, episode.market
    futures = episode.layout.kind == InstrumentKind.ES_FUTURE
    held = (episode.quantity != 0.0) & futures
    window = book.futures_roll_days * episode.bars_per_day
    assert np.all((episode.expiry_bar - episode.bars[:, None])[held] > window), (
        "a future inside its roll window"
    )
    quarterly = episode.calendar().quarterly
    due = quarterly[
        (quarterly > book.futures_roll_days) & (quarterly - book.futures_roll_days < episode.days)
    ]
    roll_bars = episode.close_bar(due - book.futures_roll_days)
    step, slot = futures_rolls(episode)
    assert step.size > 0, "no futures roll"
    assert np.isin(episode.bars[step], roll_bars).all(), f"rolls off the calendar: {episode.bars[step]}"
    if every_quarter:
        layer_slot = episode.layer_slot("futures")
        np.testing.assert_array_equal(episode.bars[step[slot == layer_slot]], roll_bars)
    old, new = episode.expiry_bar[step - 1, slot], episode.expiry_bar[step, slot]
    for old_bar, new_bar in zip(old, new, strict=True):
        later = quarterly[quarterly > market.day_of_bar(old_bar)]
        if later.size:  # the next quarter lies within the path
            assert new_bar == episode.close_bar(later[0])
        else:
            assert new_bar > episode.config.horizon
    bars = episode.bars[step]
    index = market.index[0]
    price_move = np.log(episode.price[step, slot] / episode.price[step - 1, slot])
    carry_gap = price_move - np.log(index[bars] / index[bars - 1])
    assert np.all(np.abs(carry_gap) <= market.carry * 80 / TRADING_DAYS_PER_YEAR)
    for k in np.unique(step[(episode.executed[step] == 0).all(axis=1)]):  # steps with no other trade
        for layer in np.unique(episode.layout.layer[slot[step == k]]):
            rolled = slot[(step == k) & (episode.layout.layer[slot] == layer)]
            costs = episode.attribution[k, layer, COSTS]
            assert -100.0 * np.abs(episode.quantity[k, rolled]).sum() <= costs < 0.0


def check_late_assignment(episode: Episode) -> None:
    """Wings expiring in the money in the last year are assigned into the front ES future, in
    their layer's assigned-futures slot."""
    late = np.flatnonzero(episode.last_year(episode.bars) & (episode.assignments > 0))
    assert late.size > 0, "no assignment in the last year"
    quarterly = episode.close_bar(episode.calendar().quarterly)
    layout = episode.layout
    for step in late:
        expiring = layout.is_option & (episode.quantity[step - 1] != 0.0)
        expiring &= episode.expiry_bar[step - 1] <= episode.bars[step]
        layers = np.unique(layout.layer[expiring])
        assigned = layout.extra_slot[layers]
        received = episode.quantity[step, assigned] != episode.quantity[step - 1, assigned]
        assert received.any(), f"assignment at bar {episode.bars[step]} left no futures"
        expiry = episode.expiry_bar[step, assigned[received]]
        assert np.all(np.isin(expiry, quarterly) | (expiry > episode.config.horizon))


EPISODES = [
    pytest.param("hold_to_expiry", ONE_YEAR, "calm", 0, DEFAULT_CONFIG, id="hold_to_expiry-252-calm"),
    pytest.param("dynamic_exposure", ONE_YEAR, "crash", 1, DEFAULT_CONFIG, id="dynamic_exposure-252-crash"),
    pytest.param("hold_to_expiry", FIVE_YEARS, "crash", 0, DEFAULT_CONFIG, id="hold_to_expiry-1260-crash"),
    pytest.param(
        "dynamic_exposure", FIVE_YEARS, "calm-to-stressed", 3, DEFAULT_CONFIG, id="dynamic_exposure-1260-mix"
    ),
    pytest.param("alvh", FIVE_YEARS, "calm", 2, CONDOR_CONFIG, id="alvh-1260-calm"),
]


@pytest.mark.parametrize(("agent", "days", "scenario", "seed", "config"), EPISODES)
def test_episode_runs_to_the_horizon(agent: str, days: int, scenario: str, seed: int, config: Path) -> None:
    episode = run(agent, days, scenario, seed, config)
    check_horizon_and_dates(episode)
    check_finite(episode)
    check_attribution(episode)
    check_option_expiries(episode)
    check_futures(episode, every_quarter=agent == "hold_to_expiry")
    if agent == "hold_to_expiry" and days == FIVE_YEARS:
        check_late_assignment(episode)


def gap_down(day: int, factor: float) -> Any:
    """A path-source wrapper: the index falls to ``factor`` of itself at the first bar of ``day``."""

    def wrap(paths: PathSource) -> PathSource:
        def crashed(seeds: np.ndarray) -> MarketPath:
            path = paths(seeds)
            path.index[:, day * path.bars_per_day + 1 :] *= factor
            return path

        return crashed

    return wrap


def test_margin_call_ends_a_five_year_episode_in_its_last_year() -> None:
    """A -60% gap in year five liquidates the book at that bar and ends the episode (-50% did
    before the cash earned interest; five years of it at 4% keep a 200,000 USD book solvent)."""
    config = resolve_config(DEFAULT_CONFIG, {})
    config = dataclasses.replace(config, book=dataclasses.replace(config.book, capital=200_000.0))
    day = FIVE_YEARS - 60
    episode = run("hold_to_expiry", FIVE_YEARS, "calm", 0, config, gap_down(day, 0.4), ruin_fraction=0.0)
    crash_bar = day * episode.bars_per_day + 1
    assert episode.terminated and not episode.truncated
    assert episode.bars[-1] == crash_bar and episode.summary["margin_call"]
    assert episode.margin_call[-1] and not episode.margin_call[:-1].any()
    assert episode.gross[-1] == 0.0 and np.all(episode.quantity[-1] == 0.0)
    before = episode.margin_requirement[:-1]
    assert np.all(np.isfinite(before)) and np.all(before[episode.gross[:-1] > 0] > 0.0)
    assert episode.equity[-2] > before[-1]  # solvent the bar before
    check_attribution(episode)


def test_five_year_episode_is_deterministic() -> None:
    """The same seed replays a five-year episode bit for bit."""
    first = run("dynamic_exposure", FIVE_YEARS, "calm-to-stressed", 5)
    second = run("dynamic_exposure", FIVE_YEARS, "calm-to-stressed", 5)
    assert first.summary == second.summary
    for field in dataclasses.fields(Episode):
        a, b = getattr(first, field.name), getattr(second, field.name)
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape and a.tobytes() == b.tobytes(), field.name
    np.testing.assert_array_equal(first.market.index, second.market.index)


@pytest.mark.parametrize("days", [ONE_YEAR, FIVE_YEARS])
def test_expiry_calendars_cover_every_year(days: int) -> None:
    """Every trading day of the episode has a weekly and a monthly expiry ahead within the path;
    each 252-day year holds about 50 weekly, 12 monthly and 4 quarterly expiries, on Fridays."""
    config = resolve_config(DEFAULT_CONFIG, {"episode_days": days, "scenario": "calm"})
    path = path_source(config)(np.array([0]))
    assert path.n_days == config.path_days and path.n_bars > config.horizon
    for schedule in ("weekly", "monthly"):
        ahead = path.next_expiry[schedule][0, :days]
        assert np.all(ahead >= np.arange(days)), schedule
    dates = path.dates[0]
    calendar = ExpiryCalendar.from_dates(dates)
    for schedule, least in (("weekly", 50), ("monthly", 11), ("quarterly", 3)):
        expiries = getattr(calendar, schedule)
        years = np.bincount(expiries[expiries < days] // ONE_YEAR, minlength=days // ONE_YEAR)
        assert np.all(years >= least), (schedule, years)
        assert np.all(np.is_busday(dates[expiries], weekmask="Fri")), schedule
        expected = calendar.next_expiry(schedule, np.arange(path.n_days))
        np.testing.assert_array_equal(path.next_expiry[schedule][0], expected)
    monthly = dates[calendar.monthly]
    day_of_month = (monthly - monthly.astype("datetime64[M]")).astype(int) + 1
    assert np.all((day_of_month >= 15) & (day_of_month <= 21))  # third Fridays
    months = dates[calendar.quarterly].astype("datetime64[M]").astype(int) % 12 + 1
    assert set(months.tolist()) <= {3, 6, 9, 12}
