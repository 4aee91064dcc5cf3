"""``thetagym export-thresholds``: fit a rule config's thresholds to a trained policy."""

from __future__ import annotations

from pathlib import Path

import click

from thetagym.cli.kernels import compile_if_cold
from thetagym.seeds import EVALUATION_SEED_BASE


def _bands(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(
            f"expected VIX levels separated by commas, e.g. 15,25; got {text!r}"
        ) from None


@click.command()
@click.argument("agent_dir", type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_path",
    required=True,
    type=click.Path(path_type=Path),
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
    type=click.Path(path_type=Path),
    help="Env config [default: AGENT_DIR/env.yaml, else configs/env/default.yaml].",
)
@click.option(
    "--days", type=click.IntRange(min=1), help="Trading days per recorded episode [default: the env's]."
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="First training seed recorded; the held-out seeds follow the fitting seeds.",
)
@click.option("--fit-episodes", type=click.IntRange(min=1), default=24, show_default=True)
@click.option("--heldout-episodes", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--sweeps",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Coordinate-descent sweeps over the thresholds.",
)
@click.option(
    "--vix-bands",
    default="15,25",
    show_default=True,
    help="VIX levels splitting regimes (a threshold set per band if it generalises); '' for one set.",
)
@click.option(
    "--eval-episodes",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Episodes of the evaluation on evaluation seeds.",
)
@click.option(
    "--eval-days",
    type=click.IntRange(min=1),
    help="Trading days per evaluation episode [default: the env's].",
)
@click.option(
    "--eval-seed",
    type=click.IntRange(min=EVALUATION_SEED_BASE),
    default=EVALUATION_SEED_BASE,
    show_default=True,
)
@click.option(
    "--no-evaluation", is_flag=True, help="Skip the evaluation of policy, exported and original rules."
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Evaluation worker processes [default: all cores]."
)
@click.option("--force", is_flag=True, help="Replace an existing --out file and evaluation folder.")
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
    vix_bands: str,
    eval_episodes: int,
    eval_days: int | None,
    eval_seed: int,
    no_evaluation: bool,
    workers: int | None,
    force: bool,
    no_progress: bool,
) -> None:
    """Fit the thresholds of the rule config --rules so that its agent reproduces the trained policy
    in AGENT_DIR; write them to --out with the agreement on held-out states and an evaluation of
    policy, exported and original rules (into <out stem>-evaluation/)."""
    from thetagym.env.config import default_config_path, resolve_config
    from thetagym.env.observation import observation_names
    from thetagym.evaluate.config import AgentSpec
    from thetagym.evaluate.outputs import prepare_output
    from thetagym.export import FitSettings, evaluate_value, evaluation_folder, export_thresholds, header
    from thetagym.export.fidelity import format_table
    from thetagym.export.run import fittable_config
    from thetagym.export.write import check_out_path, write_rule_config
    from thetagym.policies.trained import TrainedPolicy, action_nvec

    progress = not no_progress
    check_out_path(out, force)
    folder = evaluation_folder(out)
    if not no_evaluation and folder.is_dir() and any(folder.iterdir()) and not force:
        prepare_output(folder, force)  # raises with the evaluation's own message
    original = fittable_config(rules_path, expect)
    if env_path is None:
        env_path = agent_dir / "env.yaml" if (agent_dir / "env.yaml").is_file() else default_config_path()
    env_config = resolve_config(env_path, {"episode_days": days} if days else {})
    policy = TrainedPolicy.load(
        agent_dir, observation_names(env_config), action_nvec(len(env_config.book.layers))
    )
    compile_if_cold()
    fit_seeds = tuple(range(seed, seed + fit_episodes))
    heldout_seeds = tuple(range(seed + fit_episodes, seed + fit_episodes + heldout_episodes))
    settings = FitSettings(sweeps=sweeps, vix_bands=_bands(vix_bands))
    result = export_thresholds(
        policy, original, env_config, fit_seeds, heldout_seeds, settings, name=out.stem, progress=progress
    )
    lines = header(result, str(agent_dir), str(rules_path), str(env_path))
    write_rule_config(result.config, original, lines, out, force)
    click.echo(f"decision agreement with the policy on {result.heldout_states} held-out states:")
    click.echo(format_table(result.fidelity))
    click.echo(f"regimes: {result.fit.describe()}")
    if not no_evaluation:
        agents = (
            AgentSpec(name=policy.name, model=agent_dir),
            AgentSpec(name=f"exported-{out.stem}", rules=out),
            AgentSpec(name=f"original-{rules_path.stem}", rules=rules_path),
        )
        value = evaluate_value(
            agents, env_config, folder, eval_episodes, eval_days, eval_seed, workers, progress, force
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
