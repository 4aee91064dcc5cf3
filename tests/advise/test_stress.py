"""Stress: the margin's scenarios give the margin, shocks re-mark the book, the margin call is found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.advise.conftest import EXAMPLES, LARGE_ENV, advise_on, make_advisor
from thetagym.advise import CsvBroker
from thetagym.advise.snapshot import shocked, snapshot_state
from thetagym.advise.stress import HISTORICAL_SHOCKS, margin_call_distance
from thetagym.book.margin import scenario_table
from thetagym.env.config import load_env_config


def test_margin_is_the_worst_weighted_scenario_loss_of_the_stress_table() -> None:
    config = load_env_config(LARGE_ENV)
    advice = make_advisor(env=LARGE_ENV).advise(
        CsvBroker(EXAMPLES / "book_positions.csv", EXAMPLES / "market_snapshot.csv")
    )
    _, _, weight = scenario_table(config.book)
    scenario_pnl = np.array([row.pnl for row in advice.stress[: len(weight)]])
    short_options = sum(
        -leg.quantity
        for leg in advice.today.legs
        if leg.instrument in ("es_put", "es_call") and leg.quantity < 0
    )
    expected = max(
        float(np.max(-scenario_pnl * weight)), short_options * config.book.margin.short_option_minimum
    )
    assert advice.today.margin_requirement == pytest.approx(expected, rel=1e-9)


def test_historical_shocks_are_the_dated_closes() -> None:
    names = [shock.name for shock in HISTORICAL_SHOCKS]
    assert {"2008-10", "2018-02-05", "2020-03-16"} <= set(names)
    volmageddon = HISTORICAL_SHOCKS[names.index("2018-02-05")]
    assert volmageddon.index_move == pytest.approx(2648.94 / 2762.13 - 1.0)
    assert volmageddon.vix_move == pytest.approx(37.32 / 17.31 - 1.0)
    assert HISTORICAL_SHOCKS[0].vix3m_move == HISTORICAL_SHOCKS[0].vix_move  # no VIX3M before 2009-09


def test_a_shock_of_nothing_leaves_the_market_as_it_was() -> None:
    config = load_env_config(LARGE_ENV)
    state = snapshot_state(CsvBroker(Path(), EXAMPLES / "market_snapshot.csv").market(), config.market, 0.25)
    assert shocked(state, 0.0, 0.0, 0.0, config.market) == state
    crash = shocked(state, -0.1, 0.5, 0.3, config.market)
    assert crash.index == pytest.approx(0.9 * state.index)
    assert crash.implied_variance > state.implied_variance and crash.vxx > state.vxx > crash.inverse_vix * 0


def test_a_future_loses_its_notional_times_the_index_move(tmp_path: Path) -> None:
    advice = advise_on(tmp_path, "es_future,2027-03-19,,2,5650,\n")
    future = advice.today.legs[0]
    for row, shock in zip(advice.stress[16:], HISTORICAL_SHOCKS, strict=True):
        assert row.pnl == pytest.approx(2 * 50.0 * future.mark * shock.index_move, rel=1e-9)


def test_the_margin_call_is_found_where_equity_meets_the_requirement(tmp_path: Path) -> None:
    """A long-futures book: its requirement is the 4.3% scan of the moved future, so with equity E
    the excess ``E + N m - 0.043 N (1 + m)`` (``N`` the notional) reaches zero at a known fall."""
    probe = advise_on(tmp_path, "es_future,2027-03-19,,10,5650,\n")
    notional = 10 * 50.0 * probe.today.legs[0].mark
    fall = -0.10
    equity = 0.043 * notional * (1 + fall) - notional * fall
    advice = advise_on(tmp_path, f"es_future,2027-03-19,,10,5650,\ncash,,,{equity!r},,\n")
    assert advice.today.equity == pytest.approx(equity, rel=1e-12)
    assert advice.margin_call_index_fall == pytest.approx(fall, abs=1e-9)
    assert advice.margin_call_index_rise is None


def test_margin_call_distance_interpolates_between_grid_points() -> None:
    moves = np.array([-0.05, -0.025, 0.025, 0.05])
    assert margin_call_distance(moves, np.array([-1.0, 3.0, 5.0, -5.0])) == (
        pytest.approx(-0.04375),
        pytest.approx(0.0375),
    )
    assert margin_call_distance(moves, np.ones(4)) == (None, None)
