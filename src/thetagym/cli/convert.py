"""``thetagym convert-agent``: turn a stable-baselines3 zip into a stored policy that loads without
unpickling."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    is_flag=True,
    help="Load the zip although loading unpickles it, which runs any code its author put in it. "
    "Only for a file from a source you trust.",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="New agent folder."
)
@click.option(
    "--env",
    "env_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Env config whose layout the model was trained on, when SOURCE has no spaces.yaml.",
)
def convert_agent(source: Path, trust: bool, out: Path, env_path: Path | None) -> None:
    """Convert SOURCE (an SB3 model.zip, or a folder holding one) into the agent folder --out:
    safetensors weights, a YAML spec of the network, and sha256 digests of every file."""
    from thetagym.policies.convert import convert_agent as convert

    layout = None
    if env_path is not None:
        from thetagym.env.config import resolve_config
        from thetagym.env.observation import observation_names
        from thetagym.policies.trained import action_nvec

        config = resolve_config(env_path, {})
        layout = (observation_names(config), action_nvec(len(config.book.layers)))
    folder = convert(source, out, trust, layout)
    click.echo(f"converted {source} into {folder}; it loads without unpickling")
