"""Batched simulation of market paths: Bates-style index under P, surface and VIX complex under Q.

Per bar of length ``h`` (years; the first bar of a day carries ``overnight_variance_share`` of the
day, the others share the rest), with ``v+ = max(v, 0)`` (full-truncation Euler):

    log S += (r - q + premium - lambda k - v+/2) h + sqrt(v+ h) Z1 + J
    v     += kappa (theta - v+) h + xi sqrt(v+ h) (rho Z1 + sqrt(1 - rho^2) Z2) + loading * min(J, 0)^2

``J`` is the sum of a Poisson(``lambda h``) number of ``N(mu_J, sigma_J^2)`` log-jumps and
``k = E[exp(J) - 1]`` compensates them, so the expected return is ``r - q + premium``. A scenario's
shock replaces its bar's move: the index opens ``index_gap`` away from the previous close and the
variance jumps to the level at which VIX is ``vix_multiplier`` times the previous close's VIX.

Rates are constant: the path's ``rate`` is ``config.rate`` (the discount rate of option prices
and the rate the book's cash earns) and its ``carry`` ``r - q`` (``config.carry``, the ES
forward's growth), every day.

Under Q the spot variance is ``implied_variance = variance_multiplier * v+``; the surface constants
(long-run level, mean reversion, jump variance, curvature) are shared by all paths. VIX, VIX3M,
futures and ETPs follow from it (:mod:`thetagym.market.vix`).

Randomness: path ``i`` draws everything from ``np.random.default_rng(seeds[i])`` in a fixed order
(five uniforms: scenario, shock day, stress length, swing phase, initial VIX; then all normal
shocks of the path in one call and the jump counts in another), so a path
is the same whatever batch it runs in. The terms of the recursion that do not depend on the state
are numpy arrays ``(n_paths, n_bars)``; the recursion over bars itself is compiled
(:func:`thetagym.market.kernels.bar_recursion`).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from thetagym.market import indicators
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR, trading_days
from thetagym.market.kernels import bar_recursion
from thetagym.market.params import VIX3M_HORIZON, VIX_HORIZON, MarketConfig, average_weight
from thetagym.market.path import PER_BAR_FIELDS, PER_PATH_FIELDS, MarketPath, next_expiry_table
from thetagym.market.scenarios import ScenarioBook, ScenarioConfig
from thetagym.market.vix import etp_series, futures_expiry_days, roll_schedule, vix_level

_BUILTIN = ScenarioBook.builtin()


def _bar_lengths(config: MarketConfig) -> np.ndarray:
    """Length in years of each bar of a day (the first carries the overnight share)."""
    day = 1.0 / TRADING_DAYS_PER_YEAR
    n = config.bars_per_day
    if n == 1:
        return np.array([day])
    share = config.overnight_variance_share
    return np.array([share * day] + [(1.0 - share) * day / (n - 1)] * (n - 1))


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


@dataclass(frozen=True)
class _Template:
    """A scenario's settings resolved against the market config, before per-path draws."""

    constants: tuple[float, float, float, float]  # kappa, xi, rho, jump std
    daily: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # premium, theta, intensity, jump mean
    initial_vix: float  # decimal
    dispersion: float


def _template(config: MarketConfig, spec: ScenarioConfig, n_days: int) -> _Template:
    variance, jumps = config.variance, config.jumps
    constants = (
        _pick(spec.mean_reversion, variance.mean_reversion),
        _pick(spec.vol_of_variance, variance.vol_of_variance),
        _pick(spec.correlation, variance.correlation),
        _pick(spec.jump_std, jumps.std),
    )
    daily = tuple(
        np.full(n_days, value)
        for value in (
            _pick(spec.equity_premium, config.equity_premium),
            _pick(spec.long_variance, variance.long_variance),
            _pick(spec.jump_intensity, jumps.intensity),
            _pick(spec.jump_mean, jumps.mean),
        )
    )
    return _Template(
        constants=constants,
        daily=daily,  # type: ignore[arg-type]
        initial_vix=_pick(spec.initial_vix, config.initial_vix) / 100.0,
        dispersion=_pick(spec.initial_vix_dispersion, config.initial_vix_dispersion),
    )


def _choose(u: float, names: list[str], cumulative: list[float]) -> str:
    """The name whose cumulative weight interval ``[c[i-1], c[i])`` holds ``u``."""
    return names[min(bisect.bisect_right(cumulative, u), len(names) - 1)]


@dataclass(frozen=True)
class _Calendar:
    """What the days of a path starting on a given date fix, the same for every path: trading
    days, VIX futures expiry days and roll schedule (:func:`~thetagym.market.vix.roll_schedule`),
    and the expiry tables (one row of :func:`next_expiry_table`). Read-only arrays."""

    dates: np.ndarray
    expiry_days: np.ndarray
    roll: tuple[np.ndarray, np.ndarray, np.ndarray]
    next_expiry: dict[str, np.ndarray]


@functools.lru_cache(maxsize=32)
def _calendar(start_date: str, n_days: int) -> _Calendar:
    """The :class:`_Calendar` of paths of ``n_days`` trading days from ``start_date``, computed
    once per start and length instead of at every call (the paths get copies)."""
    dates = trading_days(start_date, n_days)
    expiry_days = futures_expiry_days(dates)
    roll = roll_schedule(n_days, expiry_days)
    next_expiry = {key: table[0] for key, table in next_expiry_table(dates[None, :]).items()}
    for array in (dates, expiry_days, *roll, *next_expiry.values()):
        array.flags.writeable = False
    return _Calendar(dates, expiry_days, roll, next_expiry)


def simulate(
    config: MarketConfig,
    scenario: str,
    n_days: int,
    seeds: Sequence[int] | np.ndarray,
    *,
    scenarios: ScenarioBook | None = None,
) -> MarketPath:
    """Simulate ``len(seeds)`` paths of ``n_days`` trading days of scenario or mix ``scenario``.

    Path ``i`` depends only on ``seeds[i]`` (and the config), not on the batch. Returns a
    :class:`MarketPath` whose ``scenario`` codes index into ``scenarios.names``.

    >>> from thetagym.market.params import MarketConfig
    >>> path = simulate(MarketConfig(), "calm", n_days=5, seeds=[1, 2])
    >>> path.index.shape, path.n_days, path.scenario_names[path.scenario[0]]
    ((2, 21), 5, 'calm')
    """
    book = scenarios or _BUILTIN
    weights = book.weights(scenario)
    if n_days < 1:
        raise ValueError(f"n_days must be at least 1, got {n_days}")
    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
    if seeds.size == 0:
        raise ValueError("seeds must hold at least one seed (one per path)")
    n_paths = int(seeds.size)
    bpd = config.bars_per_day
    n_bars = n_days * bpd
    base_lengths = _bar_lengths(config)
    lengths = np.tile(base_lengths, n_days)  # (n_bars,)
    pricing = config.pricing
    multiplier = pricing.variance_multiplier
    weight_1m = float(average_weight(pricing.mean_reversion, VIX_HORIZON))
    vix_constant = pricing.long_variance * (1.0 - weight_1m) + pricing.jump_variance
    vix_slope = weight_1m * multiplier  # VIX^2 = vix_constant + vix_slope * v+  (decimal)

    names = list(weights)
    cumulative = np.cumsum([weights[n] for n in names])
    cumulative /= cumulative[-1]
    cumulative_weights = cumulative.tolist()
    codes = {name: i for i, name in enumerate(book.names)}

    # Per-path parameters and all random shocks, drawn path by path (rows are paths here).
    kappa = np.empty(n_paths)
    xi = np.empty(n_paths)
    rho = np.empty(n_paths)
    v0 = np.empty(n_paths)
    loading = config.jumps.variance_loading
    drift_rows = np.empty((n_paths, n_days))  # log drift per year, without the -v/2 term
    theta_rows = np.empty((n_paths, n_days))
    normals = np.empty((n_paths, 3, n_bars))
    counts = np.empty((n_paths, n_bars))
    jump_mean_rows = np.empty((n_paths, n_days))
    jump_std = np.empty(n_paths)
    scenario_code = np.empty(n_paths, dtype=np.int64)
    # Shock events in path order (so sorted by path row, then bar, as bar_recursion requires).
    event_bar: list[int] = []
    event_row: list[int] = []
    event_gap: list[float] = []
    event_multiple: list[float] = []
    days = np.arange(n_days)
    templates: dict[str, _Template] = {}  # of the scenarios drawn so far
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        u_scenario, u_event, u_stress, u_phase, u_vix = rng.random(5)
        name = _choose(float(u_scenario), names, cumulative_weights)
        spec: ScenarioConfig = book.scenarios[name]
        scenario_code[i] = codes[name]
        template = templates.get(name)
        if template is None:
            template = templates[name] = _template(config, spec, n_days)
        kappa[i], xi[i], rho[i], jump_std[i] = template.constants
        premium, theta, intensity, jump_mean = template.daily
        if spec.drift_swing > 0.0:
            period = spec.drift_swing_days
            phase = int(u_phase * 2 * period)
            sign = np.where(((days + phase) // period) % 2 == 0, 1.0, -1.0)
            premium = premium + spec.drift_swing * sign
        shock = spec.shock
        if shock is not None:
            premium, theta, intensity, jump_mean = (a.copy() for a in (premium, theta, intensity, jump_mean))
            low, high = shock.window
            first = min(max(math.ceil(low * (n_days - 1)), 0), n_days - 1)
            last = min(max(math.floor(high * (n_days - 1)), first), n_days - 1)
            event_day = first + min(int(u_event * (last - first + 1)), last - first)
            short, long = shock.stress_days
            stress = short + min(int(u_stress * (long - short + 1)), long - short)
            window = slice(event_day, event_day + stress)
            premium[window] = shock.stress_equity_premium
            theta[window] = shock.stress_long_variance
            intensity[window] = shock.stress_jump_intensity
            jump_mean[window] = shock.stress_jump_mean
            event_bar.append(event_day * bpd + 1)
            event_row.append(i)
            event_gap.append(math.log1p(shock.index_gap))
            event_multiple.append(shock.vix_multiplier)
        drift_rows[i] = premium - intensity * np.expm1(jump_mean + 0.5 * jump_std[i] ** 2)
        theta_rows[i] = theta
        jump_mean_rows[i] = jump_mean

        # The initial VIX is log-normal around the scenario's: its normal from a uniform draw.
        z0 = float(ndtri(min(max(u_vix, 1e-12), 1.0 - 1e-12)))
        initial_vix = template.initial_vix * math.exp(template.dispersion * z0 - 0.5 * template.dispersion**2)
        v0[i] = max((initial_vix**2 - vix_constant) / vix_slope, 1e-4)

        rng.standard_normal(out=normals[i])
        counts[i] = rng.poisson(np.repeat(intensity, bpd) * lengths)

    # Precompute everything that does not depend on the state, (n_paths, n_bars) like the shocks
    # (C-contiguous: per-day rows spread over their bars with np.repeat, the kernel's layout).
    jumps = (
        counts * np.repeat(jump_mean_rows, bpd, axis=1) + np.sqrt(counts) * jump_std[:, None] * normals[:, 2]
    )
    z_index = normals[:, 0]
    z_variance = normals[:, 1]
    root_h = np.sqrt(lengths)
    bar_drift = np.repeat(config.carry + drift_rows, bpd, axis=1) * lengths + jumps
    half_h = 0.5 * lengths
    index_shock = z_index * root_h
    variance_shock = (rho[:, None] * z_index + np.sqrt(1.0 - rho * rho)[:, None] * z_variance) * (
        xi[:, None] * root_h
    )
    variance_pull = (
        kappa[:, None] * np.repeat(theta_rows, bpd, axis=1) * lengths + loading * np.minimum(jumps, 0.0) ** 2
    )
    variance_decay = 1.0 - kappa[:, None] * lengths
    contiguous = np.ascontiguousarray  # no copy: they are; the kernel's one signature requires it
    log_index, variance = bar_recursion(
        contiguous(bar_drift),
        half_h,
        contiguous(index_shock),
        contiguous(variance_decay),
        contiguous(variance_pull),
        contiguous(variance_shock),
        v0,
        np.array(event_bar, dtype=np.int64),
        np.array(event_row, dtype=np.int64),
        np.array(event_gap, dtype=np.float64),
        np.array(event_multiple, dtype=np.float64),
        vix_constant,
        vix_slope,
    )
    return _assemble(config, book, n_days, log_index, variance, scenario_code)


def _assemble(
    config: MarketConfig,
    book: ScenarioBook,
    n_days: int,
    log_index: np.ndarray,
    variance: np.ndarray,
    scenario_code: np.ndarray,
) -> MarketPath:
    """Derive every series of the :class:`MarketPath` from the simulated index and variance."""
    n_paths = log_index.shape[0]
    bpd = config.bars_per_day
    pricing = config.pricing
    index = config.initial_index * np.exp(log_index)
    variance = np.ascontiguousarray(variance)
    implied = pricing.variance_multiplier * variance
    long = np.full(implied.shape, pricing.long_variance)
    kappa = np.full(n_paths, pricing.mean_reversion)
    jump = np.full(n_paths, pricing.jump_variance)
    curvature = np.full(n_paths, pricing.curvature)
    vix = vix_level(implied, pricing.long_variance, pricing.mean_reversion, pricing.jump_variance)
    vix3m = vix_level(
        implied, pricing.long_variance, pricing.mean_reversion, pricing.jump_variance, VIX3M_HORIZON
    )
    low, high = pricing.skew_bounds
    skew = np.clip(pricing.skew + pricing.skew_stress * (vix - pricing.skew_reference_vix), low, high)

    calendar = _calendar(config.start_date, n_days)
    vxx, inverse, _, _ = etp_series(
        (implied, long, kappa, jump),
        pricing.vol_of_variance,
        bpd,
        calendar.expiry_days,
        config.vix.vxx_initial_price,
        config.vix.inverse_initial_price,
        config.vix.inverse_floor,
        schedule=calendar.roll,
    )
    closes = index[:, ::bpd]
    # RSI and MACD of the index and the VIX in one call each (rows are independent).
    both_closes = np.concatenate([closes, vix[:, ::bpd]])
    both_rsi = indicators.rsi(both_closes)
    both_macd = indicators.macd(both_closes)
    return MarketPath(
        bars_per_day=bpd,
        dates=np.tile(calendar.dates, (n_paths, 1)),
        index=index,
        variance=variance,
        implied_variance=implied,
        skew=skew,
        vix=vix,
        vix3m=vix3m,
        vxx=vxx,
        inverse_vix=inverse,
        realised_volatility=indicators.per_bar(indicators.realised_volatility(closes), bpd),
        index_rsi=indicators.per_bar(both_rsi[:n_paths], bpd),
        index_macd=indicators.per_bar(both_macd[:n_paths], bpd),
        vix_rsi=indicators.per_bar(both_rsi[n_paths:], bpd),
        vix_macd=indicators.per_bar(both_macd[n_paths:], bpd),
        long_implied_variance=long,
        implied_mean_reversion=kappa,
        jump_variance=jump,
        curvature=curvature,
        scenario=scenario_code,
        scenario_names=book.names,
        next_expiry={k: np.tile(v, (n_paths, 1)) for k, v in calendar.next_expiry.items()},
        rate=config.rate,
        carry=config.carry,
        vol_of_implied_variance=pricing.vol_of_variance,
    )


def concatenate(paths: Sequence[MarketPath]) -> MarketPath:
    """One batch holding the paths of ``paths`` in order (same length and scenario names)."""
    first = paths[0]
    if len(paths) == 1:
        return first
    for other in paths[1:]:
        if other.index.shape[1:] != first.index.shape[1:] or other.scenario_names != first.scenario_names:
            raise ValueError("paths to concatenate must have the same length and scenario names")
    fields = ("dates", *PER_BAR_FIELDS, *PER_PATH_FIELDS, "scenario")
    changes: dict[str, Any] = {name: np.concatenate([getattr(p, name) for p in paths]) for name in fields}
    changes["next_expiry"] = {
        key: np.concatenate([p.next_expiry[key] for p in paths]) for key in first.next_expiry
    }
    return dataclasses.replace(first, **changes)


def simulate_in_chunks(
    config: MarketConfig,
    scenario: str,
    n_days: int,
    seeds: Sequence[int] | np.ndarray,
    *,
    chunk: int = 16,
    scenarios: ScenarioBook | None = None,
    progress: Callable[[int], object] | None = None,
) -> MarketPath:
    """:func:`simulate` ``chunk`` paths at a time (identical result, bounded memory), calling
    ``progress(n)`` after each chunk of ``n`` paths."""
    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
    parts = []
    for start in range(0, seeds.size, chunk):
        part = seeds[start : start + chunk]
        parts.append(simulate(config, scenario, n_days, part, scenarios=scenarios))
        if progress is not None:
            progress(int(part.size))
    return concatenate(parts)
