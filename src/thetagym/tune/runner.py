"""A whole tuning run: the study on training seeds, the winner judged on held-out evaluation seeds
against the untuned rule config (paired, on the same paths), and every output written.

Folder contents: ``trials.csv``, ``study.db`` (the Optuna study), ``history.png``,
``importance.png``, ``<rule config name>.yaml`` (the tuned rule config with its provenance header),
``heldout/`` (summary, paired differences and episodes of the held-out evaluation), ``tune.json``
(the figures of the header, for programs) and, written last, ``complete.json``
(:class:`thetagym.outputs.OutputFolder`).
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thetagym.config import read_yaml
from thetagym.engines import make_engine, require_extra
from thetagym.env.warm_up import compile_kernels
from thetagym.evaluate.config import AgentSpec, EvaluationConfig, check_evaluation_config
from thetagym.evaluate.summary import POOLED
from thetagym.outputs import OutputFolder, dumps_json
from thetagym.tune.config import TuneConfig
from thetagym.tune.folder import STUDY_FILE, tune_folder
from thetagym.tune.outputs import (
    HELD_OUT_PREFIX,
    commented_yaml,
    history_figure,
    importance_figure,
    parameter_importances,
    save_figure,
)
from thetagym.tune.study import (
    finalist_numbers,
    open_study,
    run_study,
    select_best,
    storage_url,
    trials_table,
    validate_finalists,
)
from thetagym.tune.trial import TrialResult, apply_parameters, rule_config, untuned_values


@dataclass
class TuneResult:
    """The trials, the chosen one (None if no trial was feasible) and the held-out comparison."""

    trials: pd.DataFrame
    best: pd.Series | None
    tuned_config: Path | None = None
    held_out: dict[str, Any] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0


def tune(
    config: TuneConfig,
    out: Path | OutputFolder,
    *,
    source: str = "",
    trials: int | None = None,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    on_result: Callable[[TrialResult], None] | None = None,
) -> TuneResult:
    """Run the study in ``out`` (a folder, or one claimed with :func:`tune_folder`) up to
    ``trials`` trials, then judge and write the winner. The study database is written in place, so
    an interrupted run resumes; every other file appears only when the run completes."""
    require_extra("optuna")
    started = time.perf_counter()
    folder = (
        out if isinstance(out, OutputFolder) else tune_folder(out, resume, local_study=config.storage is None)
    )
    with folder:
        total = trials or config.trials
        base_rules = read_yaml(config.rules)
        study = open_study(config, storage_url(config, folder.live(STUDY_FILE).parent), resume)
        with make_engine(engine, workers or config.workers, address, prepare=compile_kernels) as runner:
            run_study(config, study, runner, base_rules, total, on_result)
            table = trials_table(study)
            finalists = finalist_numbers(table, config.finalists)
            table = validate_finalists(config, study, runner, base_rules, table, finalists)
        table.to_csv(folder.file("trials.csv"), index=False)
        save_figure(history_figure(table, config.objective), folder.file("history.png"))
        save_figure(importance_figure(parameter_importances(study)), folder.file("importance.png"))
        best = select_best(table)
        result = TuneResult(table, best)
        if best is not None:
            params = study.trials[int(best["number"])].user_attrs["params"]
            staged, result.held_out = write_tuned(
                config, folder.staging, params, best, table, source, workers
            )
            result.tuned_config = folder.final(staged.name)
    result.seconds = time.perf_counter() - started
    return result


def write_tuned(
    config: TuneConfig,
    out: Path,
    params: dict[str, Any],
    best: pd.Series,
    table: pd.DataFrame,
    source: str,
    workers: int | None,
) -> tuple[Path, dict[str, Any]]:
    """Write the winner's rule config (the base rule config with the winning ``params``; ``best`` its
    row of the trials ``table``), judge it on held-out seeds against the untuned one with
    ``workers`` processes, and write the config again with the provenance header naming
    ``source``."""
    base = read_yaml(config.rules)
    untuned = rule_config(base, str(config.rules))
    untuned_name = untuned.name or untuned.agent
    tuned_name = f"{config.rules.stem}_tuned"
    tuned = dataclasses.replace(rule_config(apply_parameters(base, params)), name=tuned_name)
    path = out / f"{config.rules.stem}.yaml"
    old = untuned_values(untuned, list(params))
    path.write_text(commented_yaml(tuned, params, old, []))
    held_out = held_out_evaluation(config, path, tuned_name, untuned_name, workers, out / "heldout")
    header = provenance(config, source, params, best, table, held_out)
    path.write_text(commented_yaml(tuned, params, old, header))
    (out / "tune.json").write_text(dumps_json(held_out | {"trial": int(best["number"])}) + "\n")
    return path, held_out


def held_out_evaluation(
    config: TuneConfig, tuned: Path, tuned_name: str, untuned_name: str, workers: int | None, folder: Path
) -> dict[str, Any]:
    """The ``tuned`` rule config file and the untuned one of ``config``, named ``tuned_name`` and
    ``untuned_name``, evaluated on the held-out evaluation seeds by ``workers`` processes, with the
    evaluation written into ``folder``; the objective of each and their paired difference (tuned -
    untuned), pooled over scenarios, with 95% intervals."""
    from thetagym.evaluate.runner import evaluate

    evaluation = EvaluationConfig(
        agents=(AgentSpec(tuned_name, rules=tuned), AgentSpec(untuned_name, rules=config.rules)),
        env=config.env,
        scenarios=config.scenarios,
        seed=config.evaluation_seed,
        episodes=config.evaluation_episodes,
        days=config.days,
        bootstrap_resamples=config.bootstrap_resamples,
        headline=config.objective,
        baseline=untuned_name,
        target_volatility=config.target_volatility,
    )
    evaluation = check_evaluation_config(evaluation, "held-out evaluation")
    result = evaluate(evaluation, workers=workers or config.workers, progress=False)
    folder.mkdir(exist_ok=True)
    result.summary.to_csv(folder / "summary.csv", index=False)
    result.paired.to_csv(folder / "paired.csv", index=False)
    result.episodes.to_csv(folder / "episodes.csv", index=False)
    scope = POOLED if len(config.scenarios) > 1 else evaluation.scenario_specs[0].label
    summary = result.summary[result.summary["scenario"] == scope].set_index("agent")
    paired = result.paired[
        (result.paired["scenario"] == scope) & (result.paired["measure"] == config.objective)
    ]
    measure = config.objective

    def interval(row: Any, prefix: str = "") -> dict[str, float]:
        return {k: float(row[f"{prefix}{k}"]) for k in ("mean", "low", "high")}

    return {
        "measure": measure,
        "scope": scope,
        "seed": config.evaluation_seed,
        "episodes": config.evaluation_episodes,
        "days": config.days,
        "tuned": interval(summary.loc[tuned_name], f"{measure}_"),
        "untuned": interval(summary.loc[untuned_name], f"{measure}_"),
        "difference": interval(paired.iloc[0]),
    }


def validation_lines(config: TuneConfig, best: pd.Series, table: pd.DataFrame) -> list[str]:
    """How the finalists of the trials ``table`` fared on ``config``'s validation seeds, and where
    ``best`` (the chosen trial's row) stands, for the header (nothing without finalists)."""
    if "validation_objective" not in table.columns:
        return []
    finalists = table[np.isfinite(table["validation_objective"].to_numpy(dtype=float))]
    if finalists.empty:
        return []
    last_seed = config.validation_seeds(len(config.scenarios) - 1)[-1]
    untuned = finalists[finalists["untuned"].astype(bool)]
    scores = ", ".join(
        f"{int(row.number)}{' (untuned)' if row.untuned else ''} {row.validation_objective:.4f}"
        + ("" if row.validation_feasible else " infeasible")
        for row in finalists.sort_values("number").itertuples()
    )
    note = "" if len(untuned) else "; the untuned config was not among them"
    return [
        f"  chosen among the {len(finalists)} best trials re-scored on validation seeds {config.validation_seed}.."
        f"{last_seed} ({config.validation_episodes} per scenario){note}:",
        f"  {config.objective} by trial: {scores}",
    ]


def provenance(
    config: TuneConfig,
    source: str,
    params: dict[str, Any],
    best: pd.Series,
    table: pd.DataFrame,
    held_out: dict[str, Any],
) -> list[str]:
    """The header of the tuned rule config: what was searched (``config``, from ``source``), how,
    what won (``params``, ``best`` its row of the trials ``table``) and how it held up
    (``held_out``, from :func:`held_out_evaluation`)."""
    states = table["state"].value_counts()
    complete = table[table["state"] == "COMPLETE"]
    infeasible = int((~complete["feasible"].astype(bool)).sum())
    scenarios = ", ".join(spec.label for spec in config.scenario_specs)
    measure = config.objective
    tuned, untuned, diff = held_out["tuned"], held_out["untuned"], held_out["difference"]
    last_seed = config.training_seeds(len(config.scenarios) - 1)[-1]
    lines = [
        f"{config.rules.stem} tuned by `thetagym tune {source}` on {datetime.date.today().isoformat()}",
        f"rule config tuned: {config.rules.name}; env: {config.env.name}; scenarios: {scenarios}",
        "search space:",
        *(f"  {name}: {spec.describe()}" for name, spec in config.space.items()),
        f"trials: {len(table)} ({int(states.get('COMPLETE', 0))} completed, {infeasible} of them infeasible, "
        f"{int(states.get('FAIL', 0))} failed); TPE sampler seed {config.sampler_seed}, "
        f"batches of {config.batch}, {config.startup_trials} random start-up trials",
        f"objective: {measure} (maximised), pooled over scenarios with equal weight; constraints: "
        + (", ".join(config.constraints) or "none"),
        f"selection: trial {int(best['number'])}, {measure} {float(best['objective']):.4f} on training seeds "
        f"{config.training_seed}..{last_seed} ({config.episodes} episodes per scenario of {config.days} days)",
        *validation_lines(config, best, table),
        f"held-out ({held_out['scope']}, seeds from {config.evaluation_seed}, {config.evaluation_episodes} "
        f"episodes per scenario of {config.days} days, 95% bootstrap intervals):",
        f"  tuned {measure} {tuned['mean']:.4f} [{tuned['low']:.4f}, {tuned['high']:.4f}]; "
        f"untuned {untuned['mean']:.4f} [{untuned['low']:.4f}, {untuned['high']:.4f}]",
        f"  tuned - untuned, paired on the same paths: {diff['mean']:+.4f} [{diff['low']:+.4f}, {diff['high']:+.4f}]",
        f"{HELD_OUT_PREFIX.removeprefix('# ')} {measure}={tuned['mean']!r} low={tuned['low']!r} "
        f"high={tuned['high']!r} seed={config.evaluation_seed} episodes={config.evaluation_episodes} "
        f"days={config.days}",
        "",
    ]
    return lines
