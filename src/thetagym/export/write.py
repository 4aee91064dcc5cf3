"""Write a fitted rule config as an ordinary, commented rule-config YAML file.

The file opens with a provenance header (comments: source agent, seeds and states, date, fidelity
and evaluation figures), then holds the keys of the rule config in their usual order; the flat
layers and every threshold carry its meaning and the original config's value as a comment, and each VIX regime
lists only the thresholds that differ from the top-level set, as hand-written rule configs do.
Writing checks that the file loads back into exactly the fitted config.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from thetagym.outputs import check_new_file, write_atomically
from thetagym.policies.rules import load_rule_config

if TYPE_CHECKING:
    import pandas as pd

    from thetagym.export.fit import Fittable
    from thetagym.export.run import ExportResult


def check_out_path(path: Path, force: bool) -> None:
    """Refuse to replace an existing file unless ``force``; refuse a folder always."""
    check_new_file(path, force)


FITTED_SETTINGS = ("flat_layers",)
"""Top-level settings (outside ``thresholds``) the export fits; written with their meaning and the
original config's value."""


def _scalar(value: Any) -> str:
    """A YAML scalar as PyYAML writes it (``0.35``, ``null``, ``1.0e-05``, quoted text when needed);
    a tuple as a flow list (``[call_wing, vix_etp]``)."""
    if isinstance(value, tuple):
        value = list(value)
    return yaml.safe_dump(value, default_flow_style=True).splitlines()[0]


def _threshold_lines(
    thresholds: Any, indent: str, original: Any = None, only: Sequence[str] = ()
) -> list[str]:
    lines = []
    for field in dataclasses.fields(thresholds):
        if only and field.name not in only:
            continue
        entry = f"{indent}{field.name}: {_scalar(getattr(thresholds, field.name))}"
        note = field.metadata.get("doc", "")
        if original is not None:
            note = f"{note}; was {_scalar(getattr(original, field.name))}"
        lines.append(f"{entry:<36}# {note}" if note else entry)
    return lines


def render(config: Fittable, original: Fittable, header: Sequence[str]) -> str:
    """The YAML text of ``config`` (fitted from ``original``) under the comment lines ``header``."""
    lines = [f"# {line}".rstrip() for line in header]
    for field in dataclasses.fields(config):
        if field.name in ("thresholds", "regimes"):
            continue
        entry = f"{field.name}: {_scalar(getattr(config, field.name))}"
        if field.name in FITTED_SETTINGS:
            note = f"{field.metadata.get('doc', '')}; was {_scalar(getattr(original, field.name))}"
            entry = f"{entry:<35} # {note}"  # a long list still gets its space
        lines.append(entry)
    top = config.thresholds
    lines.append("thresholds:                         # used when VIX is above every regime's vix_below")
    lines += _threshold_lines(top, "  ", original.thresholds)
    regimes = config.regimes
    if regimes:
        lines.append(
            "regimes:                            # only the thresholds that differ from the block above"
        )
    for regime in regimes:
        changed = [
            f.name
            for f in dataclasses.fields(top)
            if getattr(regime.thresholds, f.name) != getattr(top, f.name)
        ]
        lines.append(f"  - vix_below: {_scalar(regime.vix_below)}")
        if changed:
            lines.append("    thresholds:")
            lines += _threshold_lines(regime.thresholds, "      ", only=changed)
        else:
            lines.append("    thresholds: {}")
    return "\n".join(lines) + "\n"


def write_rule_config(
    config: Fittable, original: Fittable, header: Sequence[str], path: Path, force: bool = False
) -> Path:
    """Write ``config``, fitted from ``original``, to ``path`` under the comment lines ``header``
    (see :func:`render`; an existing file only with ``force``), and check it loads back unchanged."""
    check_out_path(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: tmp.write_text(render(config, original, header)))
    loaded = load_rule_config(path, expect=config.agent)
    if loaded != config:
        raise RuntimeError(f"{path}: the written rule config does not load back as the fitted one")
    return path


def _seeds(seeds: Sequence[int]) -> str:
    """``3..10`` for a run of consecutive seeds, else the list."""
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ", ".join(map(str, seeds))


def header(
    result: ExportResult, source: str, rules: str, env: str, evaluation: pd.DataFrame | None = None
) -> list[str]:
    """Provenance comment lines of the export ``result``: ``source`` (the policy's agent folder),
    ``rules`` (the config started from), ``env``; ``evaluation``: mean measures per agent (rows) on
    held-out paths."""
    lines = [
        f"{result.config.agent} rule config exported by `thetagym export-thresholds`: its thresholds are fitted",
        "so that the rule agent reproduces the decisions of a policy. Edit and run it like any rule config.",
        f"date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}",
        f"source agent: {source} (policy {result.policy_name!r})",
        f"started from: {rules}",
        f"env: {env}",
        f"fitted on {result.fit_states} states of seeds {_seeds(result.fit_seeds)}; "
        f"held out: {result.heldout_states} states of seeds {_seeds(result.heldout_seeds)}",
        f"flat layers: {result.fit.describe_flat()}",
        f"regimes: {result.fit.describe()}",
        "decision agreement with the policy on held-out states (balanced / plain):",
    ]
    for label in ("exported", "original"):
        lines.append(
            f"  {label:<9} {result.agreement(label, 'balanced'):.1%} / {result.agreement(label, 'all'):.1%}"
        )
    if evaluation is not None:
        lines.append("evaluation on held-out paths (evaluation seeds), mean per episode:")
        lines += [
            f"  {line}" for line in evaluation.to_string(float_format=lambda v: f"{v:.4g}").splitlines()
        ]
    return [*lines, ""]
