"""Turning an agent spec into a :class:`~thetagym.policies.Policy`, and finding the built-in agents.

:func:`load_policy` dispatches on the spec's kind through :data:`POLICY_LOADERS`; supporting a
new kind of agent is one loader function added there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from thetagym.config import ConfigError
from thetagym.evaluate.config import AgentSpec, EvaluationConfig
from thetagym.policies import Policy

if TYPE_CHECKING:
    from thetagym.book import BookConfig

RULES_FOLDER = Path("configs/rules")
AGENTS_FOLDER = Path("agents")
MODEL_LOADER = ("thetagym.policies.trained", "load_trained_agent")
"""Module and function that load a trained agent's folder, imported only when a trained agent is
loaded (the module pulls in torch)."""


def _load_rules(path: Path, book: BookConfig | None) -> Policy:
    from thetagym.policies.rules import load_rule_agent

    return load_rule_agent(path, book)


def model_loader_available() -> bool:
    """Whether this installation can load trained agents."""
    return importlib.util.find_spec(MODEL_LOADER[0]) is not None


def _load_model(path: Path, book: BookConfig | None) -> Policy:
    if not model_loader_available():
        raise ConfigError(
            f"{path}: trained-model agents are not yet supported by this installation "
            f"({MODEL_LOADER[0]} is missing); evaluate rule agents instead"
        )
    module_name, function = MODEL_LOADER
    with model_load_errors(path):
        policy: Policy = getattr(importlib.import_module(module_name), function)(path, book)
    return policy


@contextlib.contextmanager
def model_load_errors(path: Path) -> Iterator[None]:
    """Turn whatever a damaged or foreign agent folder raises while it loads into one
    :class:`ConfigError` naming the folder (the file's own errors say which part is wrong)."""
    try:
        yield
    except ConfigError:
        raise
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ConfigError(
            f"{path}: cannot load this trained agent ({type(error).__name__}{': ' + reason if reason else ''})"
        ) from None


POLICY_LOADERS: dict[str, Callable[[Path, BookConfig | None], Policy]] = {
    "rules": _load_rules,
    "model": _load_model,
}
"""One loader per :data:`thetagym.evaluate.config.AGENT_KINDS` entry: ``loader(path, book_config)``."""


def load_policy(spec: AgentSpec, book: BookConfig | None = None) -> Policy:
    """The policy of ``spec`` for a book of ``book`` (a :class:`thetagym.book.BookConfig`),
    named ``spec.name``."""
    policy = POLICY_LOADERS[spec.kind](spec.path, book)
    try:
        policy.name = spec.name
    except AttributeError:  # a frozen policy keeps its own name
        pass
    return policy


def check_trained_agents(config: EvaluationConfig) -> None:
    """Refuse, before any work starts, a trained agent of ``config`` whose files do not match the
    digests in its metadata (one line naming the file)."""
    trained = [spec for spec in config.agents if spec.kind == "model"]
    if trained and model_loader_available():
        from thetagym.policies.trained import verify_agent

        for spec in trained:
            verify_agent(spec.path)


def builtin_agents(root: Path) -> list[AgentSpec]:
    """Every rule config in ``root/configs/rules`` and trained agent folder in ``root/agents``.

    An agent folder counts when it holds a file; folders are taken in name order, rule agents
    first. Rule agents are named after their file, trained agents after their folder (prefixed
    ``ppo-`` if the name is taken).
    """
    specs = [AgentSpec(name=path.stem, rules=path) for path in sorted((root / RULES_FOLDER).glob("*.yaml"))]
    taken = {spec.name for spec in specs}
    agents_folder = root / AGENTS_FOLDER
    folders = sorted(p for p in agents_folder.iterdir() if p.is_dir()) if agents_folder.is_dir() else []
    for folder in folders:
        if any(child.is_file() for child in folder.iterdir()):
            name = folder.name if folder.name not in taken else f"ppo-{folder.name}"
            specs.append(AgentSpec(name=name, model=folder))
    return specs


def with_builtin_agents(config: EvaluationConfig, root: Path) -> tuple[EvaluationConfig, list[str]]:
    """``config`` plus the built-in agents of ``root`` it does not list yet, and notes on any
    skipped: trained agents while trained models are not supported, and trained agents whose files
    do not match the sha256 digests in their metadata (or that hold only an SB3 zip)."""
    listed = {agent.path.resolve() for agent in config.agents}
    names = {agent.name for agent in config.agents}
    extra = [
        spec for spec in builtin_agents(root) if spec.path.resolve() not in listed and spec.name not in names
    ]
    notes = []
    trained = [spec for spec in extra if spec.kind == "model"]
    if trained and not model_loader_available():
        notes.append(
            f"skipping {len(trained)} trained agent(s) in {root / AGENTS_FOLDER}: "
            "trained models are not yet supported"
        )
        extra = [spec for spec in extra if spec.kind != "model"]
    elif trained:
        from thetagym.policies.trained import verify_agent

        for spec in trained:
            try:
                verify_agent(spec.path)
            except ConfigError as error:
                notes.append(f"skipping trained agent {spec.name}: {error}")
                extra.remove(spec)
    return dataclasses.replace(config, agents=(*config.agents, *extra)), notes
