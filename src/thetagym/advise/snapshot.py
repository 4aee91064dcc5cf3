"""A market snapshot as a :class:`~thetagym.market.path.MarketPath` the book can be marked on.

The snapshot becomes a flat path: every bar from the snapshot's bar on repeats the snapshot, so
the book's own code marks, margins and trades the positions (an action's book is marked one bar
later on an unchanged market). Day 0 is the snapshot's date; the snapshot's bar is the number of
bars of the session (09:30 to 16:00 exchange time, ``bars_per_day`` bars) completed at its time.

The surface comes from the VIX and VIX3M as replay derives it
(:func:`thetagym.market.replay.variance_term_structure_from_vix`, skew by the simulator's rule),
unless the snapshot gives the surface's state itself (:data:`OPTIONAL_STATE`) or option quotes
(:mod:`thetagym.advise.quotes`). Rows after the first hold the same snapshot under historical
shocks (:func:`shocked`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from thetagym.advise.inputs import InputError, MarketSnapshot, Source
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR, trading_days
from thetagym.market.params import MarketConfig
from thetagym.market.path import MarketPath, next_expiry_table
from thetagym.market.replay import ReplaySettings, skew_from_vix, variance_term_structure_from_vix
from thetagym.market.vix import futures_price

OPTIONAL_STATE = (
    "vxx",  # VXX-like ETP, USD per share
    "inverse_vix",  # inverse VIX ETP, USD per share
    "previous_index",  # index at the end of the previous bar, points (the last bar's return)
    "realised_volatility",  # trailing 21-day, per year, decimal (default: VIX / 100)
    "index_rsi",  # 14-day RSI scaled to [-1, 1] (default 0)
    "index_macd",  # MACD histogram over the price (default 0)
    "vix_rsi",
    "vix_macd",
    "implied_variance",  # the surface's instantaneous risk-neutral variance, per year
    "long_implied_variance",  # its long-run level, per year
    "skew",  # the smile's skew
    "implied_mean_reversion",  # per year
    "jump_variance",  # per year
    "curvature",  # the smile's curvature
    "carry",  # cost of carry of the index, per year (default: rate - the market's dividend yield)
    "vol_of_implied_variance",  # per sqrt(year)
)
"""Optional snapshot columns: ETP prices, the last returns, indicators and the surface's state."""
SURFACE_STATE = ("implied_variance", "long_implied_variance", "skew")
SESSION_OPEN = dt.time(9, 30)
SESSION_MINUTES = 390.0
ONE_MONTH = 21.0 / TRADING_DAYS_PER_YEAR
"""Constant maturity of the VXX-like ETP's futures (years of trading time)."""
INVERSE_FLOOR = 0.05
"""Lowest fraction of its price an inverse ETP keeps under a shock (it loses at most 95%)."""


@dataclass(frozen=True)
class SnapshotState:
    """Every per-bar and per-path value of the market at the snapshot (scalars; see
    :class:`~thetagym.market.path.MarketPath` for their units)."""

    index: float
    previous_index: float
    vix: float
    vix3m: float
    vxx: float
    inverse_vix: float
    realised_volatility: float
    index_rsi: float
    index_macd: float
    vix_rsi: float
    vix_macd: float
    implied_variance: float
    long_implied_variance: float
    skew: float
    implied_mean_reversion: float
    jump_variance: float
    curvature: float
    rate: float
    carry: float
    vol_of_implied_variance: float


def snapshot_bar(time: dt.time, bars_per_day: int) -> int:
    """Bars of the session completed at ``time``: 0 before the first bar ends, ``bars_per_day``
    from the close on.

    >>> snapshot_bar(dt.time(9, 0), 4), snapshot_bar(dt.time(11, 7, 30), 4), snapshot_bar(dt.time(16, 0), 4)
    (0, 1, 4)
    """
    minutes = (time.hour * 60 + time.minute + time.second / 60.0) - (
        SESSION_OPEN.hour * 60 + SESSION_OPEN.minute
    )
    completed = int(np.floor(minutes / (SESSION_MINUTES / bars_per_day) + 1e-9))
    return min(max(completed, 0), bars_per_day)


def check_trading_day(date: dt.date, source: Source) -> None:
    """Raise when ``date`` is no trading day (a weekend: the calendar has no holidays)."""
    if trading_days(np.datetime64(date, "D"), 1)[0] != np.datetime64(date, "D"):
        raise Source(source.file, source.line or 2, "date").error(
            date.isoformat(), f"is not a trading day (a {date.strftime('%A')})"
        )


def snapshot_state(
    snapshot: MarketSnapshot, market: MarketConfig, front_future_years: float
) -> SnapshotState:
    """The :class:`SnapshotState` of ``snapshot`` under the market settings ``market``;
    ``front_future_years`` is the time to the front ES future's expiry (years), which turns an
    ``es`` price into the index."""
    extra = snapshot.extra
    settings = ReplaySettings(market=market)
    given = [name for name in SURFACE_STATE if name in extra]
    if given and len(given) != len(SURFACE_STATE):
        missing = [name for name in SURFACE_STATE if name not in extra]
        raise Source(snapshot.source.file, 2, missing[0]).error(
            "", f"is missing: the surface's state needs {', '.join(SURFACE_STATE)} together"
        )
    spot, long = variance_term_structure_from_vix(snapshot.vix, snapshot.vix3m, settings)
    carry = extra.get("carry", snapshot.rate - market.dividend_yield)
    if snapshot.index is not None:
        index = snapshot.index
    else:
        assert snapshot.es is not None
        index = snapshot.es * float(np.exp(-carry * front_future_years))
    pricing = market.pricing
    return SnapshotState(
        index=index,
        previous_index=extra.get("previous_index", index),
        vix=snapshot.vix,
        vix3m=snapshot.vix3m,
        vxx=extra.get("vxx", market.vix.vxx_initial_price),
        inverse_vix=extra.get("inverse_vix", market.vix.inverse_initial_price),
        realised_volatility=extra.get("realised_volatility", snapshot.vix / 100.0),
        index_rsi=extra.get("index_rsi", 0.0),
        index_macd=extra.get("index_macd", 0.0),
        vix_rsi=extra.get("vix_rsi", 0.0),
        vix_macd=extra.get("vix_macd", 0.0),
        implied_variance=extra.get("implied_variance", float(spot)),
        long_implied_variance=extra.get("long_implied_variance", float(long)),
        skew=extra.get("skew", float(skew_from_vix(np.asarray(snapshot.vix), settings))),
        implied_mean_reversion=extra.get("implied_mean_reversion", pricing.mean_reversion),
        jump_variance=extra.get("jump_variance", pricing.jump_variance),
        curvature=extra.get("curvature", pricing.curvature),
        rate=snapshot.rate,
        carry=carry,
        vol_of_implied_variance=extra.get("vol_of_implied_variance", pricing.vol_of_variance),
    )


def shocked(
    state: SnapshotState, index_move: float, vix_move: float, vix3m_move: float, market: MarketConfig
) -> SnapshotState:
    """``state`` after the index moves by ``index_move``, the VIX by ``vix_move`` and VIX3M by
    ``vix3m_move`` (relative). The surface's state moves by what the VIX mapping moves
    (today's state plus the mapped difference, so a surface given or calibrated keeps its own
    level); the VXX-like ETP moves with the one-month VIX future, the inverse ETP the other way."""
    settings = ReplaySettings(market=market)
    vix, vix3m = state.vix * (1.0 + vix_move), state.vix3m * (1.0 + vix3m_move)
    spot_before, long_before = variance_term_structure_from_vix(state.vix, state.vix3m, settings)
    spot_after, long_after = variance_term_structure_from_vix(vix, vix3m, settings)
    skew_change = skew_from_vix(np.asarray(vix), settings) - skew_from_vix(np.asarray(state.vix), settings)
    spot = max(state.implied_variance + float(spot_after - spot_before), 1e-6)
    long = max(state.long_implied_variance + float(long_after - long_before), 1e-6)
    after = dataclasses.replace(
        state,
        index=state.index * (1.0 + index_move),
        vix=vix,
        vix3m=vix3m,
        implied_variance=spot,
        long_implied_variance=long,
        skew=state.skew + float(skew_change),
    )
    future_move = _one_month_future(after) / _one_month_future(state) - 1.0
    return dataclasses.replace(
        after,
        vxx=state.vxx * (1.0 + future_move),
        inverse_vix=state.inverse_vix * max(1.0 - future_move, INVERSE_FLOOR),
    )


def _one_month_future(state: SnapshotState) -> float:
    return float(
        futures_price(
            np.asarray(state.implied_variance),
            np.asarray(state.long_implied_variance),
            np.asarray(state.implied_mean_reversion),
            np.asarray(state.jump_variance),
            state.vol_of_implied_variance,
            np.asarray(ONE_MONTH),
        )
    )


def market_path(
    states: list[SnapshotState], date: dt.date, bar: int, n_days: int, bars_per_day: int
) -> MarketPath:
    """A path per state over ``n_days`` trading days from ``date``, flat from bar ``bar`` on; the
    bars before it hold the previous bar's index (so the day's return is that of the last bar)."""
    n_rows, n_bars = len(states), n_days * bars_per_day + 1

    def series(name: str) -> np.ndarray:
        values = np.array([getattr(state, name) for state in states], dtype=np.float64)
        return np.repeat(values[:, None], n_bars, axis=1)

    index = series("index")
    index[:, :bar] = np.array([state.previous_index for state in states])[:, None]
    dates = np.repeat(trading_days(np.datetime64(date, "D"), n_days)[None, :], n_rows, axis=0)

    def per_path(name: str) -> np.ndarray:
        return np.array([getattr(state, name) for state in states], dtype=np.float64)

    rates, carries = per_path("rate"), per_path("carry")
    path = MarketPath(
        bars_per_day=bars_per_day,
        dates=dates,
        index=index,
        variance=series("implied_variance"),
        implied_variance=series("implied_variance"),
        skew=series("skew"),
        vix=series("vix"),
        vix3m=series("vix3m"),
        vxx=series("vxx"),
        inverse_vix=series("inverse_vix"),
        realised_volatility=series("realised_volatility"),
        index_rsi=series("index_rsi"),
        index_macd=series("index_macd"),
        vix_rsi=series("vix_rsi"),
        vix_macd=series("vix_macd"),
        long_implied_variance=series("long_implied_variance"),
        implied_mean_reversion=per_path("implied_mean_reversion"),
        jump_variance=per_path("jump_variance"),
        curvature=per_path("curvature"),
        scenario=np.zeros(n_rows, dtype=np.int64),
        scenario_names=("snapshot",),
        next_expiry=next_expiry_table(dates[:1])
        if n_rows == 1
        else _repeat(next_expiry_table(dates[:1]), n_rows),
        rate=float(rates[0]) if np.all(rates == rates[0]) else np.repeat(rates[:, None], n_days, axis=1),
        carry=float(carries[0])
        if np.all(carries == carries[0])
        else np.repeat(carries[:, None], n_days, axis=1),
        vol_of_implied_variance=states[0].vol_of_implied_variance,
    )
    path.validate()
    return path


def _repeat(table: dict[str, np.ndarray], n_rows: int) -> dict[str, np.ndarray]:
    return {name: np.repeat(days, n_rows, axis=0) for name, days in table.items()}


def bar_years(bars: int, bars_per_day: int) -> float:
    """Years of trading time in ``bars`` bars."""
    return bars / (TRADING_DAYS_PER_YEAR * bars_per_day)


def missing_price_error(source: Source, name: str) -> InputError:
    """The error for a book holding ETP shares whose price the snapshot does not give."""
    return Source(source.file, 2, name).error(
        "", f"is missing: the book holds {name} shares, give their price"
    )
