"""Fee schedule and instrument kind tables: hand-computed fees, codes, multipliers, config checks."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.config import ConfigError, build
from thetagym.pricing import (
    IS_CALL,
    IS_OPTION,
    MULTIPLIER,
    NUM_KINDS,
    FeeSchedule,
    InstrumentKind,
    fees,
)

K = InstrumentKind


def test_instrument_kind_codes_are_stable() -> None:
    # Other layers store these integers in their position arrays: they must never move.
    assert [(kind.name, int(kind)) for kind in K] == [
        ("ES_CALL", 0),
        ("ES_PUT", 1),
        ("ES_FUTURE", 2),
        ("VIX_FUTURE", 3),
        ("VIX_CALL", 4),
        ("ETP_SHARE", 5),
    ]
    assert NUM_KINDS == 6


def test_contract_tables_by_kind() -> None:
    np.testing.assert_array_equal(MULTIPLIER, [50.0, 50.0, 50.0, 1000.0, 100.0, 1.0])
    np.testing.assert_array_equal(IS_OPTION, [True, True, False, False, True, False])
    np.testing.assert_array_equal(IS_CALL, [True, False, False, False, True, False])
    assert MULTIPLIER.dtype == np.float64 and IS_OPTION.dtype == IS_CALL.dtype == np.bool_


def test_contract_tables_are_read_only() -> None:
    for table in (MULTIPLIER, IS_OPTION, IS_CALL, FeeSchedule().per_unit):
        with pytest.raises(ValueError, match="read-only"):
            table[0] = table[1]


def test_default_schedule_matches_market_facts() -> None:
    schedule = FeeSchedule()
    assert 1.0 <= schedule.es_option <= 2.5  # "$1-2.5 per option contract"
    assert 2.0 <= schedule.es_future <= 3.0  # "about $2-3 per side for ES futures"
    np.testing.assert_array_equal(schedule.per_unit, [2.0, 2.0, 2.5, 2.5, 1.5, 0.005])


def test_vector_fees_match_hand_computed_values() -> None:
    schedule = FeeSchedule(es_option=1.25, es_future=2.25, vix_future=2.0, vix_option=1.0, etp_share=0.01)
    kind = np.array([K.ES_CALL, K.ES_PUT, K.ES_FUTURE, K.VIX_FUTURE, K.VIX_CALL, K.ETP_SHARE, K.ES_PUT])
    quantity = np.array([10, -4, 3, -2, 7, -350, 0])
    expected = [12.5, 5.0, 6.75, 4.0, 7.0, 3.5, 0.0]
    np.testing.assert_allclose(fees(schedule, kind, quantity), expected)


def test_fees_broadcast_over_env_and_leg_axes() -> None:
    kind = np.array([[K.ES_PUT, K.ES_CALL, K.ES_FUTURE], [K.VIX_CALL, K.ETP_SHARE, K.ES_FUTURE]])
    quantity = np.array([[-2.0], [4.0]])  # one quantity per env
    result = fees(FeeSchedule(), kind, quantity)
    assert result.shape == (2, 3)
    np.testing.assert_allclose(result, [[4.0, 4.0, 5.0], [6.0, 0.02, 10.0]])


def test_fees_accept_plain_ints_and_kind_members() -> None:
    assert float(fees(FeeSchedule(), K.ES_FUTURE, -1)) == 2.5
    assert float(fees(FeeSchedule(), 0, 2)) == 4.0


def test_fee_schedule_config_checks() -> None:
    schedule = build(FeeSchedule, {"es_option": 1.1}, source="book.yaml")
    assert schedule.per_unit[K.ES_PUT] == 1.1
    with pytest.raises(ConfigError, match="did you mean 'es_future'"):
        build(FeeSchedule, {"es_futures": 2.0}, source="book.yaml")
    with pytest.raises(ConfigError, match=r"must be >= 0\.0"):
        build(FeeSchedule, {"vix_option": -1.0}, source="book.yaml")
