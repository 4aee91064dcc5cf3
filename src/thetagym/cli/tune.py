"""``thetagym tune``: search a rule config's thresholds with Optuna, judge the winner on held-out seeds."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import engine_options
from thetagym.config import read_yaml
from thetagym.engines import check_engine
from thetagym.outputs import REPORTS_FOLDER
from thetagym.tune.folder import tune_folder


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trials", type=click.IntRange(min=1), help="Trials in all [default: the config's].")
@engine_options
@click.option("--workers", type=click.IntRange(min=1), help="Trials run at once [default: all cores].")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Output folder [default: reports/tune-<config>]."
)
@click.option(
    "--storage",
    help="Optuna storage URL shared by a cluster (postgresql://..., sqlite:///PATH) "
    "[default: the config's, else study.db in --out].",
)
@click.option("--resume", is_flag=True, help="Continue the study in --out from the trials done.")
def tune(
    config: Path,
    trials: int | None,
    engine: str,
    address: str | None,
    workers: int | None,
    out: Path | None,
    storage: str | None,
    resume: bool,
) -> None:
    """Tune the rule config named by the tune CONFIG; write trials, figures and the tuned config."""
    check_engine(engine, address)
    raw = read_yaml(config)
    declared = raw.get("out")
    folder = out or (Path(declared) if isinstance(declared, str) else REPORTS_FOLDER / f"tune-{config.stem}")
    claimed = tune_folder(folder, resume, local_study=not (storage or raw.get("storage")))
    try:
        from thetagym.engines import require_extra
        from thetagym.tune.config import load_tune_config
        from thetagym.tune.runner import tune as run_tune

        require_extra("optuna")
        settings = load_tune_config(config)
        if storage:
            settings = dataclasses.replace(settings, storage=storage)
        compile_if_cold()
    except BaseException:
        claimed.abandon()
        raise

    def show(result: object) -> None:
        number = getattr(result, "number", -1)
        error = getattr(result, "error", "")
        measures = getattr(result, "measures", {})
        seconds = getattr(result, "seconds", 0.0)
        text = (
            f"failed: {error.splitlines()[-1]}"
            if error
            else (f"{settings.objective} {measures.get(settings.objective, float('nan')):.4f}")
        )
        click.echo(f"trial {number:>4}  {seconds:6.1f} s  {text}", err=True)

    try:
        result = run_tune(
            settings,
            claimed,
            source=str(config),
            trials=trials,
            engine=engine,
            workers=workers,
            address=address,
            resume=resume,
            on_result=show,
        )
    except KeyboardInterrupt:
        claimed.abandon()
        click.echo(f"interrupted; continue with: thetagym tune {config} --out {folder} --resume", err=True)
        raise SystemExit(130) from None
    except BaseException:
        claimed.abandon()
        raise
    rate = 60 * len(result.trials) / max(result.seconds, 1e-9)
    click.echo(
        f"{len(result.trials)} trials in {result.seconds:.1f} s ({rate:.1f} per minute incl. held-out); {folder}"
    )
    if result.best is None:
        raise click.ClickException("no trial was feasible and completed; widen the space or the constraints")
    held = result.held_out
    tuned, untuned, diff = held["tuned"], held["untuned"], held["difference"]
    click.echo(
        f"best: trial {int(result.best['number'])}, {settings.objective} {float(result.best['objective']):.3f} "
        f"(training seeds){_validated(result.best, settings.objective)}\nheld-out {settings.objective}: tuned {tuned['mean']:.3f} "
        f"[{tuned['low']:.3f}, {tuned['high']:.3f}], untuned {untuned['mean']:.3f}; paired difference "
        f"{diff['mean']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}]\ntuned config: {result.tuned_config}"
    )


def _validated(best: Any, objective: str) -> str:
    """``, 0.812 (validation seeds)`` when the winner was chosen on validation seeds."""
    value = float(best.get("validation_objective", float("nan")))
    return f", {value:.3f} (validation seeds)" if math.isfinite(value) else ""
