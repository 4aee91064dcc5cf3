"""alvh's key decisions: laddering behind gates, the hedge band, size reduction near break-even."""

from __future__ import annotations

import pytest

from thetagym.book import BalancerAction, LayerAction
from thetagym.policies.rules import AlvhConfig, AlvhThresholds, build_rule_agent
from thetagym.pricing.instruments import InstrumentKind

from .fakes import Scene

KINDS = ("condor", "condor", "condor", "hedge")
BUDGET = 10.0


def agent(**thresholds: float):
    return build_rule_agent(AlvhConfig(delta_budget=BUDGET, thresholds=AlvhThresholds(**thresholds)))


def one_condor(days: float = 14.0, moneyness: float = 1.5) -> Scene:
    scene = Scene(KINDS)
    scene.view.hold_short(0, 0, InstrumentKind.ES_PUT, moneyness, days=days)
    scene.view.hold_short(0, 0, InstrumentKind.ES_CALL, moneyness + 0.3, days=days)
    return scene


def aged(scene: Scene, policy: object, days: float) -> None:
    """Let the open condor live ``days`` days in the agent's memory."""
    scene.act(policy)
    scene.view.days_to_expiry[0, 0] -= days


def test_the_next_condor_opens_once_the_ladder_is_due_and_the_gates_pass() -> None:
    scene, policy = one_condor(), agent(ladder_days=5.0)
    aged(scene, policy, 6.0)
    actions = scene.act(policy)
    assert actions[0, :3].tolist() == [LayerAction.HOLD, LayerAction.OPEN, LayerAction.HOLD]


def test_no_new_condor_before_the_ladder_is_due() -> None:
    scene, policy = one_condor(), agent(ladder_days=5.0)
    aged(scene, policy, 2.0)
    assert (scene.act(policy)[0, :3] == LayerAction.HOLD).all()


@pytest.mark.parametrize(
    "gate",
    [{"index_rsi": 0.8}, {"index_rsi": -0.8}, {"index_macd": 2.5}, {"vix_rsi": 0.6}, {"vix_macd": 1.0}],
)
def test_a_closed_gate_stops_the_ladder(gate: dict[str, float]) -> None:
    scene, policy = one_condor(), agent(ladder_days=5.0)
    aged(scene, policy, 6.0)
    scene.market(**gate)  # observation units: vix_macd x20 is 5% of VIX
    assert (scene.act(policy)[0, :3] == LayerAction.HOLD).all()


def test_an_empty_book_opens_its_first_condor_when_the_gates_pass() -> None:
    actions = Scene(KINDS).act(agent())
    assert actions[0, :3].tolist() == [LayerAction.OPEN, LayerAction.HOLD, LayerAction.HOLD]


@pytest.mark.parametrize(
    ("lean", "expected"),
    [
        (0.2, BalancerAction.SHIFT_BEAR),
        (-0.2, BalancerAction.SHIFT_BULL),
        (0.1, BalancerAction.HOLD),
        (0.02, BalancerAction.FLATTEN),
    ],
)
def test_the_hedge_turns_on_outside_the_band_and_off_inside(lean: float, expected: int) -> None:
    scene = one_condor()
    scene.view.hold_futures(0, 3, 1)  # the hedge is on
    scene.view.net_delta[:] = lean * BUDGET
    assert scene.act(agent(hedge_band=0.15, unhedge_band=0.05))[0, -1] == expected


def test_an_off_hedge_opens_when_the_book_leaves_the_band() -> None:
    scene = one_condor()
    scene.view.net_delta[:] = 0.3 * BUDGET
    actions = scene.act(agent(hedge_band=0.15))
    assert actions[0, 3] == LayerAction.OPEN
    assert actions[0, -1] == BalancerAction.SHIFT_BEAR
    scene.view.net_delta[:] = 0.0
    assert scene.act(agent())[0, -1] == BalancerAction.HOLD  # nothing to flatten


def test_several_condors_near_break_even_close_the_most_threatened_one() -> None:
    scene = Scene(KINDS)
    for layer, z in enumerate((0.4, 0.2, 2.0)):
        scene.view.hold_short(0, layer, InstrumentKind.ES_PUT, z)
    actions = scene.act(agent(breakeven_std=0.5, crowded_layers=2))
    assert actions[0, :3].tolist() == [LayerAction.HOLD, LayerAction.CLOSE, LayerAction.HOLD]


def test_one_condor_near_break_even_is_kept() -> None:
    scene = Scene(KINDS)
    for layer, z in enumerate((0.4, 1.5, 2.0)):
        scene.view.hold_short(0, layer, InstrumentKind.ES_PUT, z)
    assert (scene.act(agent(breakeven_std=0.5, crowded_layers=2))[0, :3] == LayerAction.HOLD).all()
