"""The benchmark agents: the naive rebalancer's spiral choice, hold-to-expiry and put-write cadence."""

from __future__ import annotations

from thetagym.book import LayerAction
from thetagym.policies.rules import (
    HoldToExpiryConfig,
    NaiveRebalancerConfig,
    PutWriteConfig,
    build_rule_agent,
)
from thetagym.pricing.instruments import InstrumentKind

from .fakes import Scene

CALL, PUT = 0, 1
KINDS = ("call_wing", "put_wing", "vix_etp")


def strangle() -> Scene:
    scene = Scene(KINDS)
    scene.view.hold_short(0, CALL, InstrumentKind.ES_CALL, 1.0)
    scene.view.hold_short(0, PUT, InstrumentKind.ES_PUT, -0.3)
    return scene


def test_naive_rebalancer_sells_more_of_the_opposite_wing_even_when_masked() -> None:
    scene = strangle()
    scene.view.net_delta[:] = 8.0  # puts in the money: the book is long
    scene.masks[:] = False  # the guard forbids everything; the naive agent does not look
    policy = build_rule_agent(NaiveRebalancerConfig(delta_budget=10.0, imbalance=0.5))
    assert scene.act(policy)[0].tolist() == [LayerAction.OPEN, 0, 0, 0]
    scene.view.net_delta[:] = -8.0
    assert scene.act(policy)[0].tolist() == [0, LayerAction.OPEN, 0, 0]
    scene.view.net_delta[:] = 2.0
    assert (scene.act(policy) == 0).all()


def test_hold_to_expiry_opens_flat_layers_and_holds_open_ones() -> None:
    policy = build_rule_agent(HoldToExpiryConfig())
    flat = Scene(KINDS)
    assert flat.act(policy)[0].tolist() == [LayerAction.OPEN, LayerAction.OPEN, 0, 0]
    assert (strangle().act(policy) == 0).all()
    expired_put = Scene(KINDS)
    expired_put.view.hold_short(0, CALL, InstrumentKind.ES_CALL, 1.0)
    assert expired_put.act(policy)[0].tolist() == [0, LayerAction.OPEN, 0, 0]


def test_put_write_sells_the_put_each_time_it_is_flat_and_closes_the_rest() -> None:
    policy = build_rule_agent(PutWriteConfig())
    scene = Scene(("put_wing", "call_wing"))
    assert scene.act(policy)[0].tolist() == [LayerAction.OPEN, 0, 0]
    scene.view.hold_short(0, 0, InstrumentKind.ES_PUT, 0.0, days=21.0)
    assert scene.act(policy)[0].tolist() == [0, 0, 0]  # held through the month
    scene.view.hold_short(0, 1, InstrumentKind.ES_CALL, 1.0)
    assert scene.act(policy)[0].tolist() == [0, LayerAction.CLOSE, 0]
    kept = build_rule_agent(PutWriteConfig(close_other_layers=False))
    assert (scene.act(kept) == 0).all()


def test_assigned_futures_are_closed_before_the_structure_is_sold_again() -> None:
    for policy, kinds in (
        (build_rule_agent(HoldToExpiryConfig()), KINDS),
        (build_rule_agent(PutWriteConfig()), ("put_wing",)),
    ):
        scene = Scene(kinds)
        put = list(kinds).index("put_wing")
        scene.view.hold_futures(0, put, 2)  # the expired put was assigned
        assert scene.act(policy)[0, put] == LayerAction.CLOSE
