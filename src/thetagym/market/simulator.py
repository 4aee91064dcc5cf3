"""Batched simulation of market paths: Bates-style index under P, surface and VIX complex under Q.

Per bar of length ``h`` (years; the first bar of a day carries ``overnight_variance_share`` of the
day, the others share the rest), with ``v+ = max(v, 0)`` (full-truncation Euler):

    log S += (r - q + premium - lambda k - v+/2) h + sqrt(v+ h) Z1 + J
    v     += kappa (theta - v+) h + xi sqrt(v+ h) (rho Z1 + sqrt(1 - rho^2) Z2) + loading * min(J, 0)^2

``J`` is the sum of a Poisson(``lambda h``) number of ``N(mu_J, sigma_J^2)`` log-jumps and
``k = E[exp(J) - 1]`` compensates them, so the expected return is ``r - q + premium``. A scenario's
shock replaces its bar's move: the index opens ``index_gap`` away from the previous close and the
variance jumps to the level at which VIX is ``vix_multiplier`` times the previous close's VIX.

Under Q the spot variance is ``implied_variance = variance_multiplier * v+``; the surface constants
(long-run level, mean reversion, jump variance, curvature) are shared by all paths. VIX, VIX3M,
futures and ETPs follow from it (:mod:`thetagym.market.vix`).

Randomness: path ``i`` draws everything from ``np.random.default_rng(seeds[i])`` in a fixed order
(five uniforms: scenario, shock day, stress length, swing phase, initial VIX; then all normal
shocks of the path in one call and the jump counts in another), so a path
is the same whatever batch it runs in; the time recursion is vectorised over paths.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from thetagym.market import indicators
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR, trading_days
from thetagym.market.params import VIX3M_HORIZON, VIX_HORIZON, MarketConfig, average_weight
from thetagym.market.path import PER_BAR_FIELDS, PER_PATH_FIELDS, MarketPath, next_expiry_table
from thetagym.market.scenarios import ScenarioBook, ScenarioConfig
from thetagym.market.vix import etp_series, futures_expiry_days, vix_level

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


def _choose(u: float, names: list[str], cumulative: np.ndarray) -> str:
    return names[min(int(np.searchsorted(cumulative, u, side="right")), len(names) - 1)]


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
    events: dict[int, list[tuple[int, float, float]]] = {}
    days = np.arange(n_days)
    day_of_bar = np.repeat(days, bpd)
    templates = {name: _template(config, book.scenarios[name], n_days) for name in names}
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        u_scenario, u_event, u_stress, u_phase, u_vix = rng.random(5)
        name = _choose(float(u_scenario), names, cumulative)
        spec: ScenarioConfig = book.scenarios[name]
        scenario_code[i] = codes[name]
        template = templates[name]
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
            events.setdefault(event_day * bpd + 1, []).append(
                (i, math.log1p(shock.index_gap), shock.vix_multiplier)
            )
        drift_rows[i] = premium - intensity * np.expm1(jump_mean + 0.5 * jump_std[i] ** 2)
        theta_rows[i] = theta
        jump_mean_rows[i] = jump_mean

        # The initial VIX is log-normal around the scenario's: its normal from a uniform draw.
        z0 = float(ndtri(min(max(u_vix, 1e-12), 1.0 - 1e-12)))
        initial_vix = template.initial_vix * math.exp(template.dispersion * z0 - 0.5 * template.dispersion**2)
        v0[i] = max((initial_vix**2 - vix_constant) / vix_slope, 1e-4)

        rng.standard_normal(out=normals[i])
        counts[i] = rng.poisson(np.repeat(intensity, bpd) * lengths)

    jumps = (counts * jump_mean_rows[:, day_of_bar] + np.sqrt(counts) * jump_std[:, None] * normals[:, 2]).T
    z_index = normals[:, 0].T
    z_variance = normals[:, 1].T
    drift_day = config.carry + drift_rows.T
    theta_day = theta_rows.T

    # Precompute everything that does not depend on the state.
    root_h = np.sqrt(lengths)[:, None]
    bar_drift = drift_day[day_of_bar] * lengths[:, None] + jumps  # (n_bars, n_paths)
    half_h = 0.5 * lengths[:, None]
    index_shock = z_index * root_h
    variance_shock = (rho * z_index + np.sqrt(1.0 - rho * rho) * z_variance) * (xi * root_h)
    variance_pull = kappa * theta_day[day_of_bar] * lengths[:, None] + loading * np.minimum(jumps, 0.0) ** 2
    variance_decay = 1.0 - kappa * lengths[:, None]

    log_index = np.empty((n_bars + 1, n_paths))
    variance = np.empty((n_bars + 1, n_paths))
    log_index[0] = 0.0
    variance[0] = v0
    x = np.zeros(n_paths)
    v = v0.copy()
    for b in range(n_bars):
        vp = np.maximum(v, 0.0)
        sv = np.sqrt(vp)
        x = x + bar_drift[b] - half_h[b] * vp + sv * index_shock[b]
        v = variance_decay[b] * vp + variance_pull[b] + sv * variance_shock[b] + (v - vp)
        event = events.get(b + 1)
        if event is not None:
            rows = np.array([e[0] for e in event])
            gaps = np.array([e[1] for e in event])
            multiples = np.array([e[2] for e in event])
            previous = vix_constant + vix_slope * np.maximum(variance[b, rows], 0.0)
            x[rows] = log_index[b, rows] + gaps
            v[rows] = np.maximum((multiples**2 * previous - vix_constant) / vix_slope, 0.0)
        log_index[b + 1] = x
        variance[b + 1] = v
    # Full truncation: the state may dip below zero, the variance used everywhere is v+.
    np.maximum(variance, 0.0, out=variance)

    return _assemble(config, book, n_days, log_index.T, variance.T, scenario_code)


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
    long = np.full(n_paths, pricing.long_variance)
    kappa = np.full(n_paths, pricing.mean_reversion)
    jump = np.full(n_paths, pricing.jump_variance)
    curvature = np.full(n_paths, pricing.curvature)
    vix = vix_level(implied, pricing.long_variance, pricing.mean_reversion, pricing.jump_variance)
    vix3m = vix_level(
        implied, pricing.long_variance, pricing.mean_reversion, pricing.jump_variance, VIX3M_HORIZON
    )
    low, high = pricing.skew_bounds
    skew = np.clip(pricing.skew + pricing.skew_stress * (vix - pricing.skew_reference_vix), low, high)

    dates_row = trading_days(config.start_date, n_days)
    vxx, inverse, _, _ = etp_series(
        (implied, long, kappa, jump),
        pricing.vol_of_variance,
        bpd,
        futures_expiry_days(dates_row),
        config.vix.vxx_initial_price,
        config.vix.inverse_initial_price,
        config.vix.inverse_floor,
    )
    closes = index[:, ::bpd]
    vix_closes = vix[:, ::bpd]
    expiries = next_expiry_table(dates_row[None, :])
    return MarketPath(
        bars_per_day=bpd,
        dates=np.tile(dates_row, (n_paths, 1)),
        index=index,
        variance=variance,
        implied_variance=implied,
        skew=skew,
        vix=vix,
        vix3m=vix3m,
        vxx=vxx,
        inverse_vix=inverse,
        realised_volatility=indicators.per_bar(indicators.realised_volatility(closes), bpd),
        index_rsi=indicators.per_bar(indicators.rsi(closes), bpd),
        index_macd=indicators.per_bar(indicators.macd(closes), bpd),
        vix_rsi=indicators.per_bar(indicators.rsi(vix_closes), bpd),
        vix_macd=indicators.per_bar(indicators.macd(vix_closes), bpd),
        long_implied_variance=long,
        implied_mean_reversion=kappa,
        jump_variance=jump,
        curvature=curvature,
        scenario=scenario_code,
        scenario_names=book.names,
        next_expiry={k: np.tile(v, (n_paths, 1)) for k, v in expiries.items()},
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
