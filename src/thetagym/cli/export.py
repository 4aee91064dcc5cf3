"""``thetagym export-thresholds``: fit a rule config's thresholds to a trained policy."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.cli.options import claim_output, seed_option
from thetagym.outputs import REPORTS_FOLDER, check_new_file
from thetagym.seeds import EVALUATION_SEED_BASE, MAX_SEED

MAX_EPISODES = 100_000
"""Most episodes recorded or evaluated (one vector env of this many)."""
VIX_RANGE = (5.0, 150.0)
"""VIX levels a band may split at: the index has closed between 9.1 and 82.7 since 1990."""


def vix_bands(text: str) -> tuple[float, ...]:
    """The VIX levels of ``--vix-bands``: finite, inside :data:`VIX_RANGE`, increasing.

    >>> vix_bands("15, 25"), vix_bands("")
    ((15.0, 25.0), ())
    """
    try:
        levels = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(
            f"expected VIX levels separated by commas, e.g. 15,25; got {text!r}", param_hint="--vix-bands"
        ) from None
    low, high = VIX_RANGE
    for level in levels:
        if not low <= level <= high:  # also refuses nan
            raise click.BadParameter(
                f"{text!r}: VIX level {level} is outside {low:g} to {high:g}", param_hint="--vix-bands"
            )
    if any(b <= a for a, b in itertools.pairwise(levels)):
        raise click.BadParameter(f"{text!r}: the levels must increase, e.g. 15,25", param_hint="--vix-bands")
    return levels


@click.command()
@click.argument("agent_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--rules",
    "rules_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rule config to start from (configs/rules/dynamic_exposure.yaml or alvh.yaml).",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Rule config YAML to write.")
@click.option(
    "--agent",
    "expect",
    type=click.Choice(["dynamic_exposure", "alvh"]),
    help="Refuse a --rules file of another agent.",
)
@click.option(
    "--env",
    "env_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Env config [default: AGENT_DIR/env.yaml, else configs/env/default.yaml].",
)
@click.option(
    "--days", type=click.IntRange(min=1), help="Trading days per recorded episode [default: the env's]."
)
@seed_option(0, "First training seed recorded; the held-out seeds follow the fitting seeds.")
@click.option("--fit-episodes", type=click.IntRange(1, MAX_EPISODES), default=24, show_default=True)
@click.option("--heldout-episodes", type=click.IntRange(1, MAX_EPISODES), default=8, show_default=True)
@click.option(
    "--sweeps",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Coordinate-descent sweeps over the thresholds.",
)
@click.option(
    "--vix-bands",
    "vix_bands_text",
    default="15,25",
    show_default=True,
    help="VIX levels splitting regimes (a threshold set per band if it generalises); '' for one set.",
)
@click.option(
    "--eval-episodes",
    type=click.IntRange(1, MAX_EPISODES),
    default=16,
    show_default=True,
    help="Episodes of the evaluation on evaluation seeds.",
)
@click.option(
    "--eval-days",
    type=click.IntRange(min=1),
    help="Trading days per evaluation episode [default: the env's].",
)
@seed_option(
    EVALUATION_SEED_BASE,
    "First evaluation seed (evaluation seeds start at 1e9).",
    low=EVALUATION_SEED_BASE,
    name="--eval-seed",
)
@click.option(
    "--eval-out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the evaluation (refused if not empty) [default: a new reports/export-<out stem>].",
)
@click.option(
    "--no-evaluation", is_flag=True, help="Skip the evaluation of policy, exported and original rules."
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Evaluation worker processes [default: all cores]."
)
@click.option(
    "--force", is_flag=True, help="Replace an existing --out file and write into a used --eval-out."
)
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def export_thresholds(
    agent_dir: Path,
    rules_path: Path,
    out: Path,
    expect: str | None,
    env_path: Path | None,
    days: int | None,
    seed: int,
    fit_episodes: int,
    heldout_episodes: int,
    sweeps: int,
    vix_bands_text: str,
    eval_episodes: int,
    eval_days: int | None,
    eval_seed: int,
    eval_out: Path | None,
    no_evaluation: bool,
    workers: int | None,
    force: bool,
    no_progress: bool,
) -> None:
    """Fit the thresholds of the rule config --rules so that its agent reproduces the trained policy
    in AGENT_DIR; write them to --out with the agreement on held-out states and an evaluation of
    policy, exported and original rules (into --eval-out)."""
    check_new_file(out, force)
    bands = vix_bands(vix_bands_text)
    if seed + fit_episodes + heldout_episodes - 1 > MAX_SEED:
        raise click.BadParameter(
            f"{seed}: the last recorded seed would exceed {MAX_SEED}", param_hint="--seed"
        )
    progress = not no_progress
    folder = None if no_evaluation else claim_output(eval_out, force, REPORTS_FOLDER / f"export-{out.stem}")
    with folder if folder is not None else contextlib.nullcontext():
        from thetagym.env.config import default_config_path, resolve_config
        from thetagym.env.observation import observation_names
        from thetagym.evaluate.agents import model_load_errors
        from thetagym.evaluate.config import AgentSpec
        from thetagym.export import FitSettings, evaluate_value, export_thresholds, header
        from thetagym.export.fidelity import format_table
        from thetagym.export.run import fittable_config
        from thetagym.export.write import write_rule_config
        from thetagym.policies.trained import TrainedPolicy, action_nvec

        original = fittable_config(rules_path, expect)
        if env_path is None:
            env_path = agent_dir / "env.yaml" if (agent_dir / "env.yaml").is_file() else default_config_path()
        env_config = resolve_config(env_path, {"episode_days": days} if days else {})
        with model_load_errors(agent_dir):
            policy = TrainedPolicy.load(
                agent_dir,
                observation_names(env_config),
                action_nvec(len(env_config.book.layers)),
                book=env_config.book,
            )
        compile_if_cold()
        fit_seeds = tuple(range(seed, seed + fit_episodes))
        heldout_seeds = tuple(range(seed + fit_episodes, seed + fit_episodes + heldout_episodes))
        settings = FitSettings(sweeps=sweeps, vix_bands=bands)
        result = export_thresholds(
            policy, original, env_config, fit_seeds, heldout_seeds, settings, name=out.stem, progress=progress
        )
        lines = header(result, str(agent_dir), str(rules_path), str(env_path))
        write_rule_config(result.config, original, lines, out, force)
        click.echo(f"decision agreement with the policy on {result.heldout_states} held-out states:")
        click.echo(format_table(result.fidelity))
        click.echo(f"regimes: {result.fit.describe()}")
        if folder is None:
            click.echo(f"rule config: {out}")
            return
        agents = (
            AgentSpec(name=policy.name, model=agent_dir),
            AgentSpec(name=f"exported-{out.stem}", rules=out),
            AgentSpec(name=f"original-{rules_path.stem}", rules=rules_path),
        )
        value = evaluate_value(
            agents, env_config, folder, eval_episodes, eval_days, eval_seed, workers, progress
        )
        means = value.means()
        write_rule_config(
            result.config,
            original,
            header(result, str(agent_dir), str(rules_path), str(env_path), means),
            out,
            force=True,
        )
        click.echo(f"evaluation on {eval_episodes} held-out paths (mean per episode):")
        click.echo(means.to_string(float_format=lambda v: f"{v:.4g}"))
    click.echo(f"report: {value.report}")
    click.echo(f"rule config: {out}")
