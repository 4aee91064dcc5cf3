"""The tune config: which rule config to tune, over which space, judged how, on which markets.

A search space names settings of the rule config by their key path in its YAML file
(``thresholds.roll_delta``, ``regimes.0.thresholds.counter_trigger``, ``flat_layers``), each with a
float or int range or a list of choices. Constraints are ``MEASURE <= VALUE`` or ``MEASURE >= VALUE``
on the pooled summary mean of a trial (the single scenario's row when there is one scenario).

>>> parse_constraint("max_drawdown <= 0.03")
Constraint(measure='max_drawdown', operator='<=', bound=0.03)
>>> parse_constraint("max_drawdown <= 0.03").violation({"max_drawdown": 0.05})
0.020000000000000004
>>> ParameterSpec(low=0.1, high=0.4).describe()
'float in [0.1, 0.4]'
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from thetagym.config import ConfigError, build, read_yaml, setting, suggest
from thetagym.env.config import MAX_EPISODE_DAYS
from thetagym.evaluate.config import (
    DEFAULT_ENV_CONFIG,
    ScenarioSpec,
    check_replay_name,
    check_scenario_name,
    resolve_path,
)
from thetagym.market.scenarios import DEFAULT_MIX
from thetagym.measures import DAILY_FIELDS, HEADLINE_MEASURES, SUMMARY_FIELDS, TARGET_VOLATILITY
from thetagym.policies.rules.config import AGENT_NAMES, CONFIG_TYPES
from thetagym.seeds import (
    EVALUATION_SEED_BASE,
    MAX_SEED,
    TRAINING_SEED_RANGE,
    check_evaluation_seeds,
    episode_seed,
)

CONSTRAINT_MEASURES = (*dict.fromkeys((*SUMMARY_FIELDS, *DAILY_FIELDS, "premium_sold", "cvar_5")),)
"""Measures a constraint may bound: every measure of a trial's summary."""
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``measure operator bound`` on a trial's summary mean."""

    measure: str
    operator: Literal["<=", ">="]
    bound: float

    def violation(self, measures: dict[str, float]) -> float:
        """How far ``measures`` lie outside the constraint (<= 0: satisfied; NaN counts as violated)."""
        value = measures.get(self.measure, float("nan"))
        if value != value:  # NaN
            return float("inf")
        return value - self.bound if self.operator == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.measure} {self.operator} {self.bound:g}"


def parse_constraint(text: str, where: str = "constraint") -> Constraint:
    """The :class:`Constraint` of ``text``, ``"measure <= value"`` (or ``>=``), or a
    :class:`ConfigError` starting with ``where`` (file and key)."""
    match = _CONSTRAINT.match(text)
    if match is None:
        raise ConfigError(f"{where}: {text!r} must read 'MEASURE <= VALUE' or 'MEASURE >= VALUE'")
    measure, operator, bound = match.groups()
    if measure not in CONSTRAINT_MEASURES:
        raise ConfigError(
            f"{where}: unknown measure {measure!r}{suggest(measure, CONSTRAINT_MEASURES)}; "
            f"known: {', '.join(CONSTRAINT_MEASURES)}"
        )
    try:
        value = float(bound)
    except ValueError:
        raise ConfigError(f"{where}: {bound!r} in {text!r} is not a number") from None
    return Constraint(measure, typing.cast(Literal["<=", ">="], operator), value)


@dataclass(frozen=True)
class ParameterSpec:
    """One dimension of the search space: a ``low``..``high`` range (``type`` float or int, ``log``
    scale, optional ``step``) or a list of ``choices`` (any YAML values, lists included)."""

    low: float | None = setting(None, doc="lowest value of a range")
    high: float | None = setting(None, doc="highest value of a range")
    type: Literal["float", "int"] = setting("float", doc="float or int range")
    step: float | None = setting(None, gt=0.0, doc="grid step of a range (none: continuous)")
    log: bool = setting(False, doc="sample the range on a log scale")
    choices: tuple[Any, ...] | None = setting(None, doc="the values to choose among, instead of a range")

    def __post_init__(self) -> None:
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either 'choices' or 'low' and 'high', not both")
            if not self.choices:
                raise ValueError("'choices' must list at least one value")
            return
        if self.low is None or self.high is None:
            raise ValueError("a range needs both 'low' and 'high' (or give 'choices')")
        if self.low >= self.high:
            raise ValueError(f"'low' {self.low} must be below 'high' {self.high}")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("a 'log' range needs 'low' > 0 and no 'step'")
        if self.type == "int" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError(f"an int range needs whole bounds, got {self.low}..{self.high}")

    def describe(self) -> str:
        """A short text of the dimension, for tables and headers."""
        if self.choices is not None:
            return "one of " + ", ".join(_flow(c) for c in self.choices)
        text = f"{self.type} in [{self.low:g}, {self.high:g}]"
        if self.step is not None:
            text += f" step {self.step:g}"
        return text + (" (log)" if self.log else "")


@dataclass(frozen=True)
class TuneConfig:
    """A rule config's thresholds searched with Optuna on training seeds, the winner judged on
    held-out evaluation seeds against the untuned config, path by path."""

    rules: Path = setting(doc="the rule config to tune (configs/rules/*.yaml)")
    space: dict[str, ParameterSpec] = setting(
        doc="key path in the rule config (thresholds.roll_delta, flat_layers, ...) -> range or choices"
    )
    objective: str = setting("sharpe", doc="headline measure maximised: sharpe, sortino, ...")
    constraints: tuple[str, ...] = setting((), doc="'MEASURE <= VALUE' or '>=' on a trial's pooled means")
    env: Path = setting(DEFAULT_ENV_CONFIG, doc="env (book) config YAML")
    scenarios: tuple[str | ScenarioSpec, ...] = setting(
        (DEFAULT_MIX,), doc="scenario names, or {replay: NAME_OR_START:END} mappings"
    )
    episodes: int = setting(16, ge=1, le=100_000, doc="episodes per scenario per trial")
    days: int = setting(63, ge=1, le=MAX_EPISODE_DAYS, doc="trading days per episode")
    trials: int = setting(32, ge=1, le=100_000, doc="trials in all (--trials overrides)")
    batch: int = setting(
        4,
        ge=1,
        le=1_000,
        doc="trials proposed together before any of them is scored; fixed, so the worker count "
        "cannot change what the sampler sees",
    )
    sampler_seed: int = setting(0, ge=0, le=MAX_SEED, doc="seed of the TPE sampler")
    startup_trials: int = setting(10, ge=1, le=100_000, doc="random trials before TPE models the results")
    training_seed: int = setting(
        0, ge=0, le=MAX_SEED, doc="base env seed of the trials' episodes (below 1e9)"
    )
    untuned_first: bool = setting(
        True,
        doc="trial 0 runs the untuned config's values (when inside the space), so the search starts "
        "from it and can only be chosen over it on merit",
    )
    finalists: int = setting(
        5,
        ge=0,
        le=100,
        doc="the best feasible trials re-scored on validation seeds, the winner chosen there "
        "(a trial's own seeds flatter it); 0: the best trial on the trial seeds wins",
    )
    validation_seed: int = setting(
        500_000_000,
        ge=0,
        le=MAX_SEED,
        doc="base env seed of the finalists' validation episodes (training range)",
    )
    validation_episodes: int = setting(32, ge=1, le=100_000, doc="validation episodes per scenario")
    evaluation_seed: int = setting(
        EVALUATION_SEED_BASE,
        ge=EVALUATION_SEED_BASE,
        le=MAX_SEED,
        doc="base env seed of the held-out evaluation (>= 1e9)",
    )
    evaluation_episodes: int = setting(64, ge=1, le=100_000, doc="held-out episodes per scenario")
    bootstrap_resamples: int = setting(
        2000, ge=100, le=1_000_000, doc="resamples per held-out bootstrap interval"
    )
    target_volatility: float = setting(
        TARGET_VOLATILITY, gt=0.0, le=2.0, doc="annualised volatility risk-matched measures scale to"
    )
    storage: str | None = setting(
        None,
        doc="Optuna storage URL shared by a cluster's workers (postgresql://..., mysql://..., "
        "sqlite:///PATH); default: study.db in the output folder",
    )
    study_name: str = setting("thetagym-tune", doc="name of the study in its storage")
    workers: int | None = setting(
        None, ge=1, le=1_024, doc="trials run at once (default: the machine's cores)"
    )
    out: Path | None = setting(None, doc="output folder (default: reports/tune-<config name>)")

    @property
    def scenario_specs(self) -> tuple[ScenarioSpec, ...]:
        return tuple(s if isinstance(s, ScenarioSpec) else ScenarioSpec(scenario=s) for s in self.scenarios)

    @property
    def parsed_constraints(self) -> tuple[Constraint, ...]:
        return tuple(parse_constraint(text) for text in self.constraints)

    def training_seeds(self, scenario: int) -> tuple[int, ...]:
        """Env seeds of every trial's episodes in the ``scenario``-th scenario (common paths)."""
        return tuple(episode_seed(self.training_seed, scenario, e) for e in range(self.episodes))

    def validation_seeds(self, scenario: int) -> tuple[int, ...]:
        """Env seeds of the finalists' validation episodes in the ``scenario``-th scenario."""
        return tuple(episode_seed(self.validation_seed, scenario, e) for e in range(self.validation_episodes))


def load_tune_config(path: str | Path) -> TuneConfig:
    """Load and check a tune config; its paths become absolute (resolved like evaluation configs)."""
    source = str(path)
    base = Path(path).resolve().parent
    config = build(TuneConfig, read_yaml(path), source=source)
    where = f"{source}: key"
    rules = _existing(config.rules, base, f"{where} 'rules'")
    env = _existing(config.env, base, f"{where} 'env'")
    if config.objective not in HEADLINE_MEASURES:
        raise ConfigError(
            f"{where} 'objective': {config.objective!r} is not a headline measure"
            f"{suggest(config.objective, HEADLINE_MEASURES)}; choose one of {', '.join(HEADLINE_MEASURES)}"
        )
    for i, text in enumerate(config.constraints):
        parse_constraint(text, f"{where} 'constraints[{i}]'")
    if not config.space:
        raise ConfigError(f"{where} 'space': name at least one setting to tune")
    data = read_yaml(rules)
    agent = data.get("agent")
    if agent not in CONFIG_TYPES:
        raise ConfigError(f"{rules}: key 'agent': name one of {', '.join(AGENT_NAMES)}")
    for name in config.space:
        check_parameter_path(CONFIG_TYPES[agent], data, name, f"{where} 'space.{name}'")
    scenarios = []
    for i, spec in enumerate(config.scenario_specs):
        if spec.scenario is not None:
            check_scenario_name(spec.scenario, f"{where} 'scenarios[{i}]'")
        else:
            assert spec.replay is not None
            check_replay_name(spec.replay, f"{where} 'scenarios[{i}]'")
        scenarios.append(spec)
    last = episode_seed(config.training_seed, len(scenarios) - 1, config.episodes - 1)
    if last >= TRAINING_SEED_RANGE.stop:
        raise ConfigError(
            f"{where} 'training_seed': {config.training_seed}: trial seeds must stay below "
            f"{TRAINING_SEED_RANGE.stop} (the evaluation seeds), the last would be {last}"
        )
    _check_validation_seeds(config, len(scenarios), where)
    try:
        check_evaluation_seeds(config.evaluation_seed, len(scenarios), config.evaluation_episodes)
    except ValueError as error:
        raise ConfigError(f"{where} 'evaluation_seed': {config.evaluation_seed}: {error}") from None
    return dataclasses.replace(config, rules=rules, env=env, scenarios=tuple(scenarios))


def _check_validation_seeds(config: TuneConfig, scenarios: int, where: str) -> None:
    """The finalists' validation seeds stay in the training range and apart from the trial seeds."""
    trial = (config.training_seed, episode_seed(config.training_seed, scenarios - 1, config.episodes - 1))
    first = config.validation_seed
    last = episode_seed(first, scenarios - 1, config.validation_episodes - 1)
    if last >= TRAINING_SEED_RANGE.stop:
        raise ConfigError(
            f"{where} 'validation_seed': {first}: validation seeds must stay below {TRAINING_SEED_RANGE.stop} "
            f"(the evaluation seeds), the last would be {last}"
        )
    if first <= trial[1] and trial[0] <= last:
        raise ConfigError(
            f"{where} 'validation_seed': {first}: validation seeds {first}..{last} overlap the trial "
            f"seeds {trial[0]}..{trial[1]}"
        )


def _existing(path: Path, base: Path, where: str) -> Path:
    resolved = resolve_path(path, base)
    if not resolved.is_file():
        raise ConfigError(f"{where}: no such file {str(path)!r}")
    return resolved


def check_parameter_path(cls: type, data: Any, name: str, where: str) -> None:
    """Raise a :class:`ConfigError` starting with ``where`` (file and key) unless ``name`` (dotted,
    list indices as numbers) is a setting of the rule config class ``cls`` that a value can be put
    in (a list index must exist in ``data``, the rule config file's mapping)."""
    hint: Any = cls
    node = data
    for part in name.split("."):
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            fields = get_type_hints(hint)
            if part not in fields:
                raise ConfigError(f"{where}: {hint.__name__} has no setting {part!r}{suggest(part, fields)}")
            hint = fields[part]
            node = node.get(part) if isinstance(node, dict) else None
        elif get_origin(hint) is tuple and get_args(hint)[-1] is Ellipsis:
            item = get_args(hint)[0]
            if not (dataclasses.is_dataclass(item) and part.isdigit()):
                raise ConfigError(f"{where}: {part!r} cannot index a list of values; tune the whole list")
            if not isinstance(node, list) or int(part) >= len(node):
                raise ConfigError(f"{where}: the rule config has no entry {part} in this list")
            hint, node = item, node[int(part)]
        else:
            raise ConfigError(f"{where}: {part!r} is inside a single value")
    if dataclasses.is_dataclass(hint):
        raise ConfigError(f"{where}: names a block of settings; name one setting inside it")


def _flow(value: Any) -> str:
    """``value`` as one line of YAML."""
    import yaml

    text: str = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()
