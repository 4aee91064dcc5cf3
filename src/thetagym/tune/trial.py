"""One trial: a point of the search space put into the rule config, run on common training paths,
scored by the evaluation summary.

:func:`run_trial` is what an engine runs, in whichever process or Ray worker: it takes the rule
config as a plain mapping and every scenario's resolved env config, so it reads no file, and it
never raises: an error is returned as text, and the trial is recorded as failed.

>>> apply_parameters({"thresholds": {"roll_delta": 0.3}}, {"thresholds.roll_delta": 0.25})
{'thresholds': {'roll_delta': 0.25}}
>>> rounded(0.123456789, ParameterSpec(low=0.0, high=1.0))
0.123457
"""

from __future__ import annotations

import copy
import json
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd

from thetagym.config import build
from thetagym.env.config import EnvConfig
from thetagym.evaluate.summary import POOLED, summarise_episodes
from thetagym.measures import TARGET_VOLATILITY
from thetagym.policies.rules.config import CONFIG_TYPES, RuleConfig, merge_regime_thresholds
from thetagym.tune.config import ParameterSpec

if TYPE_CHECKING:
    import optuna

PRIMITIVES = (str, int, float, bool, type(None))
TRIAL_RESAMPLES = 100
"""Bootstrap resamples of a trial's summary: only its point estimates are used."""


def rounded(value: float, spec: ParameterSpec) -> float:
    """A sampled float ``value`` of parameter ``spec`` as written to the rule config: on the step's
    grid, else 6 significant digits (the trial is scored with exactly this value, so the tuned
    file reproduces its score)."""
    if spec.step is not None:
        return round(value, 10)
    return float(f"{value:.6g}")


def categorical_choices(spec: ParameterSpec) -> list[Any]:
    """What Optuna chooses among for ``spec``: its choices themselves when plain values, else their
    JSON text."""
    assert spec.choices is not None
    if all(isinstance(choice, PRIMITIVES) for choice in spec.choices):
        return list(spec.choices)
    return [json.dumps(choice) for choice in spec.choices]


def decode_choice(spec: ParameterSpec, value: Any) -> Any:
    """The choice of ``spec`` that an Optuna categorical ``value`` stands for (see
    :func:`categorical_choices`)."""
    assert spec.choices is not None
    if all(isinstance(choice, PRIMITIVES) for choice in spec.choices):
        return value
    return json.loads(value)


def suggest(trial: optuna.Trial, space: dict[str, ParameterSpec]) -> dict[str, Any]:
    """Ask an Optuna trial for every dimension of ``space`` in order; values as put in the config."""
    params: dict[str, Any] = {}
    for name, spec in space.items():
        if spec.choices is not None:
            params[name] = decode_choice(spec, trial.suggest_categorical(name, categorical_choices(spec)))
        elif spec.type == "int":
            assert spec.low is not None and spec.high is not None
            step = int(spec.step or 1)
            params[name] = trial.suggest_int(name, int(spec.low), int(spec.high), step=step, log=spec.log)
        else:
            assert spec.low is not None and spec.high is not None
            value = trial.suggest_float(name, spec.low, spec.high, step=spec.step, log=spec.log)
            params[name] = rounded(value, spec)
    return params


def stored_parameters(stored: dict[str, Any], space: dict[str, ParameterSpec]) -> dict[str, Any]:
    """The config values of a trial's ``stored`` Optuna parameters, for each parameter of ``space``
    (for resuming an interrupted trial)."""
    params: dict[str, Any] = {}
    for name, spec in space.items():
        value = stored[name]
        if spec.choices is not None:
            params[name] = decode_choice(spec, value)
        elif spec.type == "int":
            params[name] = int(value)
        else:
            params[name] = rounded(float(value), spec)
    return params


def untuned_values(config: Any, names: list[str]) -> dict[str, Any]:
    """The untuned rule config ``config``'s value at each dotted key path of ``names``."""
    values = {}
    for name in names:
        node = config
        for part in name.split("."):
            node = node[int(part)] if isinstance(node, tuple) else getattr(node, part)
        values[name] = list(node) if isinstance(node, tuple) else node
    return values


def untuned_parameters(untuned: Any, space: dict[str, ParameterSpec]) -> dict[str, Any] | None:
    """The untuned rule config's values as Optuna parameters of ``space`` (to enqueue as a trial),
    or None when one of them lies outside its dimension (off the range, the step grid or the
    choices), so the search cannot run it as it stands."""
    values = untuned_values(untuned, list(space))
    params: dict[str, Any] = {}
    for name, spec in space.items():
        value = values[name]
        if spec.choices is not None:
            texts = [json.dumps(choice) for choice in spec.choices]  # lists and tuples alike
            if json.dumps(value) not in texts:
                return None
            params[name] = categorical_choices(spec)[texts.index(json.dumps(value))]
            continue
        assert spec.low is not None and spec.high is not None
        if not spec.low <= value <= spec.high:
            return None
        if spec.step is not None:
            steps = (value - spec.low) / spec.step
            if abs(steps - round(steps)) > 1e-9:
                return None
        params[name] = int(value) if spec.type == "int" else float(value)
    return params


def apply_parameters(data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy of the rule config mapping ``data`` with each dotted key path of ``params`` set to its
    value."""
    result = copy.deepcopy(data)
    for name, value in params.items():
        node: Any = result
        parts = name.split(".")
        for part in parts[:-1]:
            if isinstance(node, list):
                node = node[int(part)]
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        node[parts[-1]] = copy.deepcopy(value)
    return result


def rule_config(data: dict[str, Any], source: str = "") -> RuleConfig:
    """The rule config of the raw mapping ``data`` (regimes completed from the top-level thresholds);
    ``source`` names it in errors."""
    return build(CONFIG_TYPES[data["agent"]], merge_regime_thresholds(data), source=source)


ScenarioRun: TypeAlias = tuple[str, EnvConfig, tuple[int, ...]]
"""Scenario label, its env config (episode length set) and the env seeds of its episodes."""


@dataclass(frozen=True)
class TrialTask:
    """A rule config (raw mapping) on every scenario's episodes; ``number`` is the Optuna trial."""

    number: int
    rules: dict[str, Any]
    scenarios: tuple[ScenarioRun, ...]
    """Every scenario the trial runs on."""
    target_volatility: float = TARGET_VOLATILITY
    keep_episodes: bool = False


@dataclass
class TrialResult:
    """Pooled summary means (``measures``) or the ``error`` that stopped the trial."""

    number: int
    measures: dict[str, float] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    episodes: pd.DataFrame | None = None


def run_trial(task: TrialTask) -> TrialResult:
    """Score ``task``; any exception becomes the result's ``error`` (last lines of its traceback)."""
    started = time.perf_counter()
    try:
        episodes = trial_episodes(task)
        measures = pooled_means(episodes, task.target_volatility)
    except Exception as error:  # a trial that raises is recorded, not fatal
        lines = traceback.format_exception_only(type(error), error)
        return TrialResult(task.number, error="".join(lines).strip(), seconds=time.perf_counter() - started)
    return TrialResult(
        task.number,
        measures,
        seconds=time.perf_counter() - started,
        episodes=episodes if task.keep_episodes else None,
    )


def trial_episodes(task: TrialTask) -> pd.DataFrame:
    """Every episode of ``task``'s rule config, a row each (agent, scenario, seed, measures)."""
    from thetagym.evaluate.rollout import rollout
    from thetagym.policies.rules import build_rule_agent

    config = rule_config(task.rules)
    name = config.name or config.agent
    frames = []
    for label, env, seeds in task.scenarios:
        policy = build_rule_agent(config, env.book)
        episodes = rollout(policy, env, seeds, False, task.target_volatility).episodes
        episodes.insert(0, "agent", name)
        episodes.insert(1, "scenario", label)
        frames.append(episodes)
    return pd.concat(frames, ignore_index=True)


def pooled_means(episodes: pd.DataFrame, target_volatility: float = TARGET_VOLATILITY) -> dict[str, float]:
    """Every measure's cell statistic over ``episodes``: the pooled row (scenarios with equal weight),
    or the single scenario's row; risk-matched measures scale to ``target_volatility``."""
    summary = summarise_episodes(episodes, n_resamples=TRIAL_RESAMPLES, target_volatility=target_volatility)
    pooled = summary[summary["scenario"] == POOLED]
    row = (pooled if len(pooled) else summary).iloc[0]
    return {
        str(column).removesuffix("_mean"): float(row[column])
        for column in summary.columns
        if str(column).endswith("_mean") and not str(column).startswith("attr_")
    }
