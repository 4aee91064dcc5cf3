"""Historical replay: :class:`~thetagym.market.path.MarketPath` batches built from daily closes.

The closes come as a :class:`~thetagym.market.history.History`, read and checked from CSV files by
:mod:`thetagym.market.history` (whose names this module re-exports, so existing imports keep
working).

Everything a path holds besides the closes is derived causally: a bar sees only data up to its
own time (``tests/market/test_replay.py`` perturbs every series after a day and checks that no
bar before it moves).

- ``implied_variance``: the instantaneous risk-neutral variance whose one-month at-the-money
  variance on the surface equals the VIX mapped to at-the-money (:func:`atm_volatility_from_vix`;
  with VIX3M, jointly with the long-run level below).
  The VIX is a 30-day variance-swap rate, which sits above at-the-money implied volatility by what
  the smile's skew and curvature add (Demeterfi, Derman, Kamal and Zou 1999: ``1 + 3 skew^2`` to
  leading order); with the simulator's skew rule the one-month at-the-money level sits 2.3 points
  below the VIX at the median over 1990-2023 (5-95%: 1.3-5.5; 2006-2015 median 2.3, 95% 7.5),
  against about 1-2 points for index variance swaps in normal markets and more in stress
  (Allen, Einchcomb and Granger 2006, "Variance swaps", J.P. Morgan). The mean reversion and
  jump variance are the simulator's constants (``PricingMeasureConfig``; 30 calendar days are
  taken as 21 trading days, three months as 63);
- ``long_implied_variance`` (per bar), the term structure: where VIX3M is known at the bar (its
  data start on 2009-09-18) the spot variance and the long-run level are solved together so that
  the surface's one-month at-the-money level is the VIX's and its three-month one VIX3M's, mapped
  the same way (VIX3M over the square root of the variance-swap ratio at the surface's
  three-month skew: :func:`variance_term_structure_from_vix`). The surface's three-month
  variance-swap rate is then VIX3M: contango (VIX3M above the VIX) puts the long-run level above
  the spot and the term structure slopes up, backwardation the other way. Both are floored at
  :data:`MIN_IMPLIED_VARIANCE`: in backwardation steeper than the mean reversion reaches
  (VIX3M/VIX below about 0.97, 4% of days in 2010-2023) the long level sits on the floor, the
  one-month level still matches and the three-month level sits above VIX3M (by a median 1.1
  points on those days). Where VIX3M is unknown the long-run level is the simulator's constant
  and the spot variance matches the VIX alone;
- ``variance`` (real-world): a blend of trailing 21-day realised variance and the implied variance
  over the simulator's variance multiplier (the variance risk premium);
- ``skew``: the simulator's rule, rising linearly with the VIX and clipped; ``vix3m`` from the data
  where the file has the day and the day before (bars inside a day built like the VIX's), else
  the surface's three-month variance-swap rate;
- ``vxx`` and ``inverse_vix``: :func:`thetagym.market.vix.etp_series` (a roll of the first two VIX
  futures and a daily-reset -1x product) on the futures curve of the replayed state, with the
  futures expiries of each window's own calendar;
- ``rate`` (per day) and ``carry`` (rate minus the dividend yield): the 3-month T-bill rate known
  on each day (the previous month's average, :func:`thetagym.market.history.daily_rates`) when
  the history has one, else the market config's constant rate;
- indicators from :mod:`thetagym.market.indicators` on the whole history, so windows start warm.

Bars inside a day come from its high, low and close (:func:`_intraday`): the first bar of a day
is drawn without the day's data, the bars after it bridge to the close inside the day's range,
and every close bar holds the real close exactly. Randomness comes only from the generator
passed in.

>>> import numpy as np
>>> dates = np.arange("2024-01-01", "2024-03-01", dtype="datetime64[D]")
>>> dates = dates[np.is_busday(dates)]
>>> days = np.arange(len(dates))
>>> history = History(dates, 4700 * 1.001 ** days, 14 + np.sin(days / 5), None)
>>> path = replay_path(history, "2024-01-08", "2024-01-31", bars_per_day=4,
...                    rng=np.random.default_rng(0))
>>> path.n_paths, path.n_days, path.n_bars
(1, 18, 72)
>>> bool(np.all(path.index[0, 4::4] == history.index_close[5:23]))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from thetagym.config import nested, setting
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
from thetagym.market.history import (
    History,
    ReplayDataError,
    has_shared_data,
    load_history,
    load_shared_history,
    shared_data_dir,
)
from thetagym.market.history import read_closes as read_closes  # re-exported for existing imports
from thetagym.market.indicators import per_bar
from thetagym.market.kernels import ONE_MONTH
from thetagym.market.params import VIX3M_HORIZON, VIX_HORIZON, MarketConfig, average_weight
from thetagym.market.path import MarketPath, next_expiry_table
from thetagym.market.vix import etp_series, futures_expiry_days, vix_level

__all__ = [
    "DEFAULT_SETTINGS",
    "HISTORICAL_EPISODES",
    "History",
    "ReplayDataError",
    "ReplaySettings",
    "atm_volatility_from_vix",
    "has_shared_data",
    "implied_variance_from_vix",
    "load_history",
    "load_shared_history",
    "replay_episode",
    "replay_path",
    "replay_windows",
    "shared_data_dir",
    "variance_swap_ratio",
    "variance_term_structure_from_vix",
]

MIN_IMPLIED_VARIANCE = 1e-4
"""Floor on the inverted instantaneous implied variance (1% volatility)."""

HISTORICAL_EPISODES: dict[str, tuple[str, str]] = {
    "ltcm_1998": ("1998-07-15", "1998-10-30"),
    "september_2001": ("2001-08-27", "2001-10-31"),
    "gfc_2008": ("2008-09-01", "2009-03-31"),
    "flash_crash_2010": ("2010-04-19", "2010-07-30"),
    "downgrade_2011": ("2011-07-18", "2011-10-31"),
    "devaluation_2015": ("2015-08-03", "2015-10-30"),
    "calm_2017": ("2017-01-03", "2017-12-29"),
    "volmageddon_2018": ("2018-01-15", "2018-03-30"),
    "q4_2018": ("2018-10-01", "2018-12-31"),
    "covid_2020": ("2020-02-03", "2020-04-30"),
    "bear_2022": ("2022-01-03", "2022-10-31"),
}
"""Named historical windows (first and last date, inclusive) for :func:`replay_episode`."""


@dataclass(frozen=True)
class ReplaySettings:
    """How replay derives the unobserved state from closes.

    The surface constants, the variance risk premium, the skew rule, the overnight share of a
    day's variance, the ETP settings and the rate and carry come from the simulator's
    :class:`~thetagym.market.params.MarketConfig` (``market``), so replayed and simulated paths
    share one pricing measure; the rest are replay's own.
    """

    market: MarketConfig = nested(MarketConfig, doc="the simulator's market settings")
    realised_weight: float = setting(
        0.5,
        ge=0.0,
        le=1.0,
        doc="weight of trailing 21-day realised variance in the real-world variance; the rest is "
        "the implied variance over the pricing measure's variance multiplier",
    )
    vix_volatility: float = setting(
        1.06, gt=0.0, doc="volatility of log VIX inside a day, per year (1990-2023 daily: 1.06)"
    )
    index_vix_correlation: float = setting(
        -0.71, ge=-1.0, le=1.0, doc="correlation of index and log VIX moves inside a day (1990-2023)"
    )

    @property
    def long_implied_variance(self) -> float:
        return self.market.pricing.long_variance

    @property
    def implied_mean_reversion(self) -> float:
        return self.market.pricing.mean_reversion

    @property
    def jump_variance(self) -> float:
        return self.market.pricing.jump_variance

    @property
    def curvature(self) -> float:
        return self.market.pricing.curvature


DEFAULT_SETTINGS = ReplaySettings()


# ----------------------------------------------------------------------------------------------
# State derived from VIX


def variance_swap_ratio(skew: np.ndarray | float, curvature: np.ndarray | float) -> np.ndarray:
    """Variance-swap rate over at-the-money implied variance of the surface's smile, to leading
    order in its skew and curvature: ``1 + 3 skew^2 + 2 curvature`` (dimensionless).

    For a smile ``atm * (1 - s z + c z^2)`` in standardised moneyness, the log-contract
    replication of a variance swap (Demeterfi, Derman, Kamal and Zou 1999, "More than you ever
    wanted to know about volatility swaps", Goldman Sachs, eq. for a linear skew:
    ``K_var ~ atm^2 (1 + 3 T b^2)`` with ``b = s / sqrt(T)`` the slope in log-strike) gives
    ``1 + 3 s^2``; the curvature adds ``2 c`` at the same order. The VIX is that rate over 30 days,
    so ``VIX = ATM * sqrt(ratio)`` with the one-month skew.

    >>> variance_swap_ratio(np.array([0.0, 0.27]), 0.05).round(4).tolist()
    [1.1, 1.3187]
    """
    return np.asarray(1.0 + 3.0 * np.asarray(skew) ** 2 + 2.0 * np.asarray(curvature))


def atm_volatility_from_vix(
    vix: np.ndarray | float, settings: ReplaySettings = DEFAULT_SETTINGS, horizon: float = VIX_HORIZON
) -> np.ndarray:
    """At-the-money implied volatility (points) of the maturity of a VIX-style index of
    ``horizon`` years (the VIX: one month; VIX3M: three months): the index over the square root
    of :func:`variance_swap_ratio` at the smile's skew for that maturity (the skew from the VIX
    level by the simulator's rule, scaled by ``(horizon / 1 month) ** 0.1`` as in the surface).

    With the default settings a VIX of 18 maps to an at-the-money volatility of 15.7, 2.3 points
    below; a VIX of 40 to 32.8, 7.2 below.

    >>> atm_volatility_from_vix(np.array([12.0, 18.0, 40.0])).round(1).tolist()
    [10.6, 15.7, 32.8]
    """
    vix = np.asarray(vix, dtype=np.float64)
    maturity_skew = skew_from_vix(vix, settings) * (horizon / ONE_MONTH) ** 0.1
    return np.asarray(vix / np.sqrt(variance_swap_ratio(maturity_skew, settings.curvature)))


def implied_variance_from_vix(
    vix: np.ndarray | float, settings: ReplaySettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """Instantaneous risk-neutral variance (per year) whose one-month at-the-money variance on the
    surface equals ``(atm_volatility_from_vix(vix) / 100) ** 2``, floored at
    :data:`MIN_IMPLIED_VARIANCE`.

    An at-the-money level at or below the long-run and jump parts alone
    (:func:`thetagym.market.params.vix_floor`, 9.93 points with the simulator's defaults) hits the
    floor; on those days the surface prices one-month options a little above the mapping.

    >>> from thetagym.market.vix import vix_level
    >>> pricing = DEFAULT_SETTINGS.market.pricing
    >>> spot = implied_variance_from_vix(np.array([1.0, 20.0]))
    >>> levels = vix_level(spot, pricing.long_variance, pricing.mean_reversion, pricing.jump_variance)
    >>> bool(spot[0] == MIN_IMPLIED_VARIANCE), round(float(levels[1]), 6) == round(float(atm_volatility_from_vix(20.0)), 6)
    (True, True)
    """
    weight = float(average_weight(settings.implied_mean_reversion, VIX_HORIZON))
    target = (atm_volatility_from_vix(vix, settings) / 100.0) ** 2 - settings.jump_variance
    spot = settings.long_implied_variance + (target - settings.long_implied_variance) / weight
    return np.asarray(np.maximum(spot, MIN_IMPLIED_VARIANCE))


def variance_term_structure_from_vix(
    vix: np.ndarray | float, vix3m: np.ndarray | float, settings: ReplaySettings = DEFAULT_SETTINGS
) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous risk-neutral variance and its long-run level (both per year) whose one-month
    and three-month at-the-money variances on the surface are the VIX and VIX3M mapped to
    at-the-money, so the surface's three-month variance-swap rate is VIX3M.

    Both indexes are mapped as :func:`atm_volatility_from_vix` maps the VIX: over the square root
    of :func:`variance_swap_ratio` at the surface's skew for their maturity (the VIX's skew
    scaled by ``(3 months / 1 month) ** 0.1`` for VIX3M). The surface's at-the-money variance is
    linear in the two unknowns (``w(tau) = long + (spot - long) W(tau) + jump``, with ``W`` the
    mean-reversion average weight), so two maturities fix them. Both are floored at
    :data:`MIN_IMPLIED_VARIANCE`, the one-month level kept where the other floor binds: a long
    level at the floor leaves a three-month level above VIX3M in backwardation steeper than the
    mean reversion reaches (VIX3M/VIX below about 0.97 with the defaults), a spot at the floor one
    below VIX3M in steep contango at a VIX near 10.

    >>> from thetagym.market.vix import vix_level
    >>> pricing = DEFAULT_SETTINGS.market.pricing
    >>> vix, vix3m = np.array([14.0, 30.0]), np.array([16.5, 29.5])
    >>> spot, long = variance_term_structure_from_vix(vix, vix3m)
    >>> np.sqrt(long).round(3).tolist()  # long-run volatility: above spot in contango, below in backwardation
    [0.237, 0.114]
    >>> np.sqrt(spot).round(3).tolist()
    [0.087, 0.25]
    >>> def level(horizon):
    ...     return vix_level(spot, long, pricing.mean_reversion, pricing.jump_variance, horizon)
    >>> bool(np.allclose(level(VIX_HORIZON), atm_volatility_from_vix(vix)))
    True
    >>> ratio = atm_volatility_from_vix(vix, horizon=VIX3M_HORIZON) / vix
    >>> bool(np.allclose(level(VIX3M_HORIZON), vix3m * ratio))
    True
    """
    vix = np.asarray(vix, dtype=np.float64)
    one_month_weight = float(average_weight(settings.implied_mean_reversion, VIX_HORIZON))
    three_month_weight = float(average_weight(settings.implied_mean_reversion, VIX3M_HORIZON))
    jump = settings.jump_variance
    one_month = (atm_volatility_from_vix(vix, settings) / 100.0) ** 2 - jump
    three_month_atm = np.asarray(vix3m) * atm_volatility_from_vix(vix, settings, VIX3M_HORIZON) / vix
    three_month = (three_month_atm / 100.0) ** 2 - jump
    solved = (one_month * three_month_weight - three_month * one_month_weight) / (
        three_month_weight - one_month_weight
    )
    long = np.maximum(solved, MIN_IMPLIED_VARIANCE)
    spot = long + (one_month - long) / one_month_weight
    low_spot = spot < MIN_IMPLIED_VARIANCE
    spot = np.maximum(spot, MIN_IMPLIED_VARIANCE)
    at_floor = (one_month - spot * one_month_weight) / (1.0 - one_month_weight)
    long = np.where(low_spot, np.maximum(at_floor, MIN_IMPLIED_VARIANCE), long)
    return np.asarray(spot), np.asarray(long)


def skew_from_vix(vix: np.ndarray, settings: ReplaySettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Smile skew rising with the VIX level, by the simulator's rule:
    ``skew + skew_stress * (vix - skew_reference_vix)`` clipped to ``skew_bounds``.

    >>> skew_from_vix(np.array([12.0, 18.0, 40.0])).round(3).tolist()
    [0.246, 0.27, 0.358]
    """
    pricing = settings.market.pricing
    low, high = pricing.skew_bounds
    skew = pricing.skew + pricing.skew_stress * (np.asarray(vix) - pricing.skew_reference_vix)
    return np.asarray(np.clip(skew, low, high))


# ----------------------------------------------------------------------------------------------
# Paths


def replay_path(
    history: History,
    start: str | date | np.datetime64 | None = None,
    end: str | date | np.datetime64 | None = None,
    bars_per_day: int = 4,
    rng: np.random.Generator | None = None,
    *,
    name: str = "historical",
    settings: ReplaySettings = DEFAULT_SETTINGS,
) -> MarketPath:
    """One path (``n_paths = 1``) over the trading days from ``start`` to ``end`` (inclusive;
    None for the second date / the last date of the history).

    Bar 0 is the close of the trading day before ``start``, so ``start`` must come after the
    history's first date. ``rng`` draws the intraday bars (a fresh unseeded generator if None).
    """
    first_allowed, last = history.dates[1], history.dates[-1]
    start_day = _as_date(start, "start", first_allowed)
    end_day = _as_date(end, "end", last)
    where = f"{history.source} covers {history.dates[0]} to {last}"
    if start_day < first_allowed:
        raise ReplayDataError(
            f"start {start_day} is too early: {where}, and a replay begins at the close before its "
            f"first day, so start on {first_allowed} or later"
        )
    if end_day > last:
        raise ReplayDataError(f"end {end_day} is after the data ends: {where}")
    first = int(np.searchsorted(history.dates, start_day, side="left"))
    stop = int(np.searchsorted(history.dates, end_day, side="right"))
    if stop <= first:
        raise ReplayDataError(f"no trading day from start {start_day} to end {end_day} ({where})")
    return _build(history, np.array([first]), stop - first, bars_per_day, rng, (name,), settings)


def replay_windows(
    history: History,
    n_days: int,
    starts: Sequence[str | date | np.datetime64 | int] | np.ndarray,
    bars_per_day: int = 4,
    rng: np.random.Generator | None = None,
    *,
    name: str = "historical",
    settings: ReplaySettings = DEFAULT_SETTINGS,
) -> MarketPath:
    """Windows of ``n_days`` trading days stacked as paths, one per entry of ``starts``.

    A start is a date (the window begins on the first trading day on or after it) or an integer
    position into ``history.dates`` of the window's first day, from 1 to ``len(history) - n_days``;
    draw random windows with ``rng.integers(1, len(history) - n_days + 1, size=k)``.
    """
    if not isinstance(n_days, int | np.integer) or n_days < 1:
        raise ReplayDataError(f"n_days must be a positive integer, got {n_days!r}")
    latest = len(history) - n_days
    if latest < 1:
        raise ReplayDataError(f"{history.source} has {len(history)} days, too few for {n_days}-day windows")
    entries = list(np.asarray(starts).tolist()) if isinstance(starts, np.ndarray) else list(starts)
    if not entries:
        raise ReplayDataError("starts is empty; give at least one window start")
    firsts = np.empty(len(entries), dtype=np.int64)
    for i, entry in enumerate(entries):
        if isinstance(entry, int | np.integer) and not isinstance(entry, bool):
            firsts[i] = int(entry)
        else:
            day = _as_date(entry, f"starts[{i}]", history.dates[1])
            firsts[i] = int(np.searchsorted(history.dates, day, side="left"))
        if not 1 <= firsts[i] <= latest:
            raise ReplayDataError(
                f"starts[{i}] = {entry!r}: a {n_days}-day window must start from {history.dates[1]} "
                f"to {history.dates[latest]} (positions 1 to {latest}) in {history.source}"
            )
    return _build(history, firsts, n_days, bars_per_day, rng, (name,), settings)


def replay_episode(
    history: History,
    name: str,
    bars_per_day: int = 4,
    rng: np.random.Generator | None = None,
    *,
    settings: ReplaySettings = DEFAULT_SETTINGS,
) -> MarketPath:
    """The named window of :data:`HISTORICAL_EPISODES`; ``scenario_names`` is ``(name,)``."""
    if name not in HISTORICAL_EPISODES:
        from thetagym.config import suggest

        known = ", ".join(HISTORICAL_EPISODES)
        raise ReplayDataError(f"unknown episode {name!r}{suggest(name, HISTORICAL_EPISODES)}; known: {known}")
    start, end = HISTORICAL_EPISODES[name]
    return replay_path(history, start, end, bars_per_day, rng, name=name, settings=settings)


def _as_date(value: object, label: str, default: np.datetime64) -> np.datetime64:
    if value is None:
        return default
    try:
        return np.datetime64(value, "D")  # type: ignore[call-overload]
    except (ValueError, TypeError):
        raise ReplayDataError(f"{label} {value!r} is not a date; use YYYY-MM-DD") from None


def _build(
    history: History,
    firsts: np.ndarray,
    n_days: int,
    bars_per_day: int,
    rng: np.random.Generator | None,
    scenario_names: tuple[str, ...],
    settings: ReplaySettings,
) -> MarketPath:
    """Paths whose first trading day is ``history.dates[firsts]``, each ``n_days`` long."""
    if not isinstance(bars_per_day, int | np.integer) or bars_per_day < 1:
        raise ReplayDataError(f"bars_per_day must be a positive integer, got {bars_per_day!r}")
    bars_per_day = int(bars_per_day)
    rng = np.random.default_rng() if rng is None else rng
    n_paths = firsts.shape[0]
    # Closes from the one before the first day to the last day: (n_paths, n_days + 1).
    closes_at = firsts[:, None] - 1 + np.arange(n_days + 1)[None, :]
    index_close = history.index_close[closes_at]
    vix_close = history.vix_close[closes_at]
    realised = history.daily("realised_volatility")[closes_at]

    market = settings.market

    def real_world_variance(realised_vol: np.ndarray, implied_variance: np.ndarray) -> np.ndarray:
        weight = settings.realised_weight
        model = implied_variance / market.pricing.variance_multiplier
        return np.asarray(weight * realised_vol**2 + (1.0 - weight) * model)

    # Bars inside a day from its open, high and low (see _intraday); index and VIX shocks correlated.
    overnight = market.overnight_variance_share
    daily_implied = implied_variance_from_vix(vix_close[:, :-1], settings)
    day_variance = real_world_variance(realised[:, :-1], daily_implied) / TRADING_DAYS_PER_YEAR
    shocks = rng.standard_normal((2, n_paths, n_days, bars_per_day))
    rho = settings.index_vix_correlation
    vix_shocks = rho * shocks[0] + np.sqrt(1.0 - rho * rho) * shocks[1]
    days_at = closes_at[:, 1:]

    def ranges(daily: np.ndarray | None) -> np.ndarray | None:
        return None if daily is None else np.log(daily[days_at])

    index = _intraday(index_close, ranges(history.index_range), shocks[0], day_variance, overnight)
    vix_day_variance = np.full(day_variance.shape, settings.vix_volatility**2 / TRADING_DAYS_PER_YEAR)
    vix = _intraday(vix_close, ranges(history.vix_range), vix_shocks, vix_day_variance, overnight)

    implied_variance = implied_variance_from_vix(vix, settings)
    pricing = market.pricing
    long = np.full(vix.shape, pricing.long_variance)
    kappa = np.full(n_paths, pricing.mean_reversion)
    jump = np.full(n_paths, pricing.jump_variance)
    three_month_atm = vix_level(implied_variance, long, kappa[:, None], jump[:, None], VIX3M_HORIZON)
    # The surface's three-month variance-swap rate: its at-the-money level times the skew's ratio.
    vix3m = three_month_atm * vix / atm_volatility_from_vix(vix, settings, VIX3M_HORIZON)
    if history.vix3m_close is not None:
        observed = history.vix3m_close[closes_at]
        known_days = ~np.isnan(observed)
        filled = np.where(known_days, observed, 1.0)
        observed_bars = _intraday(
            filled, ranges(history.vix3m_range), vix_shocks, vix_day_variance, overnight
        )
        # A bar takes the data where the day's close (and the close before it) are known.
        known_bars = np.concatenate(
            [known_days[:, :1], np.repeat(known_days[:, 1:] & known_days[:, :-1], bars_per_day, axis=1)],
            axis=1,
        )
        known_bars[:, bars_per_day::bars_per_day] = known_days[:, 1:]
        vix3m = np.where(known_bars, observed_bars, vix3m)
        # There the term structure follows VIX3M: spot and long-run level fit both maturities.
        fitted_spot, fitted_long = variance_term_structure_from_vix(vix, vix3m, settings)
        implied_variance = np.where(known_bars, fitted_spot, implied_variance)
        long = np.where(known_bars, fitted_long, long)

    # VIX ETPs from the futures curve of the replayed state, on each window's own calendar.
    dates = history.dates[firsts[:, None] + np.arange(n_days)[None, :]]
    vxx = np.empty_like(index)
    inverse = np.empty_like(index)
    for row in range(n_paths):
        take = slice(row, row + 1)
        vxx[take], inverse[take], _, _ = etp_series(
            (implied_variance[take], long[take], kappa[take], jump[take]),
            pricing.vol_of_variance,
            bars_per_day,
            _futures_expiry_positions(dates[row]),
            market.vix.vxx_initial_price,
            market.vix.inverse_initial_price,
            market.vix.inverse_floor,
        )

    def bars(name: str) -> np.ndarray:
        return per_bar(history.daily(name)[closes_at], bars_per_day)

    realised_bars = per_bar(realised, bars_per_day)
    rate: float | np.ndarray = market.rate
    carry: float | np.ndarray = market.carry
    if history.rate is not None:
        rate = history.rate[closes_at[:, 1:]]  # per day: the T-bill rate known on each day
        carry = rate - market.dividend_yield
    return MarketPath(
        bars_per_day=bars_per_day,
        dates=dates,
        index=index,
        variance=real_world_variance(realised_bars, implied_variance),
        implied_variance=implied_variance,
        skew=skew_from_vix(vix, settings),
        vix=vix,
        vix3m=vix3m,
        vxx=vxx,
        inverse_vix=inverse,
        realised_volatility=realised_bars,
        index_rsi=bars("index_rsi"),
        index_macd=bars("index_macd"),
        vix_rsi=bars("vix_rsi"),
        vix_macd=bars("vix_macd"),
        long_implied_variance=long,
        implied_mean_reversion=kappa,
        jump_variance=jump,
        curvature=np.full(n_paths, pricing.curvature),
        scenario=np.zeros(n_paths, dtype=np.int64),
        scenario_names=scenario_names,
        next_expiry=next_expiry_table(dates),
        rate=rate,
        carry=carry,
        vol_of_implied_variance=pricing.vol_of_variance,
    )


def _futures_expiry_positions(dates: np.ndarray) -> np.ndarray:
    """VIX futures expiries as trading-day positions in ``dates`` (which skip exchange holidays):
    :func:`thetagym.market.vix.futures_expiry_days` counts business days, so expiries inside the
    window are mapped onto its own dates (a holiday expiry moves to the next trading day) and
    those outside keep their business-day distance from the window's ends."""
    expiry = np.busday_offset(dates[0], futures_expiry_days(dates))
    inside = np.searchsorted(dates, expiry, side="left")
    before = -np.busday_count(expiry, dates[0])
    after = dates.shape[0] - 1 + np.busday_count(dates[-1], expiry)
    positions = np.where(expiry < dates[0], before, np.where(expiry > dates[-1], after, inside))
    return np.asarray(positions, dtype=np.int64)


def _intraday(
    closes: np.ndarray,
    log_range: np.ndarray | None,
    shocks: np.ndarray,
    day_variance: np.ndarray,
    overnight_share: float,
) -> np.ndarray:
    """Per-bar levels ``(n_paths, n_days * bars_per_day + 1)`` of one series from its closes
    ``closes`` ``(n_paths, n_days + 1)``, which the close bars hold exactly, each day's log open, high and low
    ``log_range`` ``(n_paths, n_days, 3)`` (NaN where unknown, or None), standard normal
    ``shocks`` ``(n_paths, n_days, bars_per_day)`` and the variance of a day's log change
    expected at the close before it, ``day_variance`` ``(n_paths, n_days)``.

    With one bar a day the bars are the closes. Otherwise:

    - the first bar of a day (the overnight gap and the start of the session) is a draw with the
      overnight share of ``day_variance``, which is known at the close before, independent of the
      day's data. The cash index's printed open is not used for it: it is stale (equal to the
      close before on most days of 1990-2013 in Yahoo's file) and where it is not, on days that
      moved more than 3% its direction agrees with the rest of the day on 89% of them (126 of 141,
      1990-2023), far above what intraday momentum studies measure on traded prices;
    - the bars between the open and the close are a Brownian bridge in log level from the open to
      the close over equal steps of the session, with the session variance the day's high and low
      imply (Parkinson: ``log(high / low)^2 / (4 log 2)``; where unknown the rest of
      ``day_variance``), kept inside the day's range;
    - the last bar of a day is its close.

    The first bar therefore carries no information about the day's close: on days that moved more
    than 3% its direction agrees with the rest of the day about half the time (measured over
    1990-2023 in ``tests/market/test_replay.py``), at or below real intraday data, where the first
    half-hour predicts the last with an R^2 of about 1.6% (3.3% on volatile days; Gao, Han, Li and
    Zhou 2018, "Market intraday momentum", J. Financial Economics 129(2)), a sign agreement of
    about 54-56% for correlations of 0.13-0.18. The bars between the first and the last do follow
    the day's range and close (a bridge), as the day's data allow no other placement.
    """
    n_paths, n_days, bars_per_day = shocks.shape
    if bars_per_day == 1:
        return np.array(closes, dtype=np.float64)
    log_close = np.log(closes)
    before, close = log_close[:, :-1], log_close[:, 1:]
    if log_range is None:
        log_range = np.full((n_paths, n_days, 3), np.nan)
    high, low = log_range[..., 1], log_range[..., 2]
    has_range = np.isfinite(high) & np.isfinite(low) & (high > low)
    open_ = before + shocks[..., 0] * np.sqrt(overnight_share * day_variance)
    high = np.where(has_range, np.maximum(high, open_), np.inf)
    low = np.where(has_range, np.minimum(low, open_), -np.inf)
    # The bridge spans the gap from the drawn first bar to the close: the day's own variance
    # (from its range) plus the draw's, so its steps are as uncertain as the remaining move.
    session_variance = overnight_share * day_variance + np.where(
        has_range, np.where(has_range, high - low, 0.0) ** 2 / (4.0 * np.log(2.0)), day_variance
    )
    steps = bars_per_day - 1
    share = np.arange(1, steps + 1) / steps
    walk = np.cumsum(shocks[..., 1:], axis=-1) * np.sqrt(session_variance / steps)[..., None]
    bridge = open_[..., None] + share * (close - open_)[..., None] + walk - share * walk[..., -1:]
    levels = np.empty((n_paths, n_days, bars_per_day))
    levels[..., 0] = open_
    levels[..., 1:] = np.clip(bridge, low[..., None], high[..., None])
    out = np.empty((n_paths, n_days * bars_per_day + 1))
    out[:, 1:] = np.exp(levels.reshape(n_paths, -1))
    out[:, ::bars_per_day] = closes
    return out
