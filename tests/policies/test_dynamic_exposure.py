"""dynamic_exposure's key decisions on constructed book states."""

from __future__ import annotations

import numpy as np
import pytest

from thetagym.book import BalancerAction, LayerAction
from thetagym.policies.rules import DynamicExposureConfig, DynamicExposureThresholds, build_rule_agent
from thetagym.policies.rules.config import DynamicExposureRegime
from thetagym.pricing.instruments import InstrumentKind

from .fakes import Scene

CALL, PUT, FUTURES, HEDGE = 0, 1, 2, 3
KINDS = ("call_wing", "put_wing", "futures", "hedge")
BUDGET = 10.0


def agent(**thresholds: float):
    config = DynamicExposureConfig(delta_budget=BUDGET, thresholds=DynamicExposureThresholds(**thresholds))
    return build_rule_agent(config)


def strangle(num_envs: int = 1, call_z: float = 1.0, put_z: float = 1.0) -> Scene:
    scene = Scene(KINDS, num_envs)
    for env in range(num_envs):
        scene.view.hold_short(env, CALL, InstrumentKind.ES_CALL, call_z)
        scene.view.hold_short(env, PUT, InstrumentKind.ES_PUT, put_z)
    return scene


def test_a_breached_put_wing_is_rolled_closer_not_balanced_by_adding_calls() -> None:
    scene = strangle(call_z=1.8, put_z=-0.2)  # put ~58 delta, call ~4 delta
    scene.view.net_delta[:] = 0.9 * BUDGET  # the short puts made the book long
    actions = scene.act(agent())
    assert actions[0, PUT] == LayerAction.ROLL_CLOSER
    assert actions[0, CALL] == LayerAction.ROLL_CLOSER  # the idle wing comes closer too
    assert not (actions[0, :-1] == LayerAction.OPEN).any()


def test_a_quiet_strangle_is_held() -> None:
    actions = strangle(call_z=1.0, put_z=1.0).act(agent())
    assert (actions == 0).all()


def test_assignment_only_when_deep_in_the_money_and_the_spread_is_wide() -> None:
    deep = strangle(put_z=-1.5)  # put ~93 delta; relative spread ~0.7% at VIX 20
    assert deep.act(agent(assignment_spread=0.005))[0, PUT] == LayerAction.ACCEPT_ASSIGNMENT
    # spread narrower than the threshold: roll instead
    assert deep.act(agent(assignment_spread=0.05))[0, PUT] == LayerAction.ROLL_CLOSER
    # not deep enough (~69 delta): roll instead
    shallow = strangle(put_z=-0.5)
    assert shallow.act(agent(assignment_spread=0.0))[0, PUT] == LayerAction.ROLL_CLOSER


def test_wider_spreads_in_high_volatility_tip_the_choice_to_assignment() -> None:
    scene = strangle(put_z=-1.5)
    scene.set_vix(15.0)
    assert scene.act(agent(assignment_spread=0.008))[0, PUT] == LayerAction.ROLL_CLOSER
    scene.set_vix(45.0)
    assert scene.act(agent(assignment_spread=0.008))[0, PUT] == LayerAction.ACCEPT_ASSIGNMENT


def test_counter_trade_opens_against_the_bias_on_the_trigger_and_closes_on_reversal() -> None:
    scene = strangle()
    policy = agent(counter_trigger=0.01, counter_revert=0.004)
    scene.act(policy)  # the agent notes where each layer opened
    scene.market(index_return_bar=1.2)  # index up 1.2%: against the short call wing
    actions = scene.act(policy)
    assert actions[0, CALL] == LayerAction.OPEN_COUNTER
    assert actions[0, PUT] == LayerAction.HOLD  # with the put wing's bias
    scene.view.hold_futures(0, CALL, 1, counter=True)
    scene.market(index_return_bar=0.3)  # further up: keep the counter
    assert scene.act(policy)[0, CALL] == LayerAction.HOLD
    scene.market(index_return_bar=-1.2)  # back to +0.3% since opening: below the revert level
    assert scene.act(policy)[0, CALL] == LayerAction.CLOSE_COUNTER


def test_assigned_futures_close_at_the_take_profit_then_options_reopen() -> None:
    scene = Scene(KINDS)
    scene.view.hold_short(0, CALL, InstrumentKind.ES_CALL, 1.0)
    scene.view.hold_futures(0, PUT, 2)  # the put wing was assigned: flat options, long futures
    scene.view.unrealised_pnl[0, PUT] = 400.0 * 2
    policy = agent(take_profit=500.0)
    assert scene.act(policy)[0, PUT] == LayerAction.HOLD  # no reopening while futures are worked
    scene.view.unrealised_pnl[0, PUT] = 600.0 * 2
    assert scene.act(policy)[0, PUT] == LayerAction.CLOSE
    flat = Scene(KINDS)
    flat.view.hold_short(0, CALL, InstrumentKind.ES_CALL, 1.0)
    assert flat.act(policy)[0, PUT] == LayerAction.OPEN


@pytest.mark.parametrize(
    ("lean", "expected"),
    [
        (1.5, BalancerAction.SHIFT_BEAR),
        (-1.5, BalancerAction.SHIFT_BULL),
        (0.5, BalancerAction.HOLD),
        (0.1, BalancerAction.FLATTEN),
    ],
)
def test_balancer_shifts_against_the_lean_and_flattens_inside_the_band(lean: float, expected: int) -> None:
    scene = strangle()
    scene.view.hold_futures(0, HEDGE, -1)  # the balancer's futures from an earlier shift
    scene.view.net_delta[:] = lean * BUDGET
    policy = agent(balance_band=1.0, flatten_band=0.25, imbalance=2.0)
    assert scene.act(policy)[0, -1] == expected


def test_vix_regime_picks_its_thresholds_per_env() -> None:
    config = DynamicExposureConfig(
        delta_budget=BUDGET,
        thresholds=DynamicExposureThresholds(roll_delta=0.30),
        regimes=(
            DynamicExposureRegime(vix_below=18.0, thresholds=DynamicExposureThresholds(roll_delta=0.25)),
        ),
    )
    scene = strangle(num_envs=2, put_z=0.6)  # put ~27 delta
    scene.observations[:, scene.names.index("market.log_vix")] = np.log(np.array([12.0, 30.0]) / 20.0)
    actions = scene.act(build_rule_agent(config))
    assert actions[:, PUT].tolist() == [LayerAction.ROLL_CLOSER, LayerAction.HOLD]


def test_balancer_does_not_flatten_a_hedge_it_never_shifted() -> None:
    scene = strangle()
    scene.view.hold_short(0, HEDGE, InstrumentKind.VIX_CALL, 2.0)  # a standing VIX-call hedge
    scene.view.quantity[0, 2] = 1  # long, not short
    assert scene.act(agent())[0, -1] == BalancerAction.HOLD


def flat_agent(*layers: str, **thresholds: float):
    config = DynamicExposureConfig(
        delta_budget=BUDGET, thresholds=DynamicExposureThresholds(**thresholds), flat_layers=layers
    )
    return build_rule_agent(config)


def test_a_flat_layer_is_closed_when_open_and_never_reopened() -> None:
    policy = flat_agent("call_wing_0")
    scene = strangle(call_z=-0.2, put_z=1.0)  # the call wing is breached (~58 delta): it would roll
    scene.view.net_delta[:] = -0.9 * BUDGET  # and the lean would roll it as the idle wing too
    actions = scene.act(policy)
    assert actions[0, CALL] == LayerAction.CLOSE
    assert actions[0, PUT] == LayerAction.HOLD
    flat = Scene(KINDS)  # both wings closed: the put wing comes back, the call wing stays flat
    for _ in range(3):
        actions = flat.act(policy)
        assert actions[0, CALL] == LayerAction.HOLD
        assert actions[0, PUT] == LayerAction.OPEN


def test_a_flat_layer_holding_only_assigned_futures_or_counters_is_closed() -> None:
    policy = flat_agent("call_wing_0", "futures_2")
    scene = Scene(KINDS)
    scene.view.hold_futures(0, CALL, -2)  # assigned short futures, no options
    scene.view.hold_futures(0, FUTURES, 1, counter=True)  # only a counter-trade
    actions = scene.act(policy)
    assert actions[0, CALL] == LayerAction.CLOSE and actions[0, FUTURES] == LayerAction.CLOSE


def test_a_flat_layer_is_never_counter_traded() -> None:
    scene = strangle()
    policy = flat_agent("call_wing_0", counter_trigger=0.01)
    scene.act(policy)
    scene.view.is_open[0, CALL] = False  # the close went through
    scene.view.contracts[0, CALL] = 0.0
    scene.view.quantity[0, 0] = 0.0
    scene.market(index_return_bar=1.2)  # against the call wing's bias: it would counter-trade
    assert scene.act(policy)[0, CALL] == LayerAction.HOLD


def test_a_flat_layer_whose_close_is_forbidden_is_held() -> None:
    scene = strangle(call_z=-0.2)  # breached: the roll is legal, the close is not
    scene.forbid(CALL, LayerAction.CLOSE)
    actions = scene.act(flat_agent("call_wing_0"))
    assert actions[0, CALL] == LayerAction.HOLD
    assert actions[0, PUT] == LayerAction.HOLD


def test_no_flat_layers_is_todays_agent() -> None:
    scene = strangle(num_envs=3, call_z=-0.2, put_z=0.6)
    scene.view.net_delta[:] = np.array([-0.9, 0.0, 0.9]) * BUDGET
    assert (scene.act(flat_agent()) == scene.act(agent())).all()
