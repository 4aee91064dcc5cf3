"""Black-76 and Black-Scholes kernels: reference values, identities, limits, Monte Carlo, properties.

Reference values are those of docs/market.md#reference-values-for-pricing-tests.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from thetagym.pricing import (
    Greeks,
    black76_delta,
    black76_gamma,
    black76_greeks,
    black76_price,
    black76_theta,
    black76_vega,
    black_scholes_greeks,
    black_scholes_price,
)

# --- textbook reference values -------------------------------------------------------------------


class TestHullReferenceValues:
    """Hull, Options, Futures and Other Derivatives: S=42, K=40, r=0.10, sigma=0.20, T=0.5."""

    spot, strike, rate, volatility, time = 42.0, 40.0, 0.10, 0.20, 0.5

    def greeks(self, is_call: bool) -> Greeks:
        return black_scholes_greeks(
            self.spot, self.strike, self.time, self.volatility, is_call, rate=self.rate
        )

    def test_call_and_put_prices(self) -> None:
        assert float(self.greeks(True).price) == pytest.approx(4.759422, abs=5e-7)
        assert float(self.greeks(False).price) == pytest.approx(0.808599, abs=5e-7)

    def test_d1_and_d2(self) -> None:
        # With no dividend, call delta = N(d1) and call = S N(d1) - K exp(-rT) N(d2).
        call = self.greeks(True)
        d1 = ndtri(float(call.delta))
        cdf_d2 = (self.spot * float(call.delta) - float(call.price)) / (
            self.strike * np.exp(-self.rate * self.time)
        )
        assert d1 == pytest.approx(0.769263, abs=5e-7)
        assert ndtri(cdf_d2) == pytest.approx(0.627841, abs=5e-7)

    def test_call_greeks(self) -> None:
        call = self.greeks(True)
        assert float(call.delta) == pytest.approx(0.779131, abs=5e-7)
        assert float(call.gamma) == pytest.approx(0.049963, abs=5e-7)
        assert float(call.vega) == pytest.approx(8.813415, abs=5e-7)


class TestHullSecondReferenceValues:
    """Hull: S=49, K=50, r=0.05, sigma=0.20, T=0.3846 (theta per year)."""

    spot, strike, rate, volatility, time = 49.0, 50.0, 0.05, 0.20, 0.3846

    def test_call_price_and_greeks(self) -> None:
        call = black_scholes_greeks(self.spot, self.strike, self.time, self.volatility, True, rate=self.rate)
        assert float(call.price) == pytest.approx(2.4005, abs=5e-5)
        assert float(call.delta) == pytest.approx(0.5216, abs=5e-5)
        # The published 0.06554 is truncated (exactly 0.0655454...), hence the wider tolerance.
        assert float(call.gamma) == pytest.approx(0.06554, abs=1e-5)
        assert float(call.vega) == pytest.approx(12.105, abs=5e-4)
        assert float(call.theta) == pytest.approx(-4.3054, abs=5e-5)

    def test_rho_by_finite_difference(self) -> None:
        # No rho function: d price / d rate at a fixed spot, by central difference.
        step = 1e-6
        up, down = (
            float(black_scholes_price(self.spot, self.strike, self.time, self.volatility, True, r))
            for r in (self.rate + step, self.rate - step)
        )
        assert (up - down) / (2 * step) == pytest.approx(8.9066, abs=5e-4)


def test_haug_black76_call_equals_put_at_the_money_forward() -> None:
    """Haug, Black-76: F = K = 19, T = 0.75, r = 0.10, sigma = 0.28: call = put = 1.701051."""
    prices = black76_price(19.0, 19.0, 0.75, 0.28, np.array([True, False]), rate=0.10)
    np.testing.assert_allclose(prices, [1.701051, 1.701051], atol=5e-7)


class TestHaugQuantLibReferenceValues:
    """Haug / QuantLib test suite values (Black-Scholes with rate r and dividend yield q)."""

    def test_call(self) -> None:
        price = black_scholes_price(60.0, 65.0, 0.25, 0.30, True, rate=0.08)
        assert float(price) == pytest.approx(2.1334, abs=5e-5)

    def test_put_with_dividend_yield(self) -> None:
        price = black_scholes_price(100.0, 95.0, 0.5, 0.20, False, rate=0.10, dividend_yield=0.05)
        assert float(price) == pytest.approx(2.4648, abs=5e-5)

    def test_futures_style_deltas_with_rate_equal_to_dividend(self) -> None:
        greeks = black_scholes_greeks(
            105.0, 100.0, 0.5, 0.36, np.array([True, False]), rate=0.10, dividend_yield=0.10
        )
        np.testing.assert_allclose(greeks.delta, [0.5946, -0.3566], atol=5e-5)
        # r = q makes the forward equal to the spot: Black-76 gives the same delta.
        forward_delta = black76_delta(105.0, 100.0, 0.5, 0.36, np.array([True, False]), 0.10)
        np.testing.assert_allclose(forward_delta, greeks.delta, rtol=1e-14)

    def test_gamma_and_vega(self) -> None:
        greeks = black_scholes_greeks(55.0, 60.0, 0.75, 0.30, True, rate=0.10)
        assert float(greeks.gamma) == pytest.approx(0.0278, abs=5e-5)
        assert float(greeks.vega) == pytest.approx(18.9358, abs=5e-5)


# --- identities ----------------------------------------------------------------------------------


def _grid() -> tuple[np.ndarray, ...]:
    """Orthogonal axes (broadcasting to a 6-D grid): forward, strike, T, vol, is_call, rate."""
    forward = np.array([80.0, 100.0, 125.0]).reshape(-1, 1, 1, 1, 1, 1)
    strike = np.array([60.0, 90.0, 100.0, 110.0, 150.0]).reshape(1, -1, 1, 1, 1, 1)
    time = np.array([0.05, 0.5, 2.0]).reshape(1, 1, -1, 1, 1, 1)
    volatility = np.array([0.1, 0.3, 0.8]).reshape(1, 1, 1, -1, 1, 1)
    is_call = np.array([True, False]).reshape(1, 1, 1, 1, -1, 1)
    rate = np.array([0.0, 0.05]).reshape(1, 1, 1, 1, 1, -1)
    return forward, strike, time, volatility, is_call, rate


def test_black76_put_call_parity_over_grid() -> None:
    forward, strike, time, volatility, _, rate = _grid()
    call = black76_price(forward, strike, time, volatility, True, rate)
    put = black76_price(forward, strike, time, volatility, False, rate)
    parity = np.broadcast_to(np.exp(-rate * time) * (forward - strike), call.shape)
    np.testing.assert_allclose(call - put, parity, rtol=1e-12, atol=1e-12)


def test_black_scholes_put_call_parity_over_grid() -> None:
    spot, strike, time, volatility, _, rate = _grid()
    dividend_yield = np.array([0.0, 0.03]).reshape(2, 1, 1, 1, 1, 1, 1)
    call = black_scholes_price(spot, strike, time, volatility, True, rate, dividend_yield)
    put = black_scholes_price(spot, strike, time, volatility, False, rate, dividend_yield)
    parity = spot * np.exp(-dividend_yield * time) - strike * np.exp(-rate * time)
    parity = np.broadcast_to(parity, call.shape)
    np.testing.assert_allclose(call - put, parity, rtol=1e-12, atol=1e-12)


def test_greeks_have_the_broadcast_shape_of_all_inputs() -> None:
    greeks = black76_greeks(*_grid())
    assert all(value.shape == (3, 5, 3, 3, 2, 2) for value in greeks)
    is_call_only = black76_greeks(100.0, 100.0, 0.5, 0.2, np.array([[True], [False]]), 0.03)
    assert all(np.shape(value) == (2, 1) for value in is_call_only)


def test_price_kernel_matches_the_price_of_black76_greeks() -> None:
    """The margin's price-only kernel and the env's all-Greeks kernel are separate code paths."""
    forward, strike, time, volatility, is_call, rate = _grid()
    greeks = black76_greeks(forward, strike, time, volatility, is_call, rate)
    np.testing.assert_allclose(
        black76_price(forward, strike, time, volatility, is_call, rate), greeks.price, rtol=1e-12
    )


@pytest.mark.parametrize("model", ["black76", "black_scholes"])
def test_analytic_greeks_match_central_finite_differences(model: str) -> None:
    underlying, strike, time, volatility, is_call, rate = _grid()
    if model == "black76":
        greeks = black76_greeks(underlying, strike, time, volatility, is_call, rate)

        def price(u: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
            return black76_price(u, strike, t, v, is_call, rate)
    else:
        greeks = black_scholes_greeks(underlying, strike, time, volatility, is_call, rate, 0.02)

        def price(u: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
            return black_scholes_price(u, strike, t, v, is_call, rate, 0.02)

    h = 1e-5 * underlying
    delta = (price(underlying + h, time, volatility) - price(underlying - h, time, volatility)) / (2 * h)
    h = 1e-4 * underlying
    gamma = (
        price(underlying + h, time, volatility)
        - 2 * price(underlying, time, volatility)
        + price(underlying - h, time, volatility)
    ) / h**2
    h = 1e-6
    vega = (price(underlying, time, volatility + h) - price(underlying, time, volatility - h)) / (2 * h)
    theta = -(price(underlying, time + h, volatility) - price(underlying, time - h, volatility)) / (2 * h)
    np.testing.assert_allclose(greeks.delta, delta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(greeks.gamma, gamma, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(greeks.vega, vega, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(greeks.theta, theta, rtol=1e-6, atol=1e-6)


# --- limits --------------------------------------------------------------------------------------


def test_expiry_gives_intrinsic_value() -> None:
    strike = np.array([90.0, 100.0, 110.0])
    for time in (0.0, 1e-16):
        # At the money the time value is about 0.4 F sigma sqrt(T) = 1.2e-7 at T = 1e-16.
        call = black76_greeks(100.0, strike, time, 0.3, True, rate=0.05)
        put = black76_greeks(100.0, strike, time, 0.3, False, rate=0.05)
        np.testing.assert_allclose(call.price, [10.0, 0.0, 0.0], atol=2e-7)
        np.testing.assert_allclose(put.price, [0.0, 0.0, 10.0], atol=2e-7)
    expired = black76_greeks(100.0, strike, 0.0, 0.3, True, rate=0.05)
    np.testing.assert_array_equal(expired.delta, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(expired.gamma, 0.0)
    np.testing.assert_array_equal(expired.vega, 0.0)
    np.testing.assert_array_equal(expired.theta, 0.05 * expired.price)


def test_negative_time_is_treated_as_expired() -> None:
    np.testing.assert_array_equal(
        black76_greeks(100.0, 90.0, -1e-9, 0.3, True, 0.05),
        black76_greeks(100.0, 90.0, 0.0, 0.3, True, 0.05),
    )


def test_zero_volatility_gives_discounted_intrinsic_value_of_the_forward() -> None:
    strike = np.array([90.0, 100.0, 110.0])
    discount = np.exp(-0.05 * 2.0)
    call = black76_greeks(100.0, strike, 2.0, 0.0, True, rate=0.05)
    put = black76_greeks(100.0, strike, 2.0, 0.0, False, rate=0.05)
    np.testing.assert_allclose(call.price, discount * np.array([10.0, 0.0, 0.0]), rtol=1e-15)
    np.testing.assert_allclose(put.price, discount * np.array([0.0, 0.0, 10.0]), rtol=1e-15)
    np.testing.assert_allclose(call.delta, discount * np.array([1.0, 0.5, 0.0]), rtol=1e-15)
    np.testing.assert_allclose(put.delta, discount * np.array([0.0, -0.5, -1.0]), rtol=1e-15)
    np.testing.assert_array_equal(call.gamma, 0.0)
    np.testing.assert_allclose(call.theta, 0.05 * call.price, rtol=1e-15)
    # Vega is the one-sided limit: zero away from the money, F sqrt(T) n(0) exp(-rT) at it.
    at_the_money_vega = discount * 100.0 * np.sqrt(2.0) / np.sqrt(2.0 * np.pi)
    np.testing.assert_allclose(call.vega, [0.0, at_the_money_vega, 0.0], rtol=1e-14)


def test_deep_in_the_money_delta_tends_to_the_discount_factor() -> None:
    discount = np.exp(-0.05 * 0.5)
    assert float(black76_delta(100.0, 1.0, 0.5, 0.2, True, 0.05)) == pytest.approx(discount)
    assert float(black76_delta(1.0, 100.0, 0.5, 0.2, False, 0.05)) == pytest.approx(-discount)


def test_deep_out_of_the_money_tends_to_zero() -> None:
    call = black76_greeks(100.0, 1e4, 0.5, 0.2, True, 0.05)
    put = black76_greeks(100.0, 1.0, 0.5, 0.2, False, 0.05)
    for greeks in (call, put):
        assert all(abs(float(value)) < 1e-100 for value in greeks)


def test_no_nan_or_inf_over_an_extreme_grid() -> None:
    values = {
        "forward": [0.0, 1e-8, 1.0, 100.0, 1e8],
        "strike": [0.0, 1e-8, 1.0, 100.0, 1e8],
        "time": [0.0, 1e-12, 1.0 / 365.0, 1.0, 30.0],
        "volatility": [0.0, 1e-8, 0.2, 5.0],
        "is_call": [True, False],
        "rate": [0.0, 0.05],
    }
    axes = [
        np.array(v).reshape([-1 if i == j else 1 for j in range(6)]) for i, v in enumerate(values.values())
    ]
    forward, strike, time, volatility, is_call, rate = axes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # also no RuntimeWarning from numpy
        outputs = [
            *black76_greeks(forward, strike, time, volatility, is_call, rate),
            *black_scholes_greeks(forward, strike, time, volatility, is_call, rate, 0.02),
            black76_price(forward, strike, time, volatility, is_call, rate),
            black76_delta(forward, strike, time, volatility, is_call, rate),
            black76_gamma(forward, strike, time, volatility, rate),
            black76_vega(forward, strike, time, volatility, rate),
            black76_theta(forward, strike, time, volatility, is_call, rate),
            black_scholes_price(forward, strike, time, volatility, is_call, rate, 0.02),
        ]
    for output in outputs:
        assert np.isfinite(output).all()
    price = outputs[0]
    assert (price >= 0.0).all()


# --- Monte Carlo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("is_call", [True, False])
def test_monte_carlo_lognormal_price_within_three_standard_errors(is_call: bool) -> None:
    forward, strike, time, volatility, rate = 100.0, 105.0, 0.75, 0.25, 0.03
    rng = np.random.default_rng(20240229)
    normal = rng.standard_normal(400_000)
    terminal = forward * np.exp(-0.5 * volatility**2 * time + volatility * np.sqrt(time) * normal)
    sign = 1.0 if is_call else -1.0
    payoff = np.exp(-rate * time) * np.maximum(sign * (terminal - strike), 0.0)
    standard_error = payoff.std(ddof=1) / np.sqrt(payoff.size)
    closed_form = float(black76_price(forward, strike, time, volatility, is_call, rate))
    assert abs(payoff.mean() - closed_form) < 3.0 * standard_error


# --- properties ----------------------------------------------------------------------------------

positive = st.floats(min_value=1e-2, max_value=1e4)
times = st.floats(min_value=0.0, max_value=5.0)
volatilities = st.floats(min_value=0.0, max_value=3.0)
rates = st.floats(min_value=0.0, max_value=0.2)


@settings(max_examples=300, deadline=None)
@given(positive, positive, positive, times, volatilities, rates)
def test_price_is_monotone_in_strike(
    forward: float, strike_a: float, strike_b: float, time: float, volatility: float, rate: float
) -> None:
    low, high = sorted((strike_a, strike_b))
    strikes = np.array([low, high])
    call = black76_price(forward, strikes, time, volatility, True, rate)
    put = black76_price(forward, strikes, time, volatility, False, rate)
    tolerance = 1e-12 * (forward + high)
    assert call[0] >= call[1] - tolerance
    assert put[0] <= put[1] + tolerance


@settings(max_examples=300, deadline=None)
@given(positive, positive, times, volatilities, rates, st.booleans())
def test_price_lies_between_its_no_arbitrage_bounds(
    forward: float, strike: float, time: float, volatility: float, rate: float, is_call: bool
) -> None:
    discount = np.exp(-rate * time)
    greeks = black76_greeks(forward, strike, time, volatility, is_call, rate)
    price = float(greeks.price)
    intrinsic = max(forward - strike, 0.0) if is_call else max(strike - forward, 0.0)
    upper = forward if is_call else strike
    tolerance = 1e-12 * (forward + strike)
    assert discount * intrinsic - tolerance <= price <= discount * upper + tolerance
    assert -1.0 - 1e-15 <= float(greeks.delta) <= 1.0 + 1e-15
    assert float(greeks.gamma) >= 0.0
    assert float(greeks.vega) >= 0.0
