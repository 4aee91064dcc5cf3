"""Options shared by several commands (kept free of heavy imports, so ``--help`` stays fast)."""

from __future__ import annotations

from pathlib import Path

import click

agent_option = click.option(
    "--agent",
    "agent_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A rule config YAML, or a trained agent's folder.",
)
"""``--agent RULES_OR_AGENT``: passed to the command as ``agent_path``."""
