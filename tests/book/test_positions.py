"""Slot layout, reset and the open/close/roll primitives."""

from __future__ import annotations

import numpy as np

from thetagym.book import Book, BookConfig, LayerAction
from thetagym.book.positions import SlotLayout, SlotRole
from thetagym.config import build
from thetagym.pricing.instruments import InstrumentKind

from .conftest import flat_market


def condor_config() -> BookConfig:
    layer = {
        "name": "ic",
        "kind": "condor",
        "contracts": 2,
        "max_contracts": 40,
        "rungs": 2,
        "wing_width": 50.0,
    }
    return build(BookConfig, {"layers": [layer]})


def test_layout_gives_every_layer_its_slots(default_config: BookConfig) -> None:
    layout = SlotLayout.from_config(default_config)
    assert layout.n_slots == 13
    assert np.count_nonzero(layout.role == SlotRole.COUNTER) == len(default_config.layers)
    assert layout.kind[layout.counter_slot[3]] == InstrumentKind.ETP_SHARE
    hedge = default_config.layer_index("hedge")
    assert layout.role[layout.extra_slot[hedge]] == SlotRole.BALANCER


def test_condor_wings_sit_wing_width_beyond_the_short_strikes() -> None:
    market = flat_market()
    book = Book(condor_config(), 1)
    book.reset(np.array([0]), market, np.array([0]))
    strike = book.strike[0, :8].reshape(2, 4)
    quantity = book.quantity[0, :8].reshape(2, 4)
    assert np.all(quantity == [-2, 2, -2, 2])
    np.testing.assert_allclose(strike[:, 0] - strike[:, 1], 50.0)
    np.testing.assert_allclose(strike[:, 3] - strike[:, 2], 50.0)
    assert np.all(strike[:, 0] < 5000) and np.all(strike[:, 2] > 5000)
    assert book.expiry_bar[0, 4] > book.expiry_bar[0, 0]  # the second rung expires later


def test_reset_opens_at_target_delta_and_starts_at_capital(default_config: BookConfig) -> None:
    market = flat_market(n_paths=2)
    book = Book(default_config, 2)
    book.reset(np.array([0, 1]), market, np.array([0, 0]))
    np.testing.assert_allclose(book.equity(), default_config.capital)
    put = book.marks.delta[0, 0]
    call = book.marks.delta[0, 3]
    assert abs(put + 0.16) < 0.03 and abs(call - 0.12) < 0.03
    assert book.quantity[0, 0] == -4 and book.quantity[0, 3] == -4


def test_close_then_open_restores_the_structure(default_config: BookConfig) -> None:
    market = flat_market()
    book = Book(default_config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    actions = np.zeros((1, 6), dtype=int)
    actions[0, 0] = LayerAction.CLOSE
    result = book.step(actions, market, np.array([0]))
    assert result.executed[0, 0] == LayerAction.CLOSE
    assert book.quantity[0, 0] == 0 and result.attribution[0, 0, 4] < 0  # paid the spread
    actions[0, 0] = LayerAction.OPEN
    book.step(actions, market, np.array([1]))
    assert book.quantity[0, 0] == -4


def test_rolls_keep_the_number_of_contracts(default_config: BookConfig) -> None:
    market = flat_market()
    book = Book(default_config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    before = np.abs(book.quantity).sum()
    expiry = book.expiry_bar[0, 0]
    actions = np.zeros((1, 6), dtype=int)
    actions[0, 0] = LayerAction.ROLL_OUT
    result = book.step(actions, market, np.array([0]))
    assert result.rolls[0] == 1
    assert np.abs(book.quantity).sum() == before
    assert book.expiry_bar[0, 0] > expiry
