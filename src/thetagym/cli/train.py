"""``thetagym train``: train a PPO or MaskablePPO agent from a YAML config."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from thetagym.cli.kernels import compile_if_cold


@click.command()
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timesteps", type=click.IntRange(min=1), help="Override total_timesteps.")
@click.option("--seed", type=click.IntRange(min=0), help="Override the run's seed.")
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
    n_envs: int | None,
    out: Path | None,
    resume_dir: Path | None,
    no_progress: bool,
) -> None:
    """Train an agent from CONFIG (e.g. configs/train/maskable_ppo.yaml) into a new run folder.

    Ctrl-C stops training and leaves a checkpoint; continue it with --resume RUN_DIR.
    """
    from thetagym.train import run

    overrides = {"total_timesteps": timesteps, "seed": seed, "n_envs": n_envs}
    if resume_dir is not None:
        if config is not None or out is not None:
            raise click.UsageError("--resume takes the run folder's own config; give no CONFIG or --out")
        compile_if_cold()
        result = run.resume(resume_dir, overrides, progress=not no_progress)
    else:
        if config is None:
            raise click.UsageError("give a training CONFIG (see configs/train/) or --resume RUN_DIR")
        train_config = run.load_train_config(config, overrides)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = out or Path("runs") / f"{config.stem}-{stamp}"
        compile_if_cold()
        result = run.train(train_config, run_dir, progress=not no_progress)
    state = "interrupted; resume with --resume" if result.interrupted else "done"
    click.echo(
        f"{state}: {result.timesteps:,} steps in {result.seconds:,.1f} s "
        f"({result.steps_per_second:,.0f} steps/s); run folder {result.run_dir}"
    )
