"""Choosing, failing and resuming: an infeasible trial is never chosen, a failing one is recorded,
a resumed study continues to the same trials as one run straight through."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest

from thetagym.config import ConfigError
from thetagym.tune.config import ParameterSpec, TuneConfig
from thetagym.tune.runner import TuneResult, tune
from thetagym.tune.study import select_best


def test_an_infeasible_trial_is_never_chosen_however_high_its_objective() -> None:
    table = pd.DataFrame(
        {
            "number": [0, 1, 2, 3],
            "state": ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE"],
            "objective": [0.5, 3.0, math.nan, 0.5],
            "feasible": [True, False, False, True],
        }
    )
    best = select_best(table)
    assert best is not None and int(best["number"]) == 0  # not 1 (infeasible); 0 before 3 on a tie
    assert select_best(table.assign(feasible=False)) is None


def test_a_run_never_chooses_a_trial_that_breaks_its_constraint(
    smoke_config: TuneConfig, local_run: tuple[Path, TuneResult], tmp_path: Path
) -> None:
    _, free = local_run
    complete = free.trials[free.trials["state"] == "COMPLETE"]
    # a drawdown cap between the trials' drawdowns: the best trials break it
    cap = float(complete["max_drawdown"].median())
    config = dataclasses.replace(smoke_config, constraints=(f"max_drawdown <= {cap!r}",))
    result = tune(config, tmp_path / "capped", workers=1)
    assert (~result.trials["feasible"]).any()
    assert result.best is not None and bool(result.best["feasible"])
    assert float(result.best["max_drawdown"]) <= cap
    feasible = result.trials[result.trials["feasible"]]
    finalists = feasible.nlargest(smoke_config.finalists, "objective")
    validated = result.trials[result.trials["validation_objective"].notna()]
    assert sorted(validated["number"]) == sorted(finalists["number"])
    chosen = validated[validated["validation_feasible"]]
    assert float(result.best["validation_objective"]) == chosen["validation_objective"].max()


def test_the_untuned_config_is_trial_zero_and_the_winner_is_chosen_on_validation_seeds(
    local_run: tuple[Path, TuneResult],
) -> None:
    """Trial 0 runs the untuned values; the finalists (the best feasible trials on the trial seeds)
    are re-scored on validation seeds, and the best of them there wins."""
    out, result = local_run
    trials = result.trials
    first = trials.iloc[0]
    assert bool(first["untuned"]) and not trials["untuned"].iloc[1:].any()
    assert float(first["param.thresholds.roll_delta"]) == 0.30
    assert float(first["param.thresholds.imbalance"]) == 0.6
    validated = trials[trials["validation_objective"].notna()]
    assert 0 < len(validated) <= 5
    assert result.best is not None
    assert float(result.best["validation_objective"]) == validated["validation_objective"].max()
    header = (out / "dynamic_exposure.yaml").read_text()
    assert "re-scored on validation seeds 500000000.." in header


def test_a_failing_trial_is_recorded_with_its_error(smoke_config: TuneConfig, tmp_path: Path) -> None:
    # idle_delta must stay below roll_delta (0.30): the 0.5 choice makes the rule config invalid
    space = {**smoke_config.space, "thresholds.idle_delta": ParameterSpec(choices=(0.05, 0.5))}
    config = dataclasses.replace(smoke_config, space=space, constraints=())
    result = tune(config, tmp_path / "failing", workers=1)
    failed = result.trials[result.trials["state"] == "FAIL"]
    assert len(failed) > 0 and (failed["param.thresholds.idle_delta"] == 0.5).all()
    assert failed["error"].str.contains("idle_delta").all()
    assert result.best is not None and float(result.best["param.thresholds.idle_delta"]) == 0.05
    assert (
        pd.read_csv(tmp_path / "failing" / "trials.csv")["error"].fillna("").str.contains("idle_delta").any()
    )


def test_resume_continues_to_the_trials_of_a_straight_run(
    smoke_config: TuneConfig, local_run: tuple[Path, TuneResult], tmp_path: Path
) -> None:
    _, straight = local_run
    out = tmp_path / "resumed"
    tune(smoke_config, out, trials=2, workers=1)
    with pytest.raises(ConfigError, match="--resume"):
        tune(smoke_config, out, workers=1)
    resumed = tune(smoke_config, out, workers=1, resume=True)
    columns = ["number", "state", "objective", "param.thresholds.roll_delta", "param.thresholds.imbalance"]
    pd.testing.assert_frame_equal(resumed.trials[columns], straight.trials[columns])


def test_a_shared_storage_url_holds_the_study_and_refuses_a_second_new_one(
    smoke_config: TuneConfig, local_run: tuple[Path, TuneResult], tmp_path: Path
) -> None:
    """A study kept in a storage outside the output folder (as a cluster's RDB would hold it) runs
    the same trials; a second new run into that storage is refused, and resuming from another
    folder continues it."""
    _, straight = local_run
    shared = dataclasses.replace(smoke_config, storage=f"sqlite:///{tmp_path / 'shared.db'}")
    first = tune(shared, tmp_path / "first", trials=2, workers=1)
    assert not (tmp_path / "first" / "study.db").exists() and (tmp_path / "shared.db").is_file()
    with pytest.raises(ConfigError, match="a study named 'thetagym-tune' exists already; pass --resume"):
        tune(shared, tmp_path / "second", workers=1)
    resumed = tune(shared, tmp_path / "second", workers=1, resume=True)
    columns = ["number", "state", "objective", "param.thresholds.roll_delta", "param.thresholds.imbalance"]
    assert len(first.trials) == 2
    pd.testing.assert_frame_equal(resumed.trials[columns], straight.trials[columns])


def test_a_storage_that_cannot_open_is_one_line_naming_it(smoke_config: TuneConfig, tmp_path: Path) -> None:
    broken = dataclasses.replace(smoke_config, storage="postgresql://trader:secret@db.invalid:5432/tune")
    with pytest.raises(
        ConfigError, match=r"postgresql://trader:\*\*\*@db\.invalid:5432/tune: cannot open"
    ) as error:
        tune(broken, tmp_path / "out", workers=1)
    assert "secret" not in str(error.value)


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (0, "validation seeds 0..1000031 overlap the trial seeds 0..1000007"),
        (
            999_000_000,
            "validation seeds must stay below 1000000000 (the evaluation seeds), the last would be",
        ),
    ],
)
def test_validation_seeds_stay_apart_from_trial_and_evaluation_seeds(
    seed: int, message: str, tmp_path: Path
) -> None:
    from tests.tune.conftest import SMOKE
    from thetagym.tune.config import load_tune_config

    text = SMOKE.read_text().replace("configs/", str(SMOKE.parents[2] / "configs") + "/")
    path = tmp_path / "tune.yaml"
    path.write_text(text + f"validation_seed: {seed}\n")
    with pytest.raises(
        ConfigError,
        match=f"key 'validation_seed': {seed}: " + message.replace("(", r"\(").replace(")", r"\)"),
    ):
        load_tune_config(path)
