"""Scalar numba pricing kernels: against a plain numpy reference (the formulas as they were before
they were compiled), against scipy's normal distribution, through the public broadcasting
functions, and called from inside other ``@njit`` code."""

from __future__ import annotations

import itertools
from dataclasses import fields

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from thetagym.pricing import (
    SpreadModel,
    bid_ask,
    black76_greeks,
    black76_price,
    futures_bid_ask,
    half_spread,
)
from thetagym.pricing.kernels import (
    LARGE_TICK,
    NUM_SPREAD_PARAMETERS,
    black76_greeks_scalar,
    black76_price_scalar,
    futures_bid_ask_scalar,
    ndtr,
    ndtri,
    option_bid_ask_scalar,
    option_half_spread_scalar,
    spread_parameters,
)

TINY = 1e-300

# --- numpy reference ---------------------------------------------------------------------------


def reference_greeks(
    forward: np.ndarray,
    strike: np.ndarray,
    time_to_expiry: np.ndarray,
    volatility: np.ndarray,
    is_call: np.ndarray,
    rate: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Black-76 (price, delta, gamma, vega, theta) as broadcasting numpy, scipy's ndtr."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        forward = forward + TINY
        time_to_expiry = np.maximum(time_to_expiry, 0.0)
        sqrt_time = np.sqrt(time_to_expiry)
        std = volatility * sqrt_time + TINY
        d1 = np.log(forward / strike) / std + 0.5 * std
        omega = np.where(is_call, 1.0, -1.0)
        discount = np.exp(-rate * time_to_expiry)
        delta = discount * omega * special.ndtr(omega * d1)
        cdf2 = discount * omega * special.ndtr(omega * (d1 - std))
        density = discount * np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)
        price = forward * delta - strike * cdf2
        forward_gamma = np.where(std > 2.0 * TINY, density / std, 0.0)
        theta = -0.5 * volatility**2 * forward * forward_gamma + rate * price
        return price, delta, forward_gamma / forward, density * forward * sqrt_time, theta


def reference_half_spread(
    model: SpreadModel, mid: np.ndarray, z: np.ndarray, time_to_expiry: np.ndarray, volatility: np.ndarray
) -> np.ndarray:
    """The half-spread as numpy, in the order of operations of the kernel (no transcendental
    functions: the two agree to the last bit)."""
    base = mid * model.relative_half_spread + model.absolute_half_spread
    wings = np.fmin(np.abs(z), model.moneyness_cap) * model.moneyness_widening + 1.0
    scale = model.expiry_scale_days / 365.0
    expiry = (model.expiry_widening * scale) / (np.maximum(time_to_expiry, 0.0) + scale) + 1.0
    vol = np.maximum(volatility, model.volatility_floor) * (1.0 / model.reference_volatility)
    tick = np.where(mid <= model.tick_threshold, model.small_tick, model.large_tick)
    return np.maximum(base * wings * expiry * vol, 0.5 * tick)


def reference_bid_ask(
    model: SpreadModel, mid: np.ndarray, z: np.ndarray, time_to_expiry: np.ndarray, volatility: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    half = reference_half_spread(model, mid, z, time_to_expiry, volatility)

    def tick(price: np.ndarray) -> np.ndarray:
        return np.where(price > model.tick_threshold + 1e-9, model.large_tick, model.small_tick)

    low, high = mid - half, mid + half
    bid = np.maximum(np.floor(low / tick(low) + 1e-9) * tick(low), 0.0)
    ask = np.ceil(high / tick(high) - 1e-9) * tick(high)
    return bid, ask


# --- grids -------------------------------------------------------------------------------------


def degenerate_grid() -> tuple[np.ndarray, ...]:
    """Every combination of zero, tiny, expired, at-the-money and extreme inputs."""
    grid = itertools.product(
        [0.0, 1e-300, 1e-8, 100.0, 5000.0],  # forward
        [0.0, 1e-8, 100.0, 4800.0, 5000.0, 5200.0, 1e12],  # strike
        [-0.1, 0.0, 1e-12, 1.0 / 365.0, 0.5, 3.0],  # time to expiry
        [0.0, 1e-9, 0.2, 1.5],  # volatility
        [True, False],
        [0.0, 0.04, -0.01],  # rate
    )
    return tuple(np.array(column) for column in zip(*grid, strict=True))


def random_grid(size: int = 4000, seed: int = 7) -> tuple[np.ndarray, ...]:
    """ES-like options, from deep in to far out of the money, hours to two years."""
    rng = np.random.default_rng(seed)
    forward = 5000.0 * np.exp(rng.normal(0.0, 0.02, size))
    strike = forward * np.exp(rng.normal(0.0, 0.3, size))
    time_to_expiry = np.exp(rng.uniform(np.log(1e-4), np.log(2.0), size))
    volatility = rng.uniform(0.02, 1.2, size)
    is_call = rng.random(size) < 0.5
    rate = rng.uniform(-0.01, 0.08, size)
    return forward, strike, time_to_expiry, volatility, is_call, rate


def scalar_greeks(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    rows = [black76_greeks_scalar(f, k, t, v, bool(c), r) for f, k, t, v, c, r in zip(*columns, strict=True)]
    return tuple(np.array(column) for column in zip(*rows, strict=True))


def assert_close_to_reference(kernel: tuple[np.ndarray, ...], columns: tuple[np.ndarray, ...]) -> None:
    """1e-12 relative; the price (a difference of two terms of the size of forward and strike,
    which may cancel) also within 1e-14 of ``forward + strike`` in absolute terms."""
    forward, strike = columns[0], columns[1]
    reference = reference_greeks(*columns)
    for name, ours, theirs in zip(
        ("price", "delta", "gamma", "vega", "theta"), kernel, reference, strict=True
    ):
        assert np.all(np.isfinite(ours)), name
        scale = 1e-14 * (forward + strike) if name in ("price", "theta") else 0.0
        if name == "theta":  # theta carries rate * price
            scale = scale * np.abs(columns[5])
        excess = np.abs(ours - theirs) - (1e-12 * np.abs(theirs) + scale + 1e-300)
        assert excess.max() <= 0.0, (name, np.argmax(excess))


# --- normal distribution -----------------------------------------------------------------------


def test_ndtr_matches_scipy() -> None:
    # N(x) is ill-conditioned in the lower tail (relative sensitivity ~ x^2 to an error in x), so
    # the two implementations may differ by a few ulps times x^2 there.
    x = np.concatenate([np.linspace(-37.0, 9.0, 20001), [0.0, -1e-300, 1e-300]])
    ours = np.array([ndtr(value) for value in x])
    relative = np.abs(ours - special.ndtr(x)) / special.ndtr(x)
    assert np.all(relative <= 2e-15 * (1.0 + x * x))
    assert ndtr(-np.inf) == 0.0 and ndtr(np.inf) == 1.0 and np.isnan(ndtr(np.nan))


def test_ndtri_matches_scipy_to_1e_14_relative() -> None:
    rng = np.random.default_rng(0)
    lower = np.exp(rng.uniform(np.log(1e-10), np.log(0.5), 50_000))
    centre = 0.5 + np.array([-1.0, 1.0])[:, None] * np.exp(rng.uniform(np.log(1e-15), np.log(0.45), 5000))
    p = np.concatenate([lower, 1.0 - lower, centre.ravel(), rng.uniform(1e-10, 1.0 - 1e-10, 50_000)])
    p = np.concatenate([p, np.linspace(1e-10, 1.0 - 1e-10, 10_001), [0.5, 0.02425, 0.97575]])
    ours = np.array([ndtri(value) for value in p])
    reference = special.ndtri(p)
    relative = np.abs(ours - reference) / np.maximum(np.abs(reference), 1e-300)
    assert relative.max() <= 1e-14, p[np.argmax(relative)]


def test_ndtri_limits_and_round_trip() -> None:
    assert ndtri(0.0) == -np.inf and ndtri(1.0) == np.inf and ndtri(0.5) == 0.0
    assert np.isnan(ndtri(-0.1)) and np.isnan(ndtri(1.5)) and np.isnan(ndtri(np.nan))
    # Above ~0.5 the probability itself loses the digits of 1 - N(x): round trip in the lower part.
    for x in np.linspace(-30.0, 0.5, 306):
        assert ndtri(ndtr(x)) == pytest.approx(x, rel=1e-13, abs=1e-15)


# --- Black-76 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", [degenerate_grid, random_grid])
def test_scalar_greeks_match_the_numpy_reference(grid) -> None:
    columns = grid()
    assert_close_to_reference(scalar_greeks(*columns), columns)


@pytest.mark.parametrize("grid", [degenerate_grid, random_grid])
def test_public_greeks_are_the_scalar_kernel_element_by_element(grid) -> None:
    columns = grid()
    expected = scalar_greeks(*columns)
    for part in (slice(None), slice(0, 200)):  # a large batch and a small one (two code paths)
        for ours, theirs in zip(black76_greeks(*(c[part] for c in columns)), expected, strict=True):
            np.testing.assert_array_equal(ours, theirs[part])
    price = [black76_price_scalar(f, k, t, v, bool(c), r) for f, k, t, v, c, r in zip(*columns, strict=True)]
    np.testing.assert_array_equal(black76_price(*columns), price)


@pytest.mark.parametrize("grid", [degenerate_grid, random_grid])
def test_price_kernel_equals_the_price_of_the_greeks_kernel(grid) -> None:
    columns = grid()
    forward, strike = columns[0], columns[1]
    price = np.array(
        [black76_price_scalar(f, k, t, v, bool(c), r) for f, k, t, v, c, r in zip(*columns, strict=True)]
    )
    # The two discount at different points (the terms, or their difference) and may cancel.
    tolerance = 1e-12 * price + 1e-14 * (forward + strike) + 1e-300
    assert np.all(np.abs(price - scalar_greeks(*columns)[0]) <= tolerance)
    assert np.all(np.abs(price - reference_greeks(*columns)[0]) <= tolerance)


def test_degenerate_limits_of_the_scalar_kernel() -> None:
    # Expired: intrinsic value, step delta (half at the money), no gamma, vega or theta.
    assert black76_greeks_scalar(105.0, 100.0, 0.0, 0.2, True, 0.0) == (5.0, 1.0, 0.0, 0.0, 0.0)
    assert black76_greeks_scalar(100.0, 100.0, -1.0, 0.2, False, 0.0)[:3] == (0.0, -0.5, 0.0)
    # Zero volatility: discounted intrinsic value; theta only the rate term.
    price, delta, gamma, vega, theta = black76_greeks_scalar(110.0, 100.0, 1.0, 0.0, True, 0.05)
    assert price == pytest.approx(10.0 * np.exp(-0.05)) and delta == pytest.approx(np.exp(-0.05))
    assert gamma == 0.0 and vega == 0.0 and theta == pytest.approx(0.05 * price)
    # At the money with zero volatility: the one-sided vega limit discount F sqrt(T) / sqrt(2 pi).
    assert black76_greeks_scalar(100.0, 100.0, 0.25, 0.0, True, 0.0)[3] == pytest.approx(
        100.0 * 0.5 / np.sqrt(2.0 * np.pi)
    )
    # Zero strike: a call is the discounted forward, a put is worthless.
    assert black76_greeks_scalar(100.0, 0.0, 0.5, 0.2, True, 0.0)[:2] == (100.0, 1.0)
    assert black76_greeks_scalar(100.0, 0.0, 0.5, 0.2, False, 0.0)[:2] == (0.0, 0.0)


def _zero_or(low: float, high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.floats(low, high))


@settings(max_examples=300, deadline=None)
@given(
    _zero_or(1e-3, 1e5),
    _zero_or(1e-3, 1e5),
    _zero_or(-1.0, 5.0),
    _zero_or(1e-6, 3.0),
    st.booleans(),
    _zero_or(-0.05, 0.2),
)
def test_scalar_greeks_match_the_reference_for_any_inputs(
    forward: float, strike: float, time_to_expiry: float, volatility: float, is_call: bool, rate: float
) -> None:
    columns = tuple(np.array([x]) for x in (forward, strike, time_to_expiry, volatility, is_call, rate))
    assert_close_to_reference(scalar_greeks(*columns), columns)


def test_public_functions_broadcast_and_accept_int_and_float_flags() -> None:
    forward = np.array([[4900.0], [5000.0], [5100.0]])
    strike = np.array([4800.0, 5000.0, 5200.0, 5400.0])
    is_call = np.array([[[True]], [[False]]])  # more dimensions than the rest
    greeks = black76_greeks(forward, strike, 0.1, 0.2, is_call, 0.04)
    assert all(np.shape(x) == (2, 3, 4) for x in greeks)
    assert np.isfinite(greeks.gamma).all() and greeks.gamma.flags.writeable
    for flags in (is_call.astype(int), is_call.astype(float)):
        for ours, theirs in zip(black76_greeks(forward, strike, 0.1, 0.2, flags, 0.04), greeks, strict=True):
            np.testing.assert_array_equal(ours, theirs)
    assert isinstance(black76_greeks(100.0, 100.0, 0.5, 0.2, True).price, np.float64)
    assert isinstance(black76_price(100.0, 100, 1, 0.2, 1), np.float64)


def test_large_broadcast_batches_give_the_same_greeks_as_small_ones() -> None:
    """Above a few hundred options black76_greeks runs a compiled loop over numpy's iterator
    instead of the gufunc: same kernel, same results, any strides, casts and broadcasting."""
    rng = np.random.default_rng(5)
    forward = (5000.0 * np.exp(rng.normal(0.0, 0.02, (60, 200))))[:, ::2, None]  # not contiguous
    volatility = rng.uniform(0.05, 0.9, (60, 100, 1))
    strike = np.array([[[4500.0, 5000.0, 5600.0]]], dtype=np.float32)
    is_call = np.array([1, 0, 1])  # ints take the float loop
    large = black76_greeks(forward, strike, 0.02, volatility, is_call, 0.04)
    assert all(x.shape == (60, 100, 3) for x in large)
    for row in range(60):
        small = black76_greeks(forward[row], strike[0], 0.02, volatility[row], is_call.astype(bool), 0.04)
        for ours, theirs in zip(large, small, strict=True):
            np.testing.assert_array_equal(ours[row], theirs)


# --- spreads -----------------------------------------------------------------------------------


def spread_grid(size: int = 3000, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    mid = np.concatenate([rng.uniform(0.0, 8.0, size), rng.uniform(0.0, 400.0, size)])
    mid[:40] = np.repeat([0.0, 4.95, 5.0, 5.0 + 1e-10, 5.25, 0.05, 0.15, np.nan], 5)
    z = rng.normal(0.0, 3.0, mid.size)
    z[::9] = np.nan
    time_to_expiry = rng.uniform(-0.01, 0.5, mid.size)
    time_to_expiry[::5] = 0.0
    volatility = rng.uniform(0.02, 1.0, mid.size)
    return mid, z, time_to_expiry, volatility


@pytest.mark.parametrize(
    "model", [SpreadModel(), SpreadModel(large_tick=0.5, tick_threshold=3.0, futures_spread_ticks=3)]
)
def test_option_spread_kernels_equal_the_reference_and_the_public_functions(model: SpreadModel) -> None:
    parameters = spread_parameters(model)
    mid, z, time_to_expiry, volatility = spread_grid()
    half = np.array([option_half_spread_scalar(parameters, *row) for row in zip(*spread_grid(), strict=True)])
    quotes = np.array([option_bid_ask_scalar(parameters, *row) for row in zip(*spread_grid(), strict=True)])
    reference = reference_bid_ask(model, mid, z, time_to_expiry, volatility)
    np.testing.assert_array_equal(half, reference_half_spread(model, mid, z, time_to_expiry, volatility))
    np.testing.assert_array_equal(quotes[:, 0], reference[0])
    np.testing.assert_array_equal(quotes[:, 1], reference[1])
    np.testing.assert_array_equal(half, half_spread(model, mid, z, time_to_expiry, volatility))
    bid, ask = bid_ask(model, mid, z, time_to_expiry, volatility)
    np.testing.assert_array_equal(bid, quotes[:, 0])
    np.testing.assert_array_equal(ask, quotes[:, 1])


@pytest.mark.parametrize("width", [1, 2, 3])
def test_futures_kernel_equals_the_reference_and_the_public_function(width: int) -> None:
    model = SpreadModel(futures_spread_ticks=width)
    price = np.concatenate([5000.0 + np.arange(-100, 101) * 0.05, [0.0, 0.1, 1e6 + 0.3]])
    quotes = np.array([futures_bid_ask_scalar(spread_parameters(model), p) for p in price])
    bid = np.floor(price / 0.25 + 1e-9 - 0.5 * (width - 1)) * 0.25
    np.testing.assert_array_equal(quotes[:, 0], bid)
    np.testing.assert_array_equal(quotes[:, 1], bid + 0.25 * width)
    assert np.all((quotes[:, 0] <= price + 1e-9) & (price <= quotes[:, 1] + 1e-9))
    public = futures_bid_ask(model, price)
    np.testing.assert_array_equal(public[0], quotes[:, 0])
    np.testing.assert_array_equal(public[1], quotes[:, 1])


def test_spread_parameters_hold_every_field_at_its_index() -> None:
    model = SpreadModel(
        small_tick=0.1, large_tick=0.5, tick_threshold=3.0, futures_tick=0.5, futures_spread_ticks=2,
        absolute_half_spread=0.03, relative_half_spread=0.002, moneyness_widening=0.4, moneyness_cap=5.0,
        expiry_widening=1.5, expiry_scale_days=6.0, reference_volatility=0.2, volatility_floor=0.09,
    )  # fmt: skip
    parameters = spread_parameters(model)
    assert parameters.dtype == np.float64 and parameters.shape == (NUM_SPREAD_PARAMETERS,)
    assert sorted(parameters.tolist()) == sorted(float(getattr(model, f.name)) for f in fields(model))
    assert parameters[LARGE_TICK] == 0.5


# --- called from compiled code -----------------------------------------------------------------


@numba.njit
def _price_book(parameters, forward, strike, time_to_expiry, volatility, is_call, rate):  # type: ignore[no-untyped-def]
    """A compiled caller: greeks, price and quotes of every option, and a quantile."""
    out = np.empty((forward.size, 9))
    for i in range(forward.size):
        greeks = black76_greeks_scalar(
            forward[i], strike[i], time_to_expiry[i], volatility[i], is_call[i], rate[i]
        )
        for j in range(5):
            out[i, j] = greeks[j]
        out[i, 5] = black76_price_scalar(
            forward[i], strike[i], time_to_expiry[i], volatility[i], is_call[i], rate[i]
        )
        bid, ask = option_bid_ask_scalar(parameters, greeks[0], 1.0, time_to_expiry[i], volatility[i])
        out[i, 6] = bid
        out[i, 7] = ask
        out[i, 8] = ndtri(ndtr(0.01 * i - 1.5))
    return out


def test_kernels_can_be_called_from_njit_code() -> None:
    columns = random_grid(200)
    parameters = spread_parameters(SpreadModel())
    out = _price_book(parameters, *columns)
    np.testing.assert_array_equal(out[:, :5], np.column_stack(scalar_greeks(*columns)))
    np.testing.assert_array_equal(out[:, 5], black76_price(*columns))
    bid, ask = bid_ask(SpreadModel(), out[:, 0], 1.0, columns[2], columns[3])
    np.testing.assert_array_equal(out[:, 6], bid)
    np.testing.assert_array_equal(out[:, 7], ask)
    np.testing.assert_allclose(out[:, 8], 0.01 * np.arange(200) - 1.5, rtol=1e-12, atol=1e-14)
