"""The evaluation config: which agents, on which book, in which markets, for how long.

Loaded from YAML with :func:`load_evaluation_config`, which checks what the typed loader cannot:
agent files exist, names are unique, scenarios are known (with a "did you mean"), and the seeds
stay clear of the training seeds (:mod:`thetagym.seeds`). Relative paths are resolved against
the working directory, then against the config file's folder and its parents, so a config under
``configs/evaluate/`` can name ``configs/rules/x.yaml`` and run from anywhere in the project.

>>> spec = ScenarioSpec(replay="2020-02-03:2020-04-30")
>>> spec.label, spec.is_replay
('2020-02-03:2020-04-30', True)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thetagym.config import ConfigError, build, read_yaml, setting, suggest
from thetagym.env.config import MAX_EPISODE_DAYS
from thetagym.market.replay import HISTORICAL_EPISODES
from thetagym.market.scenarios import DEFAULT_MIX, ScenarioBook
from thetagym.measures import HEADLINE_MEASURES, TARGET_VOLATILITY
from thetagym.seeds import EVALUATION_SEED_BASE, MAX_SEED, check_evaluation_seeds

RESERVED_NAMES = ("paired", "leaderboard")
"""Top-level keys of ``summary.json`` beside the agents' names, so no agent may take them."""
AGENT_KINDS = ("rules", "model")
"""Ways to give an agent: a rule config file, or a trained agent's folder."""
DEFAULT_ENV_CONFIG = Path("configs/env/default.yaml")


@dataclass(frozen=True)
class AgentSpec:
    """One agent to evaluate: a ``name`` and exactly one of ``rules`` or ``model``."""

    name: str
    rules: Path | None = setting(None, doc="rule config YAML (configs/rules/*.yaml)")
    model: Path | None = setting(None, doc="trained agent folder (agents/<name>/)")
    env: Path | None = setting(
        None, doc="this agent's own book (e.g. the guard switched off); empty: the evaluation's env"
    )

    def __post_init__(self) -> None:
        given = [kind for kind in AGENT_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(
                f"agent {self.name!r} needs exactly one of 'rules' or 'model', got {given or 'none'}"
            )

    @classmethod
    def from_path(cls, path: Path) -> AgentSpec:
        """The agent of a rule config file or a trained agent's folder, named after it."""
        if path.is_file():
            return cls(name=path.stem, rules=path)
        return cls(name=path.name, model=path)

    @property
    def kind(self) -> str:
        """``rules`` or ``model``."""
        return "rules" if self.rules is not None else "model"

    @property
    def path(self) -> Path:
        """The rule config file or the agent folder."""
        path = self.rules if self.rules is not None else self.model
        assert path is not None
        return path


@dataclass(frozen=True)
class ScenarioSpec:
    """A market: a simulated ``scenario`` by name, or a historical ``replay``.

    ``replay`` is a name of :data:`thetagym.market.replay.HISTORICAL_EPISODES` or ``START:END``
    (ISO dates); its daily closes come from ``index_csv`` and ``vix_csv``, by default the shared
    data folder's ``spx_daily.csv`` and ``vix_daily.csv``.
    """

    scenario: str | None = setting(None, doc="simulated scenario name (calm, crash, mix, ...)")
    replay: str | None = setting(None, doc="historical window: a name or START:END")
    index_csv: Path | None = setting(None, doc="daily S&P 500 closes for a replay")
    vix_csv: Path | None = setting(None, doc="daily VIX closes for a replay")

    def __post_init__(self) -> None:
        if (self.scenario is None) == (self.replay is None):
            raise ValueError("a scenario needs exactly one of 'scenario' or 'replay'")
        if self.scenario is not None and (self.index_csv or self.vix_csv):
            raise ValueError("index_csv and vix_csv only apply to a replay")

    @property
    def is_replay(self) -> bool:
        return self.replay is not None

    @property
    def label(self) -> str:
        """The name used in tables and file names."""
        label = self.replay if self.replay is not None else self.scenario
        assert label is not None
        return label


@dataclass(frozen=True)
class EvaluationConfig:
    """Agents compared on common market paths. Every agent runs ``episodes`` episodes of ``days``
    trading days in every scenario, on the same env seeds (``seed`` onwards)."""

    agents: tuple[AgentSpec, ...] = setting(doc="the agents to compare")
    env: Path = setting(DEFAULT_ENV_CONFIG, doc="env (book) config YAML")
    scenarios: tuple[str | ScenarioSpec, ...] = setting(
        (DEFAULT_MIX,), doc="scenario names, or {replay: NAME_OR_START:END} mappings"
    )
    seed: int = setting(
        EVALUATION_SEED_BASE, ge=0, le=MAX_SEED, doc="base env seed; must not overlap training seeds"
    )
    episodes: int = setting(16, ge=1, le=100_000, doc="episodes per scenario (one vector env of this many)")
    days: int = setting(
        63, ge=1, le=MAX_EPISODE_DAYS, doc="trading days per episode (replays: at most their window)"
    )
    out: Path | None = setting(None, doc="output folder (default: reports/evaluate-<config name>)")
    workers: int | None = setting(None, ge=1, le=1_024, doc="worker processes (default: the machine's cores)")
    bootstrap_resamples: int = setting(2000, ge=100, le=1_000_000, doc="resamples per bootstrap interval")
    headline: str = setting(
        "sharpe", doc="the measure agents are ranked on: sharpe, sortino, risk_matched_return or cvar_5"
    )
    baseline: str | None = setting(
        None, doc="agent every other is compared with path by path; empty: the best-ranked rule agent"
    )
    target_volatility: float = setting(
        TARGET_VOLATILITY,
        gt=0.0,
        le=2.0,
        doc="annualised volatility risk-matched measures scale every book to",
    )

    @property
    def scenario_specs(self) -> tuple[ScenarioSpec, ...]:
        """Every scenario as a :class:`ScenarioSpec` (plain names become ``scenario: name``)."""
        return tuple(s if isinstance(s, ScenarioSpec) else ScenarioSpec(scenario=s) for s in self.scenarios)


def load_evaluation_config(path: str | Path) -> EvaluationConfig:
    """Load, check and resolve an evaluation config (paths become absolute)."""
    source = str(path)
    config = build(EvaluationConfig, read_yaml(path), source=source)
    return check_evaluation_config(config, source, Path(path).resolve().parent)


def check_evaluation_config(
    config: EvaluationConfig, source: str = "", base: Path | None = None
) -> EvaluationConfig:
    """``config`` with its paths resolved (:func:`resolve_path`: the working directory first, then
    ``base``, the config file's folder, and its parents), or a :class:`ConfigError` naming
    ``source``, key and value."""
    where = f"{source}: " if source else ""
    if not config.agents:
        raise ConfigError(f"{where}key 'agents': list at least one agent")
    names = [agent.name for agent in config.agents]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"{where}key 'agents[{i}].name': agent name {name!r} is used twice")
        if name in RESERVED_NAMES:
            raise ConfigError(
                f"{where}key 'agents[{i}].name': {name!r} is reserved for summary.json; choose another name"
            )
    if config.headline not in HEADLINE_MEASURES:
        raise ConfigError(
            f"{where}key 'headline': {config.headline!r} is not a headline measure"
            f"{suggest(config.headline, HEADLINE_MEASURES)}; choose one of {', '.join(HEADLINE_MEASURES)}"
        )
    if config.baseline is not None and config.baseline not in names:
        raise ConfigError(
            f"{where}key 'baseline': {config.baseline!r} is not one of the agents"
            f"{suggest(config.baseline, names)}; agents: {', '.join(names)}"
        )
    agents = tuple(
        _check_agent(agent, base, f"{where}key 'agents[{i}]") for i, agent in enumerate(config.agents)
    )
    env = _existing(config.env, base, f"{where}key 'env'", folder=False)
    scenarios = tuple(
        _check_scenario(spec, base, f"{where}key 'scenarios[{i}]")
        for i, spec in enumerate(config.scenario_specs)
    )
    labels = [spec.label for spec in scenarios]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise ConfigError(f"{where}key 'scenarios[{i}]': scenario {label!r} is listed twice")
    try:
        check_evaluation_seeds(config.seed, len(scenarios), config.episodes)
    except ValueError as error:
        raise ConfigError(f"{where}key 'seed': {config.seed}: {error}") from None
    return dataclasses.replace(config, agents=agents, env=env, scenarios=scenarios)


def resolve_path(path: Path, base: Path | None = None) -> Path:
    """``path`` if absolute or present under the working directory, else the first match under
    ``base`` and its parents; ``path`` itself when nothing matches."""
    path = path.expanduser()
    if path.is_absolute() or path.exists():
        return path.resolve()
    for folder in [base, *base.parents] if base is not None else []:
        if (folder / path).exists():
            return (folder / path).resolve()
    return path


def _existing(path: Path, base: Path | None, where: str, folder: bool) -> Path:
    resolved = resolve_path(path, base)
    exists = resolved.is_dir() if folder else resolved.is_file()
    if not exists:
        what = "agent folder" if folder else "file"
        raise ConfigError(f"{where}: no such {what} {str(path)!r}{_nearby(resolved)}")
    return resolved


def _nearby(path: Path) -> str:
    """`` (did you mean 'x'?)`` for a sibling of a missing ``path`` with a similar name."""
    if not path.parent.is_dir():
        return ""
    return suggest(path.name, (child.name for child in path.parent.iterdir()))


def _check_scenario(spec: ScenarioSpec, base: Path | None, where: str) -> ScenarioSpec:
    """``spec`` checked, its files resolved; ``where`` is ``"file: key 'path"`` (quote left open)."""
    if spec.scenario is not None:
        check_scenario_name(spec.scenario, where + "'")
        return spec
    assert spec.replay is not None
    check_replay_name(spec.replay, where + "'")
    index_csv, vix_csv = (
        _existing(value, base, f"{where}.{key}'", folder=False) if value is not None else None
        for key, value in (("index_csv", spec.index_csv), ("vix_csv", spec.vix_csv))
    )
    return dataclasses.replace(spec, index_csv=index_csv, vix_csv=vix_csv)


def _check_agent(agent: AgentSpec, base: Path | None, where: str) -> AgentSpec:
    """``agent`` with its file or folder resolved; ``where`` as for :func:`_check_scenario`."""
    path = _existing(agent.path, base, f"{where}.{agent.kind}'", folder=agent.kind == "model")
    env = None if agent.env is None else _existing(agent.env, base, f"{where}.env'", folder=False)
    return (
        dataclasses.replace(agent, rules=path, env=env)
        if agent.kind == "rules"
        else dataclasses.replace(agent, model=path, env=env)
    )


def check_scenario_name(name: str, where: str) -> None:
    """Raise a :class:`ConfigError` starting with ``where`` (file and key) unless ``name`` is a
    built-in scenario or scenario mix."""
    known = scenario_names()
    if name not in known:
        raise ConfigError(
            f"{where}: unknown scenario {name!r}{suggest(name, known)}; known: {', '.join(known)}"
        )


def check_replay_name(replay: str, where: str) -> None:
    """Raise a :class:`ConfigError` starting with ``where`` (file and key) unless ``replay`` is a
    named historical window or ``START:END`` with ISO dates."""
    if replay in HISTORICAL_EPISODES:
        return
    if ":" in replay:
        start, _, end = replay.partition(":")
        try:
            if np.datetime64(start, "D") < np.datetime64(end, "D"):
                return
        except ValueError:
            pass
        raise ConfigError(
            f"{where}: replay window {replay!r} must be START:END with ISO dates, START before END"
        )
    raise ConfigError(
        f"{where}: unknown replay {replay!r}{suggest(replay, HISTORICAL_EPISODES)}; "
        f"known: {', '.join(HISTORICAL_EPISODES)}, or START:END"
    )


def scenario_names() -> tuple[str, ...]:
    """Names of the built-in simulated scenarios and scenario mixes."""
    book = ScenarioBook.builtin()
    return (*book.scenarios, *book.mixes)
