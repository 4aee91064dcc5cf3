"""The Optuna study of a tune config: trials proposed in fixed batches, scored by an engine,
recorded in trial order.

**Determinism.** Trial ``k``'s parameters come from a TPE sampler seeded with ``(sampler_seed, k)``
that sees every trial of the earlier batches and none of its own batch (batches of the config's
``batch`` trials, never of the worker count). Scores depend only on a trial's parameters and the
common training seeds. So the same config and trial count give the same trials, and the same best
trial, whatever the engine and the number of workers.

**Constraints.** A trial's violations (``> 0``: violated) are stored with it as Optuna
constraints (``Trial.set_constraint``), which TPE reads to steer towards feasible settings; :func:`select_best` only ever
chooses a feasible, completed trial. A trial that raised is recorded as failed with its error.

**Resume.** Trials left running by an interruption are run again with their stored parameters,
then new batches follow until the study holds the requested number of trials.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from thetagym.config import ConfigError
from thetagym.engines import Engine
from thetagym.evaluate.rollout import env_config
from thetagym.measures import HEADLINE_MEASURES
from thetagym.tune.config import TuneConfig
from thetagym.tune.folder import STUDY_FILE
from thetagym.tune.trial import (
    ScenarioRun,
    TrialResult,
    TrialTask,
    apply_parameters,
    rule_config,
    run_trial,
    stored_parameters,
    suggest,
    untuned_parameters,
)

if TYPE_CHECKING:
    import optuna

VIOLATION_CAP = 1e9
"""Violation stored for a constraint whose measure is not finite."""
RECORDED_MEASURES = (
    *HEADLINE_MEASURES,
    "max_drawdown",
    "matched_max_drawdown",
    "volatility",
    "theta_capture",
    "pnl",
    "premium_sold",
)
"""Measures kept with every trial (beside the objective and the constrained ones)."""


def sampler_seed(config: TuneConfig, number: int) -> int:
    """The seed of trial ``number``'s sampler: a pure function of the config's seed and the number."""
    return int(np.random.SeedSequence([config.sampler_seed, number]).generate_state(1)[0])


def make_sampler(config: TuneConfig, number: int) -> optuna.samplers.TPESampler:
    """The TPE sampler that proposes trial ``number``, seeded from ``config.sampler_seed``."""
    import optuna

    return optuna.samplers.TPESampler(
        seed=sampler_seed(config, number), n_startup_trials=config.startup_trials
    )


def storage_url(config: TuneConfig, out: Path) -> str:
    """``config.storage``, or the SQLite file in the tuning run's folder ``out``."""
    return config.storage or f"sqlite:///{(out / STUDY_FILE).resolve()}"


def open_study(config: TuneConfig, storage: str, resume: bool) -> optuna.Study:
    """The study ``config.study_name`` in ``storage``: a new one, or (``resume``) the one there.
    A new study whose name is taken in a shared storage is refused rather than mixed in."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        opened = optuna.storages.get_storage(storage)
    except Exception as error:  # a driver missing, a server down, a bad URL: one line, no traceback
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{_shown(storage)}: cannot open the study storage: {message}") from None
    try:
        return optuna.create_study(
            study_name=config.study_name,
            storage=opened,
            direction="maximize",
            sampler=make_sampler(config, 0),
            load_if_exists=resume,
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise ConfigError(
            f"{_shown(storage)}: a study named {config.study_name!r} exists already; "
            "pass --resume to continue it, or choose another study_name"
        ) from None


def _shown(storage: str) -> str:
    """A storage URL without its password, for messages."""
    head, at, tail = storage.rpartition("@")
    if not at or "://" not in head:
        return storage
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':')[0]}:***@{tail}"


def scenario_envs(config: TuneConfig, seeds: Callable[[int], tuple[int, ...]]) -> tuple[ScenarioRun, ...]:
    """``(label, env config, seeds)`` of every scenario: env configs resolved here, once, so the
    tasks read no file wherever they run."""
    return tuple(
        (spec.label, env_config(config.env, spec, config.days), seeds(k))
        for k, spec in enumerate(config.scenario_specs)
    )


def run_study(
    config: TuneConfig,
    study: optuna.Study,
    engine: Engine,
    base_rules: dict[str, Any],
    trials: int,
    on_result: Callable[[TrialResult], None] | None = None,
) -> None:
    """Run ``study`` until it holds ``trials`` trials (interrupted ones first run again), in
    batches of ``config.batch`` on ``engine``; each trial's rule config is ``base_rules`` (the
    rule config file's mapping) with the trial's parameters. ``on_result`` is called with each
    result."""
    import optuna

    scenarios = scenario_envs(config, config.training_seeds)
    interrupted = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.RUNNING]
    if interrupted:
        batch = [
            (optuna.trial.Trial(study, t._trial_id), stored_parameters(t.params, config.space))
            for t in interrupted
        ]
        _run_batch(config, study, engine, base_rules, scenarios, batch, on_result)
    untuned = untuned_parameters(rule_config(base_rules, str(config.rules)), config.space)
    while len(study.trials) < trials:
        done = len(study.trials)
        size = min(config.batch - done % config.batch, trials - done)
        batch = []
        for number in range(done, done + size):
            study.sampler = make_sampler(config, number)
            if number == 0 and config.untuned_first and untuned is not None:
                study.enqueue_trial(untuned, user_attrs={"untuned": True})
            trial = study.ask()
            assert trial.number == number, "another process is adding trials to this study"
            batch.append((trial, suggest(trial, config.space)))
        _run_batch(config, study, engine, base_rules, scenarios, batch, on_result)


def _run_batch(
    config: TuneConfig,
    study: optuna.Study,
    engine: Engine,
    base_rules: dict[str, Any],
    scenarios: tuple[ScenarioRun, ...],
    batch: list[tuple[optuna.Trial, dict[str, Any]]],
    on_result: Callable[[TrialResult], None] | None,
) -> None:
    trials = {trial.number: (trial, params) for trial, params in batch}
    for trial, params in batch:
        trial.set_user_attr("params", params)
    tasks = [
        TrialTask(trial.number, apply_parameters(base_rules, params), scenarios, config.target_volatility)
        for trial, params in batch
    ]
    for result in engine.ordered(run_trial, tasks):
        record(config, study, trials[result.number][0], result)
        if on_result is not None:
            on_result(result)


def record(config: TuneConfig, study: optuna.Study, trial: optuna.Trial, result: TrialResult) -> None:
    """Tell ``study`` the result of ``trial``: completed with its objective and the violations of
    ``config``'s constraints, or failed with its error."""
    import optuna

    objective = result.measures.get(config.objective, float("nan"))
    error = result.error or ("" if math.isfinite(objective) else f"{config.objective} is not finite")
    trial.set_user_attr("seconds", round(result.seconds, 3))
    if error:
        trial.set_user_attr("error", error)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return
    constraints = config.parsed_constraints
    kept = dict.fromkeys((config.objective, *RECORDED_MEASURES, *(c.measure for c in constraints)))
    measures = {name: _json_float(result.measures.get(name, float("nan"))) for name in kept}
    violations = [c.violation(result.measures) for c in constraints]
    trial.set_user_attr("measures", measures)
    trial.set_user_attr("violations", [_json_float(v) for v in violations])
    trial.set_user_attr("feasible", all(v <= 0 for v in violations))
    for constraint, violation in zip(constraints, violations, strict=True):
        trial.set_constraint(str(constraint), min(violation, VIOLATION_CAP))
    study.tell(trial, objective)


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """A row per trial of ``study``: number, state, objective, feasible, the config values of its parameters
    (``param.<key path>``), its recorded measures, seconds and error."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        row: dict[str, Any] = {
            "number": trial.number,
            "state": trial.state.name,
            "objective": trial.value if trial.value is not None else float("nan"),
            "feasible": bool(attrs.get("feasible", False)),
            "untuned": bool(attrs.get("untuned", False)),
        }
        row.update({f"param.{k}": _cell(v) for k, v in attrs.get("params", {}).items()})
        row.update({k: (float("nan") if v is None else v) for k, v in attrs.get("measures", {}).items()})
        row["seconds"] = attrs.get("seconds", float("nan"))
        row["error"] = attrs.get("error", "")
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(value: Any) -> Any:
    """A parameter value as a table cell (lists as flow YAML)."""
    if isinstance(value, list | dict):
        from thetagym.tune.config import _flow

        return _flow(value)
    return value


def finalist_numbers(table: pd.DataFrame, count: int) -> list[int]:
    """The numbers of the ``count`` completed, feasible trials of highest objective (lowest number
    first among equals), best first."""
    return [int(n) for n in _ranked(_eligible(table), "objective")["number"].iloc[:count]]


def _ranked(trials: pd.DataFrame, column: str) -> pd.DataFrame:
    """``trials`` from the highest ``column`` down, the lowest number first among equals."""
    return trials.sort_values([column, "number"], ascending=[False, True], kind="stable")


def validate_finalists(
    config: TuneConfig,
    study: optuna.Study,
    engine: Engine,
    base_rules: dict[str, Any],
    table: pd.DataFrame,
    numbers: list[int],
) -> pd.DataFrame:
    """``table`` (the trials table of ``study``) with the objective and feasibility of each trial of
    ``numbers`` on ``config``'s validation seeds, run on ``engine`` with ``base_rules`` (the rule
    config file's mapping) and the trial's parameters (``validation_objective``,
    ``validation_feasible``; NaN and False for the other trials)."""
    table = table.copy()
    table["validation_objective"] = float("nan")
    table["validation_feasible"] = False
    if not numbers:
        return table
    scenarios = scenario_envs(config, config.validation_seeds)
    tasks = [
        TrialTask(
            number,
            apply_parameters(base_rules, study.trials[number].user_attrs["params"]),
            scenarios,
            config.target_volatility,
        )
        for number in numbers
    ]
    constraints = config.parsed_constraints
    for result in engine.ordered(run_trial, tasks):
        objective = result.measures.get(config.objective, float("nan"))
        at = table["number"] == result.number
        table.loc[at, "validation_objective"] = objective
        table.loc[at, "validation_feasible"] = not result.error and all(
            c.violation(result.measures) <= 0 for c in constraints
        )
    return table


def _eligible(table: pd.DataFrame) -> pd.DataFrame:
    """Completed, feasible trials with a finite objective."""
    if table.empty:
        return table
    eligible = table[(table["state"] == "COMPLETE") & table["feasible"].astype(bool)]
    return eligible[np.isfinite(eligible["objective"].to_numpy(dtype=float))]


def select_best(table: pd.DataFrame) -> pd.Series | None:
    """The winning trial; None if no trial completed feasibly. Among finalists validated feasibly
    (``validation_objective`` finite, ``validation_feasible``), the highest validation objective
    wins; without such finalists, the completed, feasible trial of highest objective. The lowest
    number wins among equals. An infeasible trial is never chosen, however high its objective.

    >>> table = pd.DataFrame({"number": [0, 1, 2], "state": ["COMPLETE", "COMPLETE", "FAIL"],
    ...                       "objective": [1.0, 2.0, float("nan")], "feasible": [True, False, False]})
    >>> int(select_best(table)["number"])
    0
    >>> table = pd.DataFrame({"number": [0, 1], "state": ["COMPLETE"] * 2, "objective": [1.0, 2.0],
    ...                       "feasible": [True, True], "validation_objective": [0.9, 0.5],
    ...                       "validation_feasible": [True, True]})
    >>> int(select_best(table)["number"])
    0
    """
    eligible = _eligible(table)
    if eligible.empty:
        return None
    if "validation_objective" in eligible.columns:
        validated = eligible[
            eligible["validation_feasible"].astype(bool)
            & np.isfinite(eligible["validation_objective"].to_numpy(dtype=float))
        ]
        if not validated.empty:
            return _ranked(validated, "validation_objective").iloc[0]
    return _ranked(eligible, "objective").iloc[0]
