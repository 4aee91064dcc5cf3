"""``EnvConfig``: everything that defines an environment, loaded from YAML.

An env YAML file names its book (a path to a book YAML file, relative to the env file, or the book
settings inline), its market (a path or inline :class:`~thetagym.market.params.MarketConfig`
settings), and a scenario, scenario mix or historical replay window::

    book: book/default.yaml        # or a mapping of BookConfig settings
    scenario: calm-to-stressed     # a scenario or mix of thetagym.market.scenarios
    episode_days: 63
    reward: {drawdown_penalty: 2.0}

A file holding only book settings (``capital``, ``layers``, ...) is read as the book of an env with
default settings, so every book YAML file is also an env config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thetagym.book.config import BookConfig
from thetagym.config import ConfigError, build, nested, read_yaml, setting, suggest
from thetagym.env.reward import RewardConfig
from thetagym.market.params import MarketConfig
from thetagym.market.scenarios import DEFAULT_MIX, MIXES, SCENARIOS

MAX_EPISODE_DAYS = 10_080
"""Longest episode, trading days: 40 years, so 1990-2023 replays as one path."""


@dataclass(frozen=True)
class ReplayConfig:
    """Historical replay: episodes are windows of the daily closes, a random window per path seed."""

    index_csv: str = setting("", doc="daily index closes (CSV); empty: spx_daily.csv of the shared data")
    vix_csv: str = setting("", doc="daily VIX closes (CSV); empty: vix_daily.csv of the shared data")
    vix3m_csv: str = setting("", doc="daily VIX3M closes (CSV, optional)")
    start: str = setting("", doc="first date a window may start on (ISO); empty: the data's start")
    end: str = setting("", doc="last date a window may end on (ISO); empty: the data's end")


@dataclass(frozen=True)
class EnvConfig:
    """The environment: a book on a market, episode length, reward and observation settings.

    Guard on or off lives in ``book.guard.enabled``; the env warns once when it is off.
    """

    book: BookConfig = nested(BookConfig, doc="the book (a path to a book YAML file, or inline)")
    market: MarketConfig = nested(MarketConfig, doc="the market (a path or inline); sets bars_per_day")
    scenario: str = setting(DEFAULT_MIX, doc="scenario or scenario mix of simulated paths")
    replay: ReplayConfig | None = setting(None, doc="replay historical windows instead of simulating")
    episode_days: int = setting(
        63, ge=1, le=MAX_EPISODE_DAYS, doc="episode length, trading days (truncation)"
    )
    path_extra_days: int = setting(
        0,
        ge=0,
        le=MAX_EPISODE_DAYS,
        doc="trading days simulated past the horizon so expiries exist; 0: derived from the book",
    )
    ruin_fraction: float = setting(
        0.5, ge=0.0, lt=1.0, doc="terminate when equity is at or below this fraction of capital"
    )
    observation_clip: float = setting(
        5.0, gt=0.0, le=1_000.0, doc="observations are clipped to [-clip, clip]"
    )
    reward: RewardConfig = nested(RewardConfig, doc="reward settings")

    def __post_init__(self) -> None:
        if self.replay is None and self.scenario not in SCENARIOS and self.scenario not in MIXES:
            known = [*SCENARIOS, *MIXES]
            raise ValueError(
                f"unknown scenario {self.scenario!r}{suggest(self.scenario, known)}; known: {', '.join(known)}"
            )

    @property
    def bars_per_day(self) -> int:
        return self.market.bars_per_day

    @property
    def horizon(self) -> int:
        """Bars per episode."""
        return self.episode_days * self.market.bars_per_day

    @property
    def path_days(self) -> int:
        """Trading days per market path: the episode plus room for the longest expiry."""
        if self.path_extra_days:
            return self.episode_days + self.path_extra_days
        reach = max(
            layer.max_days + (layer.rungs - 1) * layer.rung_spacing_days for layer in self.book.layers
        )
        return self.episode_days + reach + 5


BOOK_KEYS = frozenset(f.name for f in dataclasses.fields(BookConfig))
ENV_KEYS = frozenset(f.name for f in dataclasses.fields(EnvConfig))


def load_env_config(path: str | Path) -> EnvConfig:
    """Load an :class:`EnvConfig` from YAML (an env file, or a book file read as env defaults)."""
    path = Path(path)
    data = read_yaml(path)
    return env_config_from_mapping(data, source=str(path), base=path.parent)


def env_config_from_mapping(data: dict[str, Any], source: str = "", base: Path | None = None) -> EnvConfig:
    """Build an :class:`EnvConfig` from a YAML mapping; ``book`` and ``market`` may be file paths
    (relative to ``base``, then to the working directory)."""
    if "book" not in data and data.keys() & BOOK_KEYS and not data.keys() & (ENV_KEYS - {"book"}):
        data = {"book": data}
    data = dict(data)
    for key, loader in (("book", BookConfig), ("market", MarketConfig)):
        if isinstance(data.get(key), str):
            file = _resolve(data[key], base, source, key)
            data[key] = build(loader, read_yaml(file), source=str(file))
    return build(EnvConfig, data, source=source)


def _resolve(name: str, base: Path | None, source: str, key: str) -> Path:
    candidates = [base / name] if base is not None else []
    candidates.append(Path(name))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        f"{source + ': ' if source else ''}key {key!r}: no such file {name!r} (looked at {tried})"
    )


def default_config_path() -> Path:
    """``configs/env/default.yaml`` of the source tree (or of the working directory)."""
    candidates = [
        Path(__file__).resolve().parents[3] / "configs/env/default.yaml",
        Path("configs/env/default.yaml"),
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no default env config found (looked at {', '.join(map(str, candidates))}); pass config="
    )


def resolve_config(
    config: EnvConfig | str | Path | dict[str, Any] | None, overrides: dict[str, Any]
) -> EnvConfig:
    """An :class:`EnvConfig` from an instance, a YAML path, a mapping or None (the default file),
    with top-level settings replaced by ``overrides`` (checked like YAML values)."""
    if config is None:
        config = default_config_path()
    if isinstance(config, str | Path):
        config = load_env_config(config)
    elif isinstance(config, dict):
        config = env_config_from_mapping(config, source="config mapping")
    if not overrides:
        return config
    current = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    return env_config_from_mapping({**current, **overrides}, source="keyword arguments")
