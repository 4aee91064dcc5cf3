"""``thetagym train``: train a PPO or MaskablePPO agent from a YAML config, for one seed or several."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import engine_options

if TYPE_CHECKING:
    from thetagym.train.config import TrainConfig


@click.command()
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timesteps", type=click.IntRange(min=1), help="Override total_timesteps.")
@click.option("--seed", type=click.IntRange(min=0), help="Override the run's seed.")
@click.option(
    "--seeds",
    "seed_list",
    help="Train once per seed (e.g. 1-5 or 1,3,8), each into OUT/seed-<n>/, then summarise across seeds.",
)
@engine_options
@click.option(
    "--workers", type=click.IntRange(min=1), help="With --seeds: seeds trained at once [default: cores]."
)
@click.option("--n-envs", "n_envs", type=click.IntRange(min=1), help="Override the number of envs.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder (must not exist yet)."
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Continue the run in this folder from its last checkpoint.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def train(
    config: Path | None,
    timesteps: int | None,
    seed: int | None,
    seed_list: str | None,
    engine: str,
    workers: int | None,
    address: str | None,
    n_envs: int | None,
    out: Path | None,
    resume_dir: Path | None,
    no_progress: bool,
) -> None:
    """Train an agent from CONFIG (e.g. configs/train/maskable_ppo.yaml) into a new run folder.

    Ctrl-C stops training and leaves a checkpoint; continue it with --resume RUN_DIR. With --seeds,
    one run per seed (on --engine), then each seed's final evaluation and their mean and
    interquartile mean with bootstrap intervals, in OUT/summary.csv and OUT/summary.json.
    """
    from thetagym.train import run

    overrides = {"total_timesteps": timesteps, "seed": seed, "n_envs": n_envs}
    if resume_dir is not None:
        if config is not None or out is not None or seed_list is not None:
            raise click.UsageError(
                "--resume takes the run folder's own config; give no CONFIG, --out or --seeds"
            )
        compile_if_cold()
        result = run.resume(resume_dir, overrides, progress=not no_progress)
    else:
        if config is None:
            raise click.UsageError("give a training CONFIG (see configs/train/) or --resume RUN_DIR")
        train_config = run.load_train_config(config, overrides)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = out or Path("runs") / f"{config.stem}-{stamp}"
        if seed_list is not None:
            if seed is not None:
                raise click.UsageError("give --seed or --seeds, not both")
            _train_seeds(train_config, seed_list, run_dir, engine, workers, address)
            return
        compile_if_cold()
        result = run.train(train_config, run_dir, progress=not no_progress)
    state = "interrupted; resume with --resume" if result.interrupted else "done"
    resumed = f" (resumed at {result.started_at:,})" if result.started_at else ""
    click.echo(
        f"{state}: {result.timesteps:,} steps{resumed} in {result.seconds:,.1f} s "
        f"({result.steps_per_second:,.0f} steps/s); run folder {result.run_dir}"
    )


def _train_seeds(
    config: TrainConfig, seed_list: str, out: Path, engine: str, workers: int | None, address: str | None
) -> None:
    from thetagym.engines import check_engine, make_engine
    from thetagym.env.warm_up import compile_kernels
    from thetagym.train.seeds import format_seeds, format_summary, parse_seeds, train_seeds

    seeds = parse_seeds(seed_list)
    check_engine(engine, address)
    compile_if_cold()
    with make_engine(engine, workers, address, prepare=compile_kernels) as runner:
        table, summary = train_seeds(config, seeds, out, runner)
    click.echo(f"{len(table)} seeds trained into {out}/seed-<n>/; final evaluations:")
    click.echo(format_seeds(table))
    click.echo("across seeds:")
    click.echo(format_summary(summary))
    click.echo(f"summary: {out / 'summary.csv'}, {out / 'summary.json'}")
