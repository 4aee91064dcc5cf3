"""Export a policy's behaviour into a rule config: record, replay, fit, measure fidelity.

:func:`export_thresholds` takes any :class:`~thetagym.policies.Policy` (a trained model, or a rule
agent for a round trip), records its decisions on fitting seeds and on held-out seeds (both
training seeds: states like the ones it learned on, but the held-out paths unseen by the fit),
chooses the layers the rules keep flat and fits the named thresholds of a rule config on the fitting states and reports agreement on the
held-out ones, per action part and value, for the fitted and the original rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thetagym.config import ConfigError
from thetagym.env.config import EnvConfig
from thetagym.evaluate.rollout import BALANCER
from thetagym.export.fidelity import fidelity_table
from thetagym.export.fit import FitResult, FitSettings, Fittable, fit, scorer
from thetagym.export.grids import FITTABLE_AGENTS
from thetagym.export.record import record
from thetagym.export.replay import Layout, States, cap_states, replay_states, rule_decisions
from thetagym.policies import Policy
from thetagym.policies.rules import RuleConfig, build_rule_agent, load_rule_config
from thetagym.policies.rules.config import ThresholdedRuleConfig
from thetagym.seeds import TRAINING_SEED_RANGE

EXPORTED = "exported"
ORIGINAL = "original"


@dataclass(frozen=True)
class ExportResult:
    """The fitted rule config and how faithful it is.

    ``fidelity``: :func:`~thetagym.export.fidelity.fidelity_table` on the held-out states, with
    the labels ``exported`` and ``original``.
    """

    config: Fittable
    original: Fittable
    fit: FitResult
    fidelity: pd.DataFrame
    fit_seeds: tuple[int, ...]
    heldout_seeds: tuple[int, ...]
    fit_states: int
    heldout_states: int
    policy_name: str

    def agreement(self, label: str = EXPORTED, decision: str = "balanced") -> float:
        """Held-out agreement over all parts of the ``label`` config (``exported`` or ``original``)
        with the policy (``decision``: ``balanced`` or ``all``)."""
        row = self.fidelity[(self.fidelity["part"] == "all") & (self.fidelity["decision"] == decision)]
        return float(row[f"{label}_agreement"].iloc[0])


def check_seeds(fit_seeds: tuple[int, ...], heldout_seeds: tuple[int, ...]) -> None:
    """Raise a :class:`ConfigError` unless ``fit_seeds`` and ``heldout_seeds`` are non-empty,
    disjoint, and within the training seeds."""
    if not fit_seeds or not heldout_seeds:
        raise ConfigError("export needs at least one fitting seed and one held-out seed")
    outside = [s for s in (*fit_seeds, *heldout_seeds) if s not in TRAINING_SEED_RANGE]
    if outside:
        raise ConfigError(
            f"export seeds must be training seeds ({TRAINING_SEED_RANGE.start}..{TRAINING_SEED_RANGE.stop - 1}); "
            f"got {outside[0]}"
        )
    if set(fit_seeds) & set(heldout_seeds):
        raise ConfigError("the held-out seeds must differ from the fitting seeds")


def fittable_config(rules: RuleConfig | str | Path, expect: str | None = None) -> Fittable:
    """The rule config to start from (``rules``, loaded if a path), checked to have named
    thresholds and, when ``expect`` is given, to be of that agent."""
    wanted = (expect,) if expect else FITTABLE_AGENTS
    config = load_rule_config(rules, expect=wanted) if isinstance(rules, str | Path) else rules
    if config.agent not in wanted or not isinstance(config, ThresholdedRuleConfig):
        raise ConfigError(
            f"a {config.agent!r} rule config cannot be exported to; give one of {', '.join(map(repr, wanted))}"
        )
    return config


def export_thresholds(
    policy: Policy,
    rules: RuleConfig | str | Path,
    env_config: EnvConfig,
    fit_seeds: tuple[int, ...],
    heldout_seeds: tuple[int, ...],
    settings: FitSettings | None = None,
    max_fit_states: int = 6000,
    name: str = "",
    expect: str | None = None,
    progress: bool = False,
) -> ExportResult:
    """Fit the thresholds of ``rules`` so that its agent reproduces ``policy``'s decisions.

    The policy is recorded in envs of ``env_config`` on ``fit_seeds`` (to fit) and
    ``heldout_seeds`` (to judge the fit), both training seeds. ``settings`` steer the search
    (default :class:`FitSettings`); ``max_fit_states`` caps the fitting states
    (:func:`~thetagym.export.replay.cap_states`); ``name`` names the exported config (default:
    ``<agent>-from-<policy name>``); ``expect`` restricts ``rules`` to one agent; ``progress``
    shows progress bars.
    """
    check_seeds(fit_seeds, heldout_seeds)
    original = fittable_config(rules, expect)
    book = env_config.book
    layout = Layout.of(env_config)

    source = str(rules) if isinstance(rules, str | Path) else ""
    build_rule_agent(original, book, source)  # settings naming the book's layers fail here, with the file

    def states(seeds: tuple[int, ...], label: str) -> States:
        return replay_states(record(policy, env_config, seeds, progress, label), original, layout, book)

    fit_states = cap_states(states(fit_seeds, "record fit"), max_fit_states)
    heldout = states(heldout_seeds, "record held-out")
    result = fit(
        original,
        fit_states,
        heldout,
        scorer(layout, book),
        settings or FitSettings(),
        progress,
        layout.layer_names,
    )
    config = dataclasses.replace(result.config, name=name or f"{original.agent}-from-{policy.name}")
    decisions = {
        EXPORTED: rule_decisions(config, heldout, layout, book),
        ORIGINAL: rule_decisions(original, heldout, layout, book),
    }
    parts = [*layout.layer_names, BALANCER]
    return ExportResult(
        config=config,
        original=original,
        fit=result,
        fidelity=fidelity_table(heldout.policy_actions, decisions, parts),
        fit_seeds=tuple(fit_seeds),
        heldout_seeds=tuple(heldout_seeds),
        fit_states=len(fit_states),
        heldout_states=len(heldout),
        policy_name=policy.name,
    )
