"""Residual policies over a base rule: FOLLOW resolves to the rule's proposal, a fresh network
starts as the rule, the agent folder carries its rule (digest-checked), and resume is exact."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from thetagym.book import BalancerAction, LayerAction
from thetagym.config import ConfigError
from thetagym.env.config import resolve_config
from thetagym.evaluate.rollout import rollout
from thetagym.policies import PolicyContext
from thetagym.policies.residual import RuleResidual
from thetagym.policies.rules import load_rule_agent
from thetagym.policies.stored import ModelLoadError
from thetagym.policies.trained import BASE_RULES_FILE, load_trained_agent
from thetagym.train import run
from thetagym.train.config import load_train_config
from thetagym.train.residual import start_at_rule

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs/train/tiny.yaml"
RULES = ROOT / "configs/rules/tuned/dynamic_exposure.yaml"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    torch.set_num_threads(1)


def test_follow_resolves_to_the_proposal_and_other_choices_pass_through() -> None:
    residual = RuleResidual(load_rule_agent(RULES), [8, 8, 4])
    residual.proposal = np.array([[2, 5, 1], [0, 4, 3]])
    assert residual.policy_nvec == [9, 9, 5]
    actions = residual.resolve(np.array([[8, 1, 4], [3, 8, 0]]))
    np.testing.assert_array_equal(actions, [[2, 1, 1], [3, 4, 0]])
    encoded = residual.one_hot(residual.proposal)
    assert encoded.shape == (2, 20)
    np.testing.assert_array_equal(np.flatnonzero(encoded[0]), [2, 8 + 5, 16 + 1])
    masks = np.zeros((2, 20), dtype=bool)
    masks[:, [0, 8, 16]] = True  # HOLD only
    widened = residual.masks(masks)
    assert widened.shape == (2, 23)
    np.testing.assert_array_equal(np.flatnonzero(widened[0]), [0, 8, 9, 17, 18, 22])


def test_start_at_rule_sets_the_follow_probability() -> None:
    head = torch.nn.Linear(4, 14)
    policy = type("Policy", (), {"action_net": head})()
    start_at_rule(policy, RuleResidual(load_rule_agent(RULES), [8, 4]), 0.99)
    logits = head(torch.zeros(1, 4))[0]
    first, second = torch.softmax(logits[:9], 0), torch.softmax(logits[9:], 0)
    assert first[-1].item() == pytest.approx(0.99)
    assert second[-1].item() == pytest.approx(0.99)


def test_departures_narrow_the_choices_and_keep_the_follow_probability() -> None:
    """Limited to HOLD and ROLL_CLOSER, a part offers only those (where legal) and FOLLOW; the
    balancer part, which has no ROLL_CLOSER, offers HOLD and FOLLOW; FOLLOW starts at p over the
    allowed choices."""
    residual = RuleResidual(load_rule_agent(RULES), [8, 4], ["hold", "roll_closer"])
    masks = np.ones((1, 12), dtype=bool)
    masks[0, 1] = False  # ROLL_CLOSER illegal on the layer
    np.testing.assert_array_equal(np.flatnonzero(residual.masks(masks)[0]), [0, 8, 9, 13])
    head = torch.nn.Linear(4, 14)
    start_at_rule(type("Policy", (), {"action_net": head})(), residual, 0.9)
    logits = head(torch.zeros(1, 4))[0]
    layer = torch.softmax(logits[[0, 1, 8]], 0)  # the allowed choices and FOLLOW
    balancer = torch.softmax(logits[[9, 13]], 0)
    assert layer[-1].item() == pytest.approx(0.9)
    assert balancer[-1].item() == pytest.approx(0.9)


def test_triggers_open_departures_only_where_the_rule_proposes_them() -> None:
    """With ``triggers`` [accept_assignment], a part may depart only on the rows where the rule
    proposes ACCEPT_ASSIGNMENT for that part; elsewhere FOLLOW is its only choice."""
    residual = RuleResidual(load_rule_agent(RULES), [8, 8, 4], ["roll_closer"], None, ["accept_assignment"])
    assign, hold = int(LayerAction.ACCEPT_ASSIGNMENT), int(LayerAction.HOLD)
    residual.proposal = np.array([[assign, hold, 0], [hold, assign, 0], [hold, hold, 0]])
    masks = residual.masks(np.ones((3, 20), dtype=bool))
    roll, follow = int(LayerAction.ROLL_CLOSER), 8
    np.testing.assert_array_equal(np.flatnonzero(masks[0]), [roll, follow, 9 + follow, 18 + 4])
    np.testing.assert_array_equal(np.flatnonzero(masks[1]), [follow, 9 + roll, 9 + follow, 18 + 4])
    np.testing.assert_array_equal(np.flatnonzero(masks[2]), [follow, 9 + follow, 18 + 4])


def test_unknown_departures_are_refused_with_the_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(TINY.read_text() + f"\nbase_rules: {RULES}\ndepartures: [hold, roll_in]\n")
    with pytest.raises(ConfigError, match=r"train.yaml.*departures.*'roll_in'"):
        load_train_config(path)
    path.write_text(TINY.read_text() + f"\nbase_rules: {RULES}\ndeparture_triggers: [assign]\n")
    with pytest.raises(ConfigError, match=r"train.yaml.*departure_triggers.*'assign'"):
        load_train_config(path)
    path.write_text(TINY.read_text() + "\ndepartures: [hold]\n")
    with pytest.raises(ConfigError, match=r"departures: set only for a residual policy"):
        load_train_config(path)


@pytest.fixture(scope="module")
def residual_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "residual"
    torch.set_num_threads(1)
    config = dataclasses.replace(
        load_train_config(TINY), base_rules=str(RULES), scenario="trend_down", follow_probability=0.999999
    )
    run.train(config, run_dir, progress=False)
    return run_dir


def test_a_fresh_residual_agent_acts_as_its_rule(residual_run: Path) -> None:
    """With FOLLOW all but certain, the trained agent's episodes equal the rule's, measure for measure."""
    config = resolve_config(ROOT / "configs/env/default.yaml", {"scenario": "trend_down", "episode_days": 10})
    seeds = (1_000_000_001, 1_000_000_002, 1_000_000_003)
    agent = rollout(load_trained_agent(residual_run), config, seeds).episodes
    rule = rollout(load_rule_agent(RULES, config.book), config, seeds).episodes
    for measure in ("pnl", "rolls", "counter_trades", "assignments", "max_drawdown"):
        np.testing.assert_array_equal(agent[measure], rule[measure])
    assert rule["counter_trades"].sum() + rule["rolls"].sum() > 0  # the rule did act


def test_every_policy_folder_carries_the_base_rules(residual_run: Path) -> None:
    for folder in (residual_run, residual_run / "best", residual_run / "checkpoints/last"):
        assert (folder / BASE_RULES_FILE).read_bytes() == RULES.read_bytes()
        assert yaml.safe_load((folder / "spaces.yaml").read_text())["base_rules"] == BASE_RULES_FILE


@pytest.mark.parametrize(
    ("parts", "triggers"), [((), ()), (("put_wing",), ()), (("put_wing",), ("open_counter", "open"))]
)
def test_a_limited_residual_agent_departs_only_as_allowed(
    tmp_path: Path, parts: tuple[str, ...], triggers: tuple[str, ...]
) -> None:
    """A fresh agent that mostly departs (FOLLOW at 0.2), limited to HOLD and ROLL_CLOSER (and, with
    ``departure_parts``, to the put wing; with ``departure_triggers``, to where the rule proposes
    those actions): its folder records the limits, and in its episodes every action is the rule's,
    HOLD or ROLL_CLOSER, on the allowed parts and proposals only."""
    config = dataclasses.replace(
        load_train_config(TINY),
        base_rules=str(RULES),
        scenario="trend_down",
        follow_probability=0.2,
        departures=("hold", "roll_closer"),
        departure_parts=parts,
        departure_triggers=triggers,
        total_timesteps=64,
    )
    run.train(config, tmp_path / "run", progress=False)
    record = yaml.safe_load((tmp_path / "run/spaces.yaml").read_text())
    assert record["departures"] == ["hold", "roll_closer"]
    assert record.get("departure_parts", []) == list(parts)
    assert record.get("departure_triggers", []) == list(triggers)
    agent = load_trained_agent(tmp_path / "run")
    assert agent.residual is not None and agent.residual.departures == ("hold", "roll_closer")
    assert agent.residual.triggers == triggers
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    act = agent.act

    def recording_act(observations: np.ndarray, masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        actions = act(observations, masks, context)
        steps.append((np.asarray(actions), agent.residual.proposal.copy()))
        return actions

    agent.act = recording_act  # type: ignore[method-assign]
    env_config = resolve_config(
        ROOT / "configs/env/default.yaml", {"scenario": "trend_down", "episode_days": 20}
    )
    rollout(agent, env_config, (1_000_000_001, 1_000_000_002, 1_000_000_003))
    actions, proposals = (np.concatenate(part) for part in zip(*steps, strict=True))
    departed = actions != proposals
    assert departed.any()
    layers, balancer = actions[:, :-1], actions[:, -1]
    assert np.isin(layers[departed[:, :-1]], [LayerAction.HOLD, LayerAction.ROLL_CLOSER]).all()
    assert (balancer[departed[:, -1]] == BalancerAction.HOLD).all()
    if parts:
        assert not departed[:, 1:].any()  # only the put wing (the first part) departs
    if triggers:
        proposed = [int(LayerAction[name.upper()]) for name in triggers]
        assert np.isin(proposals[departed[:, 0], 0], proposed).all()
        assert (~np.isin(proposals[:, 0], proposed)).any()  # the rule proposed others too


def test_unknown_departure_parts_are_refused_with_the_key_and_value() -> None:
    config = dataclasses.replace(
        load_train_config(TINY), base_rules=str(RULES), departure_parts=("put_wings",)
    )
    with pytest.raises(
        ConfigError, match=r"departure_parts: unknown part 'put_wings'; choose from put_wing, "
    ):
        run.build_env(config)


def test_a_changed_base_rule_is_refused(residual_run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "agent"
    shutil.copytree(residual_run / "best", copy)
    path = copy / BASE_RULES_FILE
    path.write_text(path.read_text().replace("roll_delta: 0.27", "roll_delta: 0.5"))
    with pytest.raises(ModelLoadError, match=f"{BASE_RULES_FILE}: sha256 does not match"):
        load_trained_agent(copy)
