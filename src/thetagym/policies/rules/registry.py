"""Build a rule agent from its YAML rule config: the file's ``agent:`` key picks the agent.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "strangle.yaml"
>>> _ = path.write_text("agent: hold_to_expiry")
>>> load_rule_agent(path).name
'hold_to_expiry'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from thetagym.book import BookConfig
from thetagym.config import ConfigError, build, read_yaml, suggest
from thetagym.policies.rules.agent import RuleAgent
from thetagym.policies.rules.alvh import Alvh
from thetagym.policies.rules.config import AGENT_NAMES, CONFIG_TYPES, RuleConfig, merge_regime_thresholds
from thetagym.policies.rules.dynamic_exposure import DynamicExposure
from thetagym.policies.rules.hold_to_expiry import HoldToExpiry
from thetagym.policies.rules.naive_rebalancer import NaiveRebalancer
from thetagym.policies.rules.put_write import PutWrite

AGENTS: dict[str, type[RuleAgent]] = {
    "dynamic_exposure": DynamicExposure,
    "alvh": Alvh,
    "naive_rebalancer": NaiveRebalancer,
    "hold_to_expiry": HoldToExpiry,
    "put_write": PutWrite,
}
"""The agent class of each agent name."""


def load_rule_config(path: str | Path, expect: str | Sequence[str] | None = None) -> RuleConfig:
    """The rule config in ``path``, of the agent its ``agent:`` key names.

    ``expect`` restricts the agents a caller accepts (e.g. an export that fits only
    ``dynamic_exposure``); another agent gives a :class:`ConfigError` naming the file and key.
    """
    return rule_config_from_data(read_yaml(path), path, expect)


def rule_config_from_data(
    data: dict[str, Any], path: str | Path, expect: str | Sequence[str] | None = None
) -> RuleConfig:
    """The rule config of the mapping ``data`` read from ``path`` (named in errors); see
    :func:`load_rule_config`."""
    agent = data.get("agent")
    choices = ", ".join(AGENT_NAMES)
    if agent is None:
        raise ConfigError(f"{path}: key 'agent' is missing; name one of {choices}")
    if agent not in CONFIG_TYPES:
        raise ConfigError(
            f"{path}: key 'agent': unknown agent {agent!r}{suggest(str(agent), AGENT_NAMES)}; "
            f"known agents: {choices}"
        )
    wanted = (expect,) if isinstance(expect, str) else tuple(expect or AGENT_NAMES)
    if agent not in wanted:
        raise ConfigError(
            f"{path}: key 'agent': this is a {agent!r} rule config, but a config of "
            f"{' or '.join(repr(w) for w in wanted)} is needed here"
        )
    return build(CONFIG_TYPES[agent], merge_regime_thresholds(data), source=str(path))


def build_rule_agent(
    config: RuleConfig, book_config: BookConfig | None = None, source: str = ""
) -> RuleAgent:
    """The agent a rule config drives, for a book of ``book_config`` (a :class:`thetagym.book.BookConfig`).

    Settings that name the book's layers are checked against it here; ``source`` (the config's
    file) is named in the error.
    """
    return AGENTS[config.agent](config, book_config, source)


def load_rule_agent(
    path: str | Path, book_config: BookConfig | None = None, expect: str | Sequence[str] | None = None
) -> RuleAgent:
    """Load the rule config in ``path`` and build its agent (see :func:`load_rule_config`)."""
    return build_rule_agent(load_rule_config(path, expect), book_config, source=str(path))
