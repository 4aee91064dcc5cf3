"""Advice on a book state taken from a simulated episode gives the action the agent took in the env
at that step, and the Greeks, equity and margin the env's book had."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.advise.conftest import DEFAULT_ENV, make_advisor, rules
from thetagym.advise import CsvBroker
from thetagym.advise.advisor import BALANCER_ACTION_NAMES, LAYER_ACTION_NAMES, Advice
from thetagym.advise.episode import EpisodeStep, agent_episode, write_market, write_positions
from thetagym.env.config import load_env_config
from thetagym.env.short_premium import ShortPremiumEnv
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec

STEPS = 160
GREEKS = ("delta", "gamma", "vega", "theta", "contracts", "counter_contracts", "unrealised_pnl")
VIEW_TO_RISK = {
    "delta": "delta",
    "vega": "vega_usd",
    "theta": "theta_usd",
    "contracts": "contracts",
    "counter_contracts": "counter_contracts",
    "unrealised_pnl": "unrealised_pnl",
}


def names_of(actions: np.ndarray) -> list[str]:
    return [LAYER_ACTION_NAMES[a] for a in actions[:-1]] + [BALANCER_ACTION_NAMES[actions[-1]]]


def episode(agent_name: str, scenario: str, seed: int) -> Iterator[EpisodeStep]:
    """The steps of an episode of ``agent_name`` in the default book, on a path that reaches past
    every expiry (so no contract falls off its end)."""
    config = dataclasses.replace(load_env_config(DEFAULT_ENV), scenario=scenario, path_extra_days=200)
    agent = load_policy(AgentSpec.from_path(rules(agent_name)), config.book)
    return agent_episode(config, agent, seed, STEPS)


def assert_same_book(advice: Advice, env: ShortPremiumEnv) -> None:
    view = env.core.book.view()
    for layer, risk in enumerate(advice.today.layers[:-1]):
        for field, name in VIEW_TO_RISK.items():
            assert getattr(risk, name) == pytest.approx(
                float(getattr(view, field)[0, layer]), rel=1e-9, abs=1e-9
            )
    total = advice.today.layers[-1]
    assert total.delta == pytest.approx(float(view.net_delta[0]), rel=1e-9, abs=1e-12)
    assert total.gamma_usd / total_gamma_scale(advice) == pytest.approx(
        float(view.net_gamma[0]), rel=1e-9, abs=1e-12
    )
    assert advice.today.equity == pytest.approx(float(view.equity[0]), rel=1e-12)
    assert advice.today.margin_requirement == pytest.approx(float(view.margin_requirement[0]), rel=1e-12)


def total_gamma_scale(advice: Advice) -> float:
    move = 0.01 * advice.market["index"]
    return 0.5 * 50.0 * move * move


@pytest.mark.parametrize(
    ("agent", "scenario", "seed", "actions"),
    [("dynamic_exposure", "whipsaw", 3, 3), ("hold_to_expiry", "crash", 5, 2), ("alvh", "calm", 11, 3)],
)
def test_advice_repeats_the_env_step_by_step(agent: str, scenario: str, seed: int, actions: int) -> None:
    advisor = make_advisor(agent)
    steps = acted = 0
    for step in episode(agent, scenario, seed):
        advice = advisor.advise(step.broker)
        assert [part.advised for part in advice.actions] == names_of(step.actions), f"step {steps}"
        assert_same_book(advice, step.env)
        steps += 1
        acted += any(name != "hold" for name in names_of(step.actions))
    assert steps >= 100 and acted >= actions  # the agent did act: the comparison is not of holds alone


def test_the_csv_files_carry_the_same_state(tmp_path: Path) -> None:
    """Written as the CSV adapter's files and read back, the state gives the same advice."""
    advisor = make_advisor()
    compared = 0
    for step in episode("dynamic_exposure", "whipsaw", 3):
        if all(name == "hold" for name in names_of(step.actions)):
            continue
        broker = step.broker
        book_csv = write_positions(broker.positions(), tmp_path / "positions.csv")
        market_csv = write_market(broker.market(), tmp_path / "market.csv")
        direct, read = advisor.advise(broker), advisor.advise(CsvBroker(book_csv, market_csv))
        assert [part.advised for part in read.actions] == names_of(step.actions)
        assert read.today.equity == pytest.approx(direct.today.equity, rel=1e-12)
        assert read.today.margin_requirement == pytest.approx(direct.today.margin_requirement, rel=1e-12)
        compared += 1
        if compared == 3:
            return
    pytest.fail("the episode acted fewer than 3 times")
