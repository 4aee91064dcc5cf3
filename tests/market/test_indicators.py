"""Causal daily indicators: realised volatility, RSI and MACD, and their spread over bars."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.market import indicators
from thetagym.market.params import MarketConfig
from thetagym.market.simulator import simulate


def test_realised_volatility_of_constant_returns() -> None:
    closes = 100 * np.exp(np.cumsum(np.full(60, 0.01)))[None, :]
    vol = indicators.realised_volatility(closes)
    assert vol[0, 0] == 0.0
    assert vol[0, -1] == pytest.approx(0.01 * np.sqrt(252))


def test_indicators_are_causal() -> None:
    rng = np.random.default_rng(0)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (2, 80)), axis=1))
    changed = closes.copy()
    changed[:, 50:] *= 1.2
    for function in (indicators.realised_volatility, indicators.rsi, indicators.macd):
        np.testing.assert_allclose(function(closes)[:, :50], function(changed)[:, :50])


def test_rsi_bounds() -> None:
    rising = np.arange(1.0, 40.0)[None, :]
    assert indicators.rsi(rising)[0, -1] == 1.0
    assert indicators.rsi(rising[:, ::-1])[0, -1] == -1.0


def test_simulated_indicators_use_the_previous_close_within_a_day() -> None:
    config = MarketConfig()
    path = simulate(config, "whipsaw", 60, [4])
    bpd = config.bars_per_day
    closes = path.index[:, ::bpd]
    rsi = indicators.rsi(closes)
    np.testing.assert_allclose(path.index_rsi[0, 1:bpd], rsi[0, 0])
    np.testing.assert_allclose(path.index_rsi[0, bpd], rsi[0, 1])
    assert np.all(np.abs(path.index_rsi) <= 1.0)
    np.testing.assert_allclose(path.realised_volatility[0, ::bpd], indicators.realised_volatility(closes)[0])
