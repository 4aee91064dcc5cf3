"""VIX complex: term structure in calm and stress, futures at expiry, ETP decay and daily reset."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.market.params import VIX3M_HORIZON, MarketConfig
from thetagym.market.simulator import simulate
from thetagym.market.stats import daily
from thetagym.market.vix import (
    etp_series,
    futures_expiry_days,
    futures_price,
    roll_schedule,
    vix_future_price,
    vix_level,
    vix_option_volatility,
)

CONFIG = MarketConfig()


@pytest.fixture(scope="module")
def calm():
    return simulate(CONFIG, "calm", 252, np.arange(32))


@pytest.fixture(scope="module")
def crash():
    return simulate(CONFIG, "crash", 252, np.arange(32))


def test_contango_in_calm(calm) -> None:
    closes = daily(calm.vix, 4) < daily(calm.vix3m, 4)
    assert closes.mean() > 0.9
    rows = np.arange(calm.n_paths)
    bars = np.full(calm.n_paths, calm.n_bars)
    curve = vix_future_price(calm, rows, bars, np.tile([1 / 12, 2 / 12, 4 / 12], (calm.n_paths, 1)))
    assert np.mean(curve[:, 1] > curve[:, 0]) > 0.8


def test_backwardation_in_the_crash(crash) -> None:
    """A week after the crash's gap (VIX x2.5, then a stress regime) the VIX term structure and
    the VIX futures curve slope down on (nearly) every path."""
    bpd = crash.bars_per_day
    shock = np.argmax(crash.vix[:, 1:] / crash.vix[:, :-1], axis=1) + 1
    bars = shock + 5 * bpd
    rows = np.arange(crash.n_paths)
    assert np.mean(crash.vix[rows, bars] > crash.vix3m[rows, bars]) > 0.85
    curve = vix_future_price(crash, rows, bars, np.tile([1 / 12, 2 / 12], (crash.n_paths, 1)))
    assert np.mean(curve[:, 1] < curve[:, 0]) > 0.85


def test_vix_is_the_thirty_day_expected_variance_of_the_surface(calm) -> None:
    from thetagym.market.surface import atm_variance

    rows, bars = np.arange(4), np.array([0, 10, 100, 1000])
    surface = calm.surface_at(rows, bars)
    expected = 100 * np.sqrt(atm_variance(surface, np.asarray(21 / 252)))[:, 0]
    np.testing.assert_allclose(calm.vix[rows, bars], expected, rtol=1e-12)
    expected3m = 100 * np.sqrt(atm_variance(surface, np.asarray(VIX3M_HORIZON)))[:, 0]
    np.testing.assert_allclose(calm.vix3m[rows, bars], expected3m, rtol=1e-12)


def test_future_converges_to_vix_at_expiry(calm) -> None:
    rows = np.arange(5)
    bars = np.array([0, 7, 100, 500, 1008])
    tau = np.array([1e-9, 1 / 252, 1 / 12, 1 / 2]) * np.ones((5, 1))
    prices = vix_future_price(calm, rows, bars, tau)
    np.testing.assert_allclose(prices[:, 0], calm.vix[rows, bars], rtol=1e-6)
    np.testing.assert_allclose(
        vix_future_price(calm, rows, bars, np.zeros((5, 1)))[:, 0], calm.vix[rows, bars], rtol=1e-12
    )
    assert np.all(np.abs(prices[:, 1] / prices[:, 0] - 1) < 0.02)


def test_vix_option_volatility_is_positive_and_bounded(calm) -> None:
    rows, bars = np.arange(3), np.array([4, 40, 400])
    vols = vix_option_volatility(calm, rows, bars, np.tile([0.0, 1 / 12, 0.5], (3, 1)))
    assert vols.shape == (3, 3)
    assert np.all((vols >= 0.2) & (vols <= 2.5))
    assert np.all(vols[:, 2] < vols[:, 1])  # mean reversion: longer options, lower volatility


def test_futures_curve_shape_follows_the_spot_variance() -> None:
    long, kappa, jump = np.asarray(0.085), np.asarray(1.5), np.asarray(0.004)
    tau = np.array([0.0, 0.1, 0.3, 0.6])
    low = futures_price(np.asarray(0.01), long, kappa, jump, 0.45, tau)
    high = futures_price(np.asarray(0.3), long, kappa, jump, 0.45, tau)
    assert np.all(np.diff(low) > 0) and np.all(np.diff(high) < 0)
    assert low[0] == pytest.approx(float(vix_level(np.asarray(0.01), long, kappa, jump)))


def test_vxx_decays_in_calm(calm) -> None:
    years = calm.n_days / 252
    log_return = np.log(calm.vxx[:, -1] / calm.vxx[:, 0]) / years
    assert np.median(log_return) < -0.3  # VXX lost ~60% a year on average


def test_inverse_etp_daily_return_is_minus_the_futures_index_daily_return(crash) -> None:
    bpd = crash.bars_per_day
    vxx = daily(crash.vxx, bpd)
    inverse = daily(crash.inverse_vix, bpd)
    index_return = vxx[:, 1:] / vxx[:, :-1] - 1.0
    inverse_return = inverse[:, 1:] / inverse[:, :-1] - 1.0
    ordinary = index_return < 1.0 - CONFIG.vix.inverse_floor
    np.testing.assert_allclose(inverse_return[ordinary], -index_return[ordinary], atol=1e-12)
    floored = ~ordinary
    np.testing.assert_allclose(inverse_return[floored], CONFIG.vix.inverse_floor - 1.0)


def test_vol_spike_makes_the_inverse_etp_lose_most_of_its_value() -> None:
    path = simulate(CONFIG, "vol_spike", 63, [3])
    bar = int(np.argmax(path.vix[0, 1:] / path.vix[0, :-1])) + 1
    close = ((bar - 1) // path.bars_per_day) * path.bars_per_day
    assert path.inverse_vix[0, bar] / path.inverse_vix[0, close] < 0.5
    assert path.vxx[0, bar] / path.vxx[0, close] > 1.4


def test_vix_futures_expire_thirty_days_before_the_next_third_friday() -> None:
    from thetagym.market.calendar import trading_days

    dates = trading_days("2018-01-02", 40)
    days = futures_expiry_days(dates)
    expiry = [str(np.busday_offset(dates[0], d)) for d in days[1:3]]
    assert expiry == ["2018-01-17", "2018-02-14"]


def test_roll_weights_fall_from_one_towards_zero_between_expiries() -> None:
    front, second, weight = roll_schedule(30, np.array([-3, 10, 30, 50]))
    assert weight[0] == pytest.approx(11 / 13)  # (e1 - (d - 1)) / (e1 - e0) = (10 + 1) / (10 + 3)
    assert weight[11] == 1.0 and front[11] == 30 and second[11] == 50
    assert np.all(np.diff(weight[:11]) < 0)


def test_etp_series_shapes_and_starting_prices(calm) -> None:
    state = (
        calm.implied_variance[:2],
        calm.long_implied_variance[:2],
        calm.implied_mean_reversion[:2],
        calm.jump_variance[:2],
    )
    vxx, inverse, front, second = etp_series(
        state, 0.45, calm.bars_per_day, futures_expiry_days(calm.dates[0]), 25.0, 100.0, 0.02
    )
    assert vxx.shape == inverse.shape == front.shape == second.shape == (2, calm.n_bars + 1)
    assert vxx[0, 0] == 25.0 and inverse[0, 0] == 100.0
