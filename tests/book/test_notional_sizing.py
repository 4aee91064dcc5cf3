"""Cash-secured sizing: a layer with ``sizing: notional`` sells floor(equity x fraction / (K x 50))
contracts at each sale, so its size follows equity; guard caps cut it; bad settings are refused."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from thetagym.book import Book, BookConfig, LayerAction
from thetagym.config import ConfigError, build, load

from .conftest import CONFIGS, flat_market

CAPITAL = 1_000_000.0


def notional_book(
    fraction: float = 1.0, capital: float = CAPITAL, guard: dict | None = None, **layer: object
) -> Book:
    config = {
        "name": "puts",
        "kind": "put_wing",
        "bias": 1,
        "sizing": "notional",
        "notional_fraction": fraction,
        "max_contracts": 1000,
        "target_delta": 0.5,
        "expiry_schedule": "monthly",
        "max_days": 15,
        "counter_max": 0,
        **layer,
    }
    guard = {"book_max_contracts": 1000, **(guard or {})}
    return Book(build(BookConfig, {"capital": capital, "layers": [config], "guard": guard}), 1)


def expected_contracts(equity: float, fraction: float, strike: float) -> int:
    return math.floor(equity * fraction / (strike * 50.0))


@pytest.mark.parametrize(
    ("fraction", "capital"), [(1.0, 1_000_000.0), (0.5, 1_000_000.0), (1.0, 3_333_333.0)]
)
def test_the_sale_at_reset_is_equity_times_fraction_over_strike_notional(
    fraction: float, capital: float
) -> None:
    market = flat_market(index=4800.0)
    book = notional_book(fraction, capital)
    book.reset(np.array([0]), market, np.array([0]))
    strike = float(book.strike[0, 0])
    assert abs(strike - 4800.0) < 150.0  # at the money
    assert book.quantity[0, 0] == -expected_contracts(capital, fraction, strike)


def test_each_sale_is_sized_from_the_equity_of_that_moment() -> None:
    market = flat_market(index=4800.0, n_days=80)
    book = notional_book(open_at_reset=False)
    book.reset(np.array([0]), market, np.array([0]))
    hold = np.zeros((1, 2), dtype=np.int64)
    sold = []
    for bar in range(0, 150):
        actions = hold.copy()
        if not book.quantity[0, 0]:
            equity = float(book.equity()[0])
            actions[0, 0] = LayerAction.OPEN
            result = book.step(actions, market, np.array([bar]))
            if result.executed[0, 0] == LayerAction.OPEN and book.quantity[0, 0]:
                strike = float(book.strike[0, 0])
                assert book.quantity[0, 0] == -expected_contracts(equity, 1.0, strike)
                sold.append(-book.quantity[0, 0])
        else:
            book.step(actions, market, np.array([bar]))
    assert len(sold) >= 2  # sold again after the first expiry


def test_size_grows_and_shrinks_with_equity() -> None:
    market = flat_market(index=4800.0)
    sizes = {}
    for label, cash_change in (("richer", 2_000_000.0), ("poorer", -600_000.0), ("same", 0.0)):
        book = notional_book(open_at_reset=False)
        book.reset(np.array([0]), market, np.array([0]))
        book.cash[0] += cash_change  # gains or losses since the last sale
        actions = np.zeros((1, 2), dtype=np.int64)
        actions[0, 0] = LayerAction.OPEN
        book.step(actions, market, np.array([0]))
        strike = float(book.strike[0, 0])
        sizes[label] = -book.quantity[0, 0]
        assert sizes[label] == expected_contracts(CAPITAL + cash_change, 1.0, strike)
    assert sizes["richer"] > sizes["same"] > sizes["poorer"] > 0
    assert sizes["same"] == 4  # 1,000,000 / (about 4,800 x 50)


def test_max_contracts_cuts_the_sale_when_the_guard_is_on() -> None:
    market = flat_market(index=4800.0)
    book = notional_book(capital=10_000_000.0, max_contracts=12)
    book.reset(np.array([0]), market, np.array([0]))
    assert book.quantity[0, 0] == -12  # 41 by notional, cut to the layer's cap
    book = notional_book(capital=10_000_000.0, guard={"book_max_contracts": 9})
    book.reset(np.array([0]), market, np.array([0]))
    assert book.quantity[0, 0] == -9  # ... and to the book's
    book = notional_book(capital=10_000_000.0, max_contracts=12, guard={"enabled": False})
    book.reset(np.array([0]), market, np.array([0]))
    assert book.quantity[0, 0] == -41  # the caps are the guard's


def test_too_little_equity_sells_nothing() -> None:
    market = flat_market(index=4800.0)
    book = notional_book(capital=200_000.0)  # 200,000 / 240,000 rounds down to 0
    book.reset(np.array([0]), market, np.array([0]))
    assert book.quantity[0, 0] == 0


def test_a_roll_keeps_the_size() -> None:
    market = flat_market(index=4800.0)
    book = notional_book()
    book.reset(np.array([0]), market, np.array([0]))
    held = book.quantity[0, 0]
    book.cash[0] += 5_000_000.0  # more equity must not grow a roll
    actions = np.zeros((1, 2), dtype=np.int64)
    actions[0, 0] = LayerAction.ROLL_OUT
    result = book.step(actions, market, np.array([0]))
    assert result.executed[0, 0] == LayerAction.ROLL_OUT
    assert book.quantity[0, 0] == held


def test_put_write_config_is_the_cash_secured_benchmark() -> None:
    config = load(BookConfig, CONFIGS / "put_write.yaml")
    (layer,) = config.layers
    assert (layer.kind, layer.sizing, layer.notional_fraction) == ("put_wing", "notional", 1.0)
    assert (layer.target_delta, layer.expiry_schedule, layer.counter_max) == (0.5, "monthly", 0)


def write(tmp_path: Path, layer: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(f"layers:\n  - {{name: p, kind: put_wing, bias: 1, {layer}}}\n")
    return path


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("sizing: notionl", r"book\.yaml.*layers\[0\]\.sizing.*'notionl'.*did you mean 'notional'"),
        (
            "sizing: notional, notional_fraction: 0",
            r"book\.yaml: key 'layers\[0\]\.notional_fraction': 0(\.0)? is out of range, must be > 0",
        ),
        (
            "sizing: notional, notional_fraction: -1",
            r"book\.yaml: key 'layers\[0\]\.notional_fraction': -1(\.0)? is out of range",
        ),
        (
            "sizing: notional, notional_fraction: 11",
            r"book\.yaml: key 'layers\[0\]\.notional_fraction': 11(\.0)? is out of range, must be <= 10",
        ),
        ("sizing: notional, notional_fraction: lots", r"book\.yaml.*layers\[0\]\.notional_fraction.*'lots'"),
        ("notional_fractio: 1.0", r"book\.yaml.*notional_fractio.*did you mean 'notional_fraction'"),
    ],
)
def test_bad_sizing_settings_are_refused_naming_file_key_and_value(
    tmp_path: Path, layer: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load(BookConfig, write(tmp_path, layer))
    assert "\n" not in str(error.value)


def test_notional_sizing_is_refused_for_a_condor(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text("layers:\n  - {name: ic, kind: condor, sizing: notional}\n")
    with pytest.raises(
        ConfigError, match=r"book\.yaml: key 'layers\[0\]'.*sizing 'notional' is for put_wing"
    ):
        load(BookConfig, path)
