"""Replay recorded states through a rule agent with candidate thresholds, all states in one batch.

A rule agent's per-layer memory (:class:`~thetagym.policies.rules.memory.LayerMemory`: the index
move since each layer opened, each layer's age) depends only on what the agent observes, never on
its thresholds. So the memory is computed once, by replaying the recorded trajectories in time
order (a batch of envs per step) through the original agent; after that, any candidate config is
scored on every recorded state at once, its memory replaced by the recorded snapshot
(:class:`FrozenMemory`). This is what makes a grid search over thresholds cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from thetagym.book import BookConfig, BookView
from thetagym.env.config import EnvConfig
from thetagym.env.observation import observation_names
from thetagym.export.record import VIEW_FIELDS, Recording
from thetagym.policies import PolicyContext
from thetagym.policies.rules import RuleConfig, build_rule_agent
from thetagym.policies.rules.agent import MemoryRuleAgent
from thetagym.policies.rules.signals import market_signals

LEG_FIELDS = ("kind", "strike", "expiry_bar", "quantity", "layer", "entry_price", "is_counter")
"""The :class:`BookView` fields over leg slots ``(num_envs, max_legs)``."""


class FrozenMemory:
    """Stands in for a rule agent's :class:`~thetagym.policies.rules.memory.Memory` over a batch of
    recorded states: observing changes
    nothing; the index moves and ages ``(n_states, n_layers)`` are the recorded ones."""

    def __init__(self, index_move: np.ndarray, age_days: np.ndarray) -> None:
        self._index_move = index_move
        self._age_days = age_days

    def observe(
        self, active: np.ndarray, days: np.ndarray, holds_options: np.ndarray, index_return: np.ndarray
    ) -> None:
        """Nothing to advance: the snapshot already holds this step."""

    def index_move(self) -> np.ndarray:
        """The recorded ``(n_states, n_layers)`` log index moves since each layer opened."""
        return self._index_move

    def age_days(self) -> np.ndarray:
        """The recorded ``(n_states, n_layers)`` ages of the layers, trading days."""
        return self._age_days

    def reset(self, rows: np.ndarray) -> None:
        """Nothing to forget."""


@dataclass(frozen=True)
class Layout:
    """The env's names the rule agents read through :class:`PolicyContext`."""

    observation_names: tuple[str, ...]
    layer_names: tuple[str, ...]
    layer_kinds: tuple[str, ...]

    @classmethod
    def of(cls, env_config: EnvConfig) -> Layout:
        """The names of ``env_config``'s observation and book layers."""
        layers = env_config.book.layers
        return cls(
            tuple(observation_names(env_config)),
            tuple(layer.name for layer in layers),
            tuple(layer.kind for layer in layers),
        )

    def context(self, view: BookView) -> PolicyContext:
        """What a rule agent reads besides the observation, with ``view`` as the book."""
        return PolicyContext(view, self.observation_names, self.layer_names, self.layer_kinds, {})


@dataclass(frozen=True)
class States:
    """Recorded states as one flat batch of ``n`` (env, step) pairs, ready for a rule agent.

    ``policy_actions`` ``(n, n_parts)`` the policy's decisions; ``index_move`` and ``age_days``
    ``(n, n_layers)`` the rule agent's memory at each state; ``vix`` ``(n,)`` in points.
    """

    observations: np.ndarray
    masks: np.ndarray
    view: BookView
    index_move: np.ndarray
    age_days: np.ndarray
    policy_actions: np.ndarray
    vix: np.ndarray

    def __len__(self) -> int:
        return len(self.observations)

    def subset(self, rows: np.ndarray) -> States:
        """The states ``rows`` (a boolean mask or indices)."""
        view = BookView(**{name: getattr(self.view, name)[rows] for name in VIEW_FIELDS})
        arrays = {
            field.name: getattr(self, field.name)[rows]
            for field in dataclasses.fields(self)
            if field.name != "view"
        }
        return States(view=view, **arrays)


def cap_states(states: States, max_states: int, seed: int = 0) -> States:
    """At most ``max_states`` of ``states``: every state where the policy did something other than
    HOLD, and a uniform sample of the all-HOLD states (so HOLD's agreement is estimated without
    bias), drawn by a generator seeded with ``seed``."""
    if len(states) <= max_states:
        return states
    acting = np.flatnonzero((states.policy_actions != 0).any(axis=1))
    holding = np.flatnonzero((states.policy_actions == 0).all(axis=1))
    room = max(max_states - len(acting), 0)
    sample = np.random.default_rng(seed).choice(holding, size=min(room, len(holding)), replace=False)
    return states.subset(np.sort(np.concatenate([acting, sample])))


def memory_agent(config: RuleConfig, book_config: BookConfig) -> MemoryRuleAgent:
    """The rule agent of ``config`` for ``book_config``'s book; an error if it keeps no layer memory."""
    agent = build_rule_agent(config, book_config)
    if not isinstance(agent, MemoryRuleAgent):
        raise TypeError(f"rule agent {config.agent!r} keeps no layer memory; export cannot replay it")
    return agent


def rule_decisions(config: RuleConfig, states: States, layout: Layout, book_config: BookConfig) -> np.ndarray:
    """``(n, n_parts)`` what the rule agent of ``config`` on ``book_config``'s book decides at every
    state of ``states``, whose observation and layers ``layout`` names."""
    agent = memory_agent(config, book_config)
    agent.memory = FrozenMemory(states.index_move, states.age_days)
    return np.asarray(agent.act(states.observations, states.masks, layout.context(states.view)))


def replay_states(
    recording: Recording, config: RuleConfig, layout: Layout, book_config: BookConfig
) -> States:
    """The states of ``recording``, flattened, with the memory of ``config``'s agent (on
    ``book_config``'s book, reading names from ``layout``) at each of them."""
    agent = memory_agent(config, book_config)
    steps, envs = recording.valid.shape
    agent.reset(np.arange(envs))
    moves, ages = [], []
    for t in range(steps):
        view = BookView(**{name: recording.views[name][t] for name in VIEW_FIELDS})
        agent.act(recording.observations[t], recording.masks[t], layout.context(view))
        moves.append(np.array(agent.memory.index_move()))
        ages.append(np.array(agent.memory.age_days()))
    valid = recording.valid
    held = (recording.views["quantity"][valid] != 0).any(axis=0)  # slots never held: dropped, for speed
    view = BookView(
        **{
            name: recording.views[name][valid][:, held]
            if name in LEG_FIELDS
            else recording.views[name][valid]
            for name in VIEW_FIELDS
        }
    )
    observations = recording.observations[valid]
    return States(
        observations=observations,
        masks=recording.masks[valid],
        view=view,
        index_move=np.stack(moves)[valid],
        age_days=np.stack(ages)[valid],
        policy_actions=recording.actions[valid],
        vix=market_signals(observations, layout.context(view)).vix,
    )
