"""Every rule of the guard (docs/guard.md) on constructed states, and the guard switched off."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.book import BalancerAction, Book, BookConfig, LayerAction
from thetagym.config import ConfigError, load, to_dict

from .conftest import CONFIGS, book_config, flat_market

PUT, CALL, FUTURES, ETP, HEDGE = range(5)
N_ACTIONS = 8


def started(config: BookConfig) -> tuple[Book, object]:
    market = flat_market()
    book = Book(config, 1)
    book.reset(np.array([0]), market, np.array([0]))
    return book, market


def legal(book: Book, market: object, layer: int, action: int) -> bool:
    masks = book.action_masks(market, np.array([0]))  # type: ignore[arg-type]
    return bool(masks[0, layer * N_ACTIONS + action])


def act(book: Book, market: object, layer: int, action: int, bar: int = 0):
    actions = np.zeros((1, book.n_layers + 1), dtype=int)
    actions[0, layer] = action
    return book.step(actions, market, np.array([bar]))  # type: ignore[arg-type]


def test_hold_is_always_legal(default_config: BookConfig) -> None:
    book, market = started(default_config)
    masks = book.action_masks(market, np.array([0]))  # type: ignore[arg-type]
    assert masks.shape == (1, int(book.action_nvec.sum()))
    assert all(masks[0, layer * N_ACTIONS] for layer in range(book.n_layers))
    assert masks[0, book.n_layers * N_ACTIONS + BalancerAction.HOLD]


def test_rule1_caps_block_growth() -> None:
    layers = to_dict(_default())["layers"]
    layers[1]["open_at_reset"] = False  # the call wing
    config = book_config(layers=layers, guard={"book_max_contracts": 15})
    book, market = started(config)  # 4 puts + 1 future + 10 ETP lots: the book is at its cap
    assert np.abs(book.quantity).sum() == 15
    assert not legal(book, market, CALL, LayerAction.OPEN)  # 4 calls would take it to 19


def test_a_book_that_would_open_over_its_caps_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"book_max_contracts 9 is below the 19 contracts"):
        book_config(guard={"book_max_contracts": 9})
    layers = to_dict(_default())["layers"]
    layers[0]["contracts"] = 13
    with pytest.raises(
        ConfigError, match=r"layer 'put_wing': one OPEN adds 13 contracts .* max_contracts 12"
    ):
        book_config(layers=layers)


def _default() -> BookConfig:
    return load(BookConfig, CONFIGS / "default.yaml")


def test_rule2_roll_is_size_preserving(default_config: BookConfig) -> None:
    book, market = started(default_config)
    before = book.layout.per_layer(np.abs(book.quantity)).copy()
    act(book, market, PUT, LayerAction.ROLL_CLOSER)
    act(book, market, CALL, LayerAction.ROLL_OUT, bar=1)
    np.testing.assert_array_equal(book.layout.per_layer(np.abs(book.quantity)), before)


def test_rule3_no_adds_to_the_opposite_wing(default_config: BookConfig) -> None:
    book, market = started(default_config)
    act(book, market, CALL, LayerAction.CLOSE)
    book.strike[0, 0] = 5400.0  # the puts go deep in the money: the book is long delta
    book.mark_bar[:] = -1
    assert book.view().net_delta[0] > 1.5  # beyond the delta band (0.15 x 10 contracts)
    assert not legal(book, market, CALL, LayerAction.OPEN)
    actions = np.zeros((1, 6), dtype=int)
    actions[0, CALL] = LayerAction.OPEN
    result = book.step(actions, market, np.array([0]))  # type: ignore[arg-type]
    assert result.blocked[0] == 1 and result.adds_blocked[0] == 1
    assert result.executed[0, CALL] == LayerAction.HOLD
    assert book.quantity[0, 3] == 0


def test_rule4_counter_trade_needs_the_trigger_and_opposes_the_bias(default_config: BookConfig) -> None:
    book, market = started(default_config)
    assert not legal(book, market, CALL, LayerAction.OPEN_COUNTER)  # nothing has moved
    book.reference[0, CALL] = 4900.0  # the index rose 2% since the call wing opened
    assert legal(book, market, CALL, LayerAction.OPEN_COUNTER)
    result = act(book, market, CALL, LayerAction.OPEN_COUNTER)
    assert result.counter_trades[0] == 1
    assert book.quantity[0, book.layout.counter_slot[CALL]] == 1  # a buy against the short bias
    book.reference[0, CALL] = 4900.0
    act(book, market, CALL, LayerAction.OPEN_COUNTER, bar=1)
    assert not legal(book, market, CALL, LayerAction.OPEN_COUNTER)  # counter_max 2 reached


def test_rule5_margin_cap_blocks_risk_but_not_closing() -> None:
    config = book_config(guard={"margin_cap": 0.001})
    book, market = started(config)
    act(book, market, PUT, LayerAction.CLOSE)
    assert not legal(book, market, PUT, LayerAction.OPEN)
    assert legal(book, market, CALL, LayerAction.CLOSE)


def test_rule6_losing_leg_at_cap_blocks_open(default_config: BookConfig) -> None:
    book, market = started(default_config)
    act(book, market, PUT, LayerAction.CLOSE)
    assigned = book.layout.extra_slot[PUT]
    book.quantity[0, assigned] = 4.0
    book.expiry_bar[0, assigned] = market.close_bar(10)  # type: ignore[attr-defined]
    book.underlying_bar[0, assigned] = market.close_bar(10)  # type: ignore[attr-defined]
    book.entry_price[0, assigned] = 5200.0  # long futures bought above the market: losing
    book.mark_bar[:] = -1
    assert not legal(book, market, PUT, LayerAction.OPEN)
    book.entry_price[0, assigned] = 4800.0  # in profit: back into options is allowed
    book.mark_bar[:] = -1
    assert legal(book, market, PUT, LayerAction.OPEN)


def test_open_on_an_open_layer_is_illegal_with_the_guard_on(default_config: BookConfig) -> None:
    book, market = started(default_config)
    assert not legal(book, market, PUT, LayerAction.OPEN)


def test_guard_off_open_adds_the_standard_size() -> None:
    config = book_config(guard={"enabled": False})
    book, market = started(config)
    assert legal(book, market, PUT, LayerAction.OPEN)
    act(book, market, PUT, LayerAction.OPEN)
    assert book.quantity[0, 0] == -8  # the spiral's mechanism: same contract, double size


def test_balancer_steps_within_caps(default_config: BookConfig) -> None:
    book, market = started(default_config)
    slot = book.layout.extra_slot[HEDGE]
    actions = np.zeros((1, 6), dtype=int)
    actions[0, -1] = BalancerAction.SHIFT_BULL
    for bar in range(6):
        book.step(actions, market, np.array([bar]))  # type: ignore[arg-type]
    assert book.quantity[0, slot] == 4  # balancer_max
    actions[0, -1] = BalancerAction.FLATTEN
    book.step(actions, market, np.array([6]))  # type: ignore[arg-type]
    assert book.quantity[0, slot] == 0
