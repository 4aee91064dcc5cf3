"""Every rule agent: (num_envs, n_parts) ints within nvec, legal under the masks (except the naive
rebalancer), deterministic, and the same for a batch as for its envs one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thetagym.policies.base import Policy
from thetagym.policies.rules import AGENT_NAMES, load_rule_agent
from thetagym.pricing.instruments import InstrumentKind

from .fakes import LAYER_CHOICES, Scene

RULES = Path(__file__).parents[2] / "configs" / "rules"
KINDS = ("call_wing", "put_wing", "condor", "condor", "futures", "vix_etp", "hedge")
OPTION_KIND = {
    "call_wing": InstrumentKind.ES_CALL,
    "put_wing": InstrumentKind.ES_PUT,
    "condor": InstrumentKind.ES_PUT,
}


def random_scene(seed: int, num_envs: int = 16) -> Scene:
    """Random open layers, moneyness, leans, market signals and masks (HOLD always legal)."""
    rng = np.random.default_rng(seed)
    scene = Scene(KINDS, num_envs)
    for env in range(num_envs):
        for layer, kind in enumerate(KINDS):
            if kind in OPTION_KIND and rng.random() < 0.7:
                scene.view.hold_short(env, layer, OPTION_KIND[kind], rng.normal(0.5, 1.2), rng.uniform(1, 21))
            elif kind == "futures" and rng.random() < 0.5:
                scene.view.hold_futures(env, layer, 1)
            if rng.random() < 0.2:
                scene.view.hold_futures(env, layer, 1, counter=True)
    scene.view.unrealised_pnl[:] = rng.normal(0, 1000, scene.view.unrealised_pnl.shape)
    scene.view.net_delta[:] = rng.normal(0, 10, num_envs)
    market = [n for n in scene.names if n.startswith("market.")]
    for name in market:
        scene.observations[:, scene.names.index(name)] = rng.normal(0, 0.5, num_envs)
    scene.masks[:] = rng.random(scene.masks.shape) < 0.5
    scene.masks[:, np.arange(len(KINDS)) * LAYER_CHOICES] = True
    scene.masks[:, len(KINDS) * LAYER_CHOICES] = True
    return scene


def agents() -> list[Policy]:
    return [load_rule_agent(RULES / f"{name}.yaml") for name in AGENT_NAMES]


@pytest.mark.parametrize("name", AGENT_NAMES)
@pytest.mark.parametrize("seed", range(5))
def test_actions_have_the_multidiscrete_shape_and_respect_the_masks(name: str, seed: int) -> None:
    scene = random_scene(seed)
    policy = load_rule_agent(RULES / f"{name}.yaml")
    for _ in range(3):  # memory builds up over steps
        actions = scene.act(policy)
        assert actions.shape == (scene.num_envs, len(KINDS) + 1)
        assert np.issubdtype(actions.dtype, np.integer)
        assert ((actions >= 0) & (actions < scene.nvec)).all()
        offsets = np.concatenate([[0], np.cumsum(scene.nvec)[:-1]])
        legal = np.take_along_axis(scene.masks, actions + offsets, axis=1)
        if name != "naive_rebalancer":
            assert legal.all(), f"{name} chose a masked action"
        scene.market(index_return_bar=1.5)


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_the_same_states_give_the_same_actions(name: str) -> None:
    runs = []
    for _ in range(2):
        scene, policy = random_scene(7), load_rule_agent(RULES / f"{name}.yaml")
        runs.append([scene.act(policy) for _ in range(3)])
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_a_batch_decides_as_its_envs_would_one_by_one(name: str) -> None:
    batch = random_scene(11, num_envs=6)
    together = batch.act(load_rule_agent(RULES / f"{name}.yaml"))
    for env in range(6):
        single = random_scene(11, num_envs=6)
        single.num_envs = 1
        view = single.view
        for field_name, value in vars(view).items():
            if isinstance(value, np.ndarray):
                setattr(view, field_name, value[env : env + 1])
        single.observations = single.observations[env : env + 1]
        single.masks = single.masks[env : env + 1]
        alone = single.act(load_rule_agent(RULES / f"{name}.yaml"))
        np.testing.assert_array_equal(alone[0], together[env])


def test_reset_forgets_the_layers_openings() -> None:
    scene = random_scene(3, num_envs=2)
    policy = load_rule_agent(RULES / "dynamic_exposure.yaml")
    fresh = load_rule_agent(RULES / "dynamic_exposure.yaml")
    scene.act(policy)
    scene.market(index_return_bar=2.0)
    scene.act(policy)
    policy.reset(np.array([0, 1]))
    np.testing.assert_array_equal(scene.act(policy), scene.act(fresh))
