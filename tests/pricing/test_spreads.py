"""Bid/ask spread model: shape of the spread, tick grid, quote invariants, config checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thetagym.config import ConfigError, build
from thetagym.pricing import SpreadModel, bid_ask, futures_bid_ask, half_spread, option_tick

MODEL = SpreadModel()


def _on_grid(price: np.ndarray, tick: float | np.ndarray) -> bool:
    units = np.asarray(price) / tick
    return bool(np.allclose(units, np.round(units), rtol=0.0, atol=1e-6))


# --- shape of the half-spread ---------------------------------------------------------------------


def test_half_spread_is_tightest_at_the_money_and_widens_with_absolute_moneyness() -> None:
    moneyness = np.linspace(0.0, 6.0, 61)
    for mid in (0.5, 100.0, 400.0):  # mids where the one-tick floor does not bind
        calls = half_spread(MODEL, mid, moneyness, 30 / 365, 0.18)
        puts = half_spread(MODEL, mid, -moneyness, 30 / 365, 0.18)
        np.testing.assert_array_equal(calls, puts)
        assert (np.diff(calls) >= 0.0).all()
        below_cap = moneyness <= MODEL.moneyness_cap
        assert (np.diff(calls[below_cap]) > 0.0).all()
        assert calls.argmin() == 0


def test_half_spread_widens_as_expiry_nears() -> None:
    time_to_expiry = np.array([2.0, 1.0, 0.25, 30 / 365, 7 / 365, 1 / 365, 1 / 3650, 0.0])
    spread = half_spread(MODEL, 200.0, 1.0, time_to_expiry, 0.18)
    assert (np.diff(spread) > 0.0).all()
    # At expiry the widening reaches its maximum factor.
    far = half_spread(MODEL, 200.0, 1.0, 1e9, 0.18)
    assert float(spread[-1] / far) == pytest.approx(1.0 + MODEL.expiry_widening)


def test_half_spread_widens_with_volatility() -> None:
    volatility = np.linspace(0.0, 1.5, 151)
    spread = half_spread(MODEL, 200.0, 1.0, 30 / 365, volatility)
    assert (np.diff(spread) >= 0.0).all()
    above_floor = volatility > MODEL.volatility_floor
    assert (np.diff(spread[above_floor]) > 0.0).all()
    # Proportional to volatility above the floor: twice the volatility, twice the spread.
    ratio = half_spread(MODEL, 200.0, 1.0, 30 / 365, 0.40) / half_spread(MODEL, 200.0, 1.0, 30 / 365, 0.20)
    assert float(ratio) == pytest.approx(2.0)


def test_half_spread_never_below_half_a_tick() -> None:
    mid = np.array([0.0, 1e-6, 0.3, 4.99, 5.0, 5.01, 80.0])
    model = SpreadModel(absolute_half_spread=0.0, relative_half_spread=1e-6)
    spread = half_spread(model, mid, 0.0, 1.0, 0.18)
    np.testing.assert_allclose(spread, 0.5 * option_tick(model, mid))


def test_nan_moneyness_at_expiry_is_treated_as_the_widest_wing() -> None:
    nan = half_spread(MODEL, 10.0, np.nan, 0.0, 0.18)
    capped = half_spread(MODEL, 10.0, MODEL.moneyness_cap, 0.0, 0.18)
    assert float(nan) == float(capped)


def test_half_spread_matches_hand_computed_value() -> None:
    # (0.025 + 0.0015 * 40) * (1 + 0.3 * 2) * (1 + s / (s + T)) * 0.27 / 0.18, s = 7 / 365
    scale, time = 7 / 365, 14 / 365
    expected = (0.025 + 0.0015 * 40.0) * 1.6 * (1.0 + scale / (scale + time)) * 1.5
    assert float(half_spread(MODEL, 40.0, -2.0, time, 0.27)) == pytest.approx(expected)


# --- quotes on the tick grid ----------------------------------------------------------------------


def test_option_tick_follows_the_es_rule() -> None:
    np.testing.assert_array_equal(
        option_tick(MODEL, [0.0, 0.05, 4.95, 5.0, 5.05, 5.25, 100.0]),
        [0.05, 0.05, 0.05, 0.05, 0.25, 0.25, 0.25],
    )


def _quote_grid() -> tuple[np.ndarray, ...]:
    mid = np.concatenate([[0.0, 1e-4, 0.049, 4.9, 4.99, 5.0, 5.01, 5.2], np.geomspace(0.01, 900, 60)])
    return (
        mid.reshape(-1, 1, 1, 1),
        np.array([-7.0, -2.0, -0.3, 0.0, 1.0, 3.0, np.nan]).reshape(1, -1, 1, 1),
        np.array([0.0, 1 / 365, 10 / 365, 0.25, 1.5]).reshape(1, 1, -1, 1),
        np.array([0.0, 0.1, 0.2, 0.5, 1.2]).reshape(1, 1, 1, -1),
    )


def test_quotes_bracket_the_mid_and_are_on_the_tick_grid() -> None:
    mid, moneyness, time, volatility = _quote_grid()
    bid, ask = bid_ask(MODEL, mid, moneyness, time, volatility)
    mid = np.broadcast_to(mid, bid.shape)
    assert (bid <= mid).all() and (mid <= ask).all()
    assert (bid >= 0.0).all()
    assert (ask >= MODEL.small_tick - 1e-12).all()
    assert _on_grid(bid, MODEL.small_tick) and _on_grid(ask, MODEL.small_tick)
    above = bid > MODEL.tick_threshold
    assert _on_grid(bid[above], MODEL.large_tick)
    above = ask > MODEL.tick_threshold
    assert _on_grid(ask[above], MODEL.large_tick)


def test_full_spread_is_at_least_one_tick() -> None:
    mid, moneyness, time, volatility = _quote_grid()
    bid, ask = bid_ask(MODEL, mid, moneyness, time, volatility)
    width = ask - bid
    tick = np.where(bid >= MODEL.tick_threshold, MODEL.large_tick, MODEL.small_tick)
    assert (width >= tick - 1e-9).all()


def test_worthless_option_quotes_zero_bid() -> None:
    bid, ask = bid_ask(SpreadModel(absolute_half_spread=0.0), 0.0, -8.0, 2 / 365, 0.15)
    assert float(bid) == 0.0
    assert float(ask) == pytest.approx(MODEL.small_tick)


def test_quotes_match_hand_computed_values() -> None:
    bid, ask = bid_ask(MODEL, [0.0, 3.02, 100.0], [-6.0, -1.3, 0.0], 14 / 365, 0.18)
    np.testing.assert_allclose(bid, [0.0, 2.95, 99.75], atol=1e-12)
    np.testing.assert_allclose(ask, [0.10, 3.10, 100.25], atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=2000.0),
    st.floats(min_value=-10.0, max_value=10.0),
    st.floats(min_value=0.0, max_value=3.0),
    st.floats(min_value=0.0, max_value=3.0),
)
def test_quote_invariants_hold_for_any_inputs(
    mid: float, moneyness: float, time: float, volatility: float
) -> None:
    bid, ask = (float(x) for x in bid_ask(MODEL, mid, moneyness, time, volatility))
    assert 0.0 <= bid <= mid <= ask
    assert ask - bid >= MODEL.small_tick - 1e-9
    assert _on_grid(np.array([bid, ask]), MODEL.small_tick)


def test_futures_quote_one_tick_wide_on_the_grid() -> None:
    mid = np.array([4999.9, 5000.0, 5000.1, 5000.24, 5000.26])
    bid, ask = futures_bid_ask(MODEL, mid)
    assert (bid <= mid).all() and (mid <= ask).all()
    np.testing.assert_allclose(ask - bid, MODEL.futures_tick)
    assert _on_grid(bid, MODEL.futures_tick) and _on_grid(ask, MODEL.futures_tick)
    bid, ask = futures_bid_ask(SpreadModel(futures_spread_ticks=2), mid)
    assert (bid <= mid).all() and (mid <= ask).all()
    np.testing.assert_allclose(ask - bid, 2 * MODEL.futures_tick)


# --- configuration --------------------------------------------------------------------------------


def test_defaults_are_the_exchange_ticks() -> None:
    # ES options: 0.05 points ($2.50) at or below 5.00, 0.25 points ($12.50) above; futures 0.25.
    assert (MODEL.small_tick * 50, MODEL.large_tick * 50, MODEL.futures_tick * 50) == (
        2.5,
        12.5,
        12.5,
    )
    assert MODEL.tick_threshold == 5.0


def test_config_rejects_unknown_keys_and_bad_values() -> None:
    assert build(SpreadModel, {"expiry_widening": 2.0}).expiry_widening == 2.0
    with pytest.raises(ConfigError, match="did you mean 'moneyness_widening'"):
        build(SpreadModel, {"moneyness_widenning": 0.5}, source="env.yaml")
    with pytest.raises(ConfigError, match="small_tick"):
        build(SpreadModel, {"small_tick": 0.0}, source="env.yaml")
    with pytest.raises(ConfigError, match="large_tick"):
        build(SpreadModel, {"large_tick": 0.01}, source="env.yaml")
    with pytest.raises(ConfigError, match="tick_threshold"):
        build(SpreadModel, {"tick_threshold": 5.1}, source="env.yaml")
