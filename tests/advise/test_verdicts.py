"""The guard's verdict on every choice names the rule that blocks it; a book over a cap is offered
only risk-reducing actions."""

from __future__ import annotations

from pathlib import Path

from tests.advise.conftest import EXAMPLES, SELLOFF, advise_on, make_advisor
from thetagym.advise import CsvBroker
from thetagym.advise.advisor import Advice, PartAdvice

RISK_REDUCING = {"hold", "accept_assignment", "close", "close_counter"}


def part(advice: Advice, name: str) -> PartAdvice:
    return next(p for p in advice.actions if p.part == name)


def test_selling_the_opposite_wing_out_of_balance_is_refused_by_rule_3() -> None:
    advice = make_advisor("naive_rebalancer").advise(CsvBroker(EXAMPLES / "small_book.csv", SELLOFF))
    call = part(advice, "call_wing")
    assert (call.wants, call.blocking_rules, call.advised) == ("open", (3,), "hold")
    assert call.verdict.startswith("rule 3: adds short contracts to the opposite wing")
    assert advice.today.layers[-1].delta > 0.15 * 10.0  # out of balance: long past the band


def test_adding_to_an_open_wing_is_refused_by_rule_6(tmp_path: Path) -> None:
    rows = "es_put,2026-12-18,5900,-4,60,\nes_call,2026-12-18,6100,-4,3,\nes_future,2027-03-19,,2,6000,\n"
    advice = advise_on(tmp_path, rows, agent="naive_rebalancer")
    call = part(advice, "call_wing")
    assert (call.wants, call.blocking_rules, call.advised) == ("open", (6,), "hold")
    assert "already open" in call.verdict


def test_a_counter_trade_over_the_layer_cap_is_refused_by_rule_1(tmp_path: Path) -> None:
    """The index fell 5.8% since the put wing opened (trigger 1%), the counter-trade fits its own
    cap, but one more contract takes the wing over its 12."""
    rows = "es_put,2026-12-18,5750,-12,22.5,put_wing,6000\n"
    text = "instrument,expiry,strike,quantity,average_price,layer,open_underlying\n" + rows
    advice = advise_on(tmp_path, rows, header=text)
    refused = part(advice, "put_wing").refused
    assert refused["open_counter"].startswith("rule 1: gross contracts")
    assert refused["open"].startswith("rule 6")


def test_the_margin_cap_refuses_risk_and_restricts_the_book(tmp_path: Path) -> None:
    advice = advise_on(tmp_path, "es_put,2026-12-18,5750,-4,22.5,\ncash,,,60000,,\n")
    assert advice.today.margin_use > 0.6
    assert any(text.startswith("margin use") for text in advice.breaches)
    for advised in advice.actions:
        assert set(advised.legal) <= RISK_REDUCING | {"flatten"}
    assert "rule 5: margin use over its cap" in part(advice, "call_wing").refused["open"]


def test_a_layer_over_its_cap_is_reported_and_offered_only_risk_reducing_choices(tmp_path: Path) -> None:
    advice = advise_on(tmp_path, "es_put,2026-12-18,5750,-16,22.5,\n")
    assert advice.breaches[0] == (
        f"{tmp_path / 'positions.csv'} line 2 column 'quantity': -16 takes layer 'put_wing' over its cap "
        "max_contracts 12 (it holds 16 gross contracts)"
    )
    put = part(advice, "put_wing")
    assert set(put.legal) <= RISK_REDUCING and "close" in put.legal
    assert put.refused["roll_closer"] == "the book is over a cap: only risk-reducing actions are offered"
    assert (
        "open" in part(advice, "futures").legal
    )  # the other layers are not held back: only the wing is over
