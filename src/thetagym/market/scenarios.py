"""Named market scenarios and weighted scenario mixes.

A scenario overrides some real-world (P) settings of the :class:`MarketConfig` for a whole path
(a setting left as ``None`` keeps the market's value), may swing the drift up and down
(``whipsaw``) and may schedule one shock: an overnight gap at the open of a day drawn in a window
of the path (index return and VIX multiple), followed by a stress regime of some days. The
pricing measure Q is shared by all scenarios, so option prices react to the state, not to the
scenario's name.

The built-in scenarios and mixes live here, in code; ``configs/market/scenarios.yaml`` ships the
same definitions as an editable file (a test keeps the two equal), and :func:`load_scenarios`
reads such a file.

>>> book = ScenarioBook.builtin()
>>> book.weights("calm")
{'calm': 1.0}
>>> book.weights("crahs")
Traceback (most recent call last):
...
thetagym.config.ConfigError: unknown scenario or mix 'crahs' (did you mean 'crash'?); scenarios: calm, grind_up, trend_down, whipsaw, crash, vol_spike; mixes: calm-to-stressed, stressed, comparison
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thetagym.config import ConfigError, build, read_yaml, setting, suggest
from thetagym.market.params import (
    MAX_JUMP_INTENSITY,
    MAX_MEAN_REVERSION,
    MAX_VARIANCE,
    MAX_VIX,
    MAX_VOL_OF_VARIANCE,
    MIN_VIX,
)


@dataclass(frozen=True)
class ShockConfig:
    """One scheduled shock: a gap at the open of a day drawn uniformly in ``window`` (fractions of
    the path), then ``stress_days`` (drawn uniformly between the two bounds) of a stress regime."""

    window: tuple[float, float] = setting((0.1, 0.5), doc="fractions of the path the shock day lies in")
    index_gap: float = setting(-0.04, gt=-1.0, le=1.0, doc="index simple return at the open")
    vix_multiplier: float = setting(
        2.0, gt=0.0, le=10.0, doc="VIX at the open over VIX at the previous close"
    )
    stress_days: tuple[int, int] = setting((0, 0), doc="length of the stress regime, trading days")
    stress_long_variance: float = setting(
        0.04, gt=0.0, le=MAX_VARIANCE, doc="P long-run variance in the stress regime"
    )
    stress_jump_intensity: float = setting(
        0.5, ge=0.0, le=MAX_JUMP_INTENSITY, doc="P jumps per year in the stress regime"
    )
    stress_jump_mean: float = setting(-0.035, ge=-1.0, le=1.0, doc="mean log-jump in the stress regime")
    stress_equity_premium: float = setting(0.0, ge=-5.0, le=5.0, doc="P drift in the stress regime")

    def __post_init__(self) -> None:
        low, high = self.window
        if not 0.0 <= low <= high <= 1.0:
            raise ConfigError(f"shock window must satisfy 0 <= start <= end <= 1, got {self.window}")
        short, long = self.stress_days
        if not 0 <= short <= long:
            raise ConfigError(f"stress_days must satisfy 0 <= min <= max, got {self.stress_days}")


@dataclass(frozen=True)
class ScenarioConfig:
    """Overrides of the market's P settings for one scenario (``None`` keeps the market's)."""

    description: str = ""
    equity_premium: float | None = setting(None, ge=-5.0, le=5.0, doc="P excess drift, per year")
    long_variance: float | None = setting(None, gt=0.0, le=MAX_VARIANCE, doc="P long-run variance, per year")
    mean_reversion: float | None = setting(
        None, gt=0.0, le=MAX_MEAN_REVERSION, doc="P variance mean reversion, per year"
    )
    vol_of_variance: float | None = setting(None, ge=0.0, le=MAX_VOL_OF_VARIANCE, doc="P vol-of-variance")
    correlation: float | None = setting(None, ge=-1.0, le=1.0, doc="P leverage correlation")
    jump_intensity: float | None = setting(None, ge=0.0, le=MAX_JUMP_INTENSITY, doc="P jumps per year")
    jump_mean: float | None = setting(None, ge=-1.0, le=1.0, doc="P mean log-jump")
    jump_std: float | None = setting(None, ge=0.0, le=1.0, doc="P log-jump standard deviation")
    initial_vix: float | None = setting(None, ge=MIN_VIX, le=MAX_VIX, doc="VIX at bar 0, points")
    initial_vix_dispersion: float | None = setting(None, ge=0.0, le=2.0, doc="log sd of the initial VIX")
    drift_swing: float = setting(
        0.0, ge=0.0, le=5.0, doc="amplitude of a drift alternating in sign, per year"
    )
    drift_swing_days: int = setting(10, ge=1, doc="trading days between sign changes of the swing")
    shock: ShockConfig | None = None


@dataclass(frozen=True)
class ScenarioBook:
    """The scenarios and mixes a simulation can be asked for, by name."""

    scenarios: dict[str, ScenarioConfig]
    mixes: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = set(self.scenarios) & set(self.mixes)
        if clash:
            raise ConfigError(f"names used for both a scenario and a mix: {sorted(clash)}")
        for mix, weights in self.mixes.items():
            if not weights:
                raise ConfigError(f"mix {mix!r} has no scenarios")
            for name, weight in weights.items():
                if name not in self.scenarios:
                    raise ConfigError(
                        f"mix {mix!r}: unknown scenario {name!r}{suggest(name, self.scenarios)}; "
                        f"scenarios: {', '.join(self.scenarios)}"
                    )
                if not weight >= 0.0:
                    raise ConfigError(f"mix {mix!r}: weight of {name!r} must be >= 0, got {weight}")
            if sum(weights.values()) <= 0.0:
                raise ConfigError(f"mix {mix!r}: weights must not all be zero")

    @classmethod
    def builtin(cls) -> ScenarioBook:
        """The scenarios and mixes of this module."""
        return cls(scenarios=dict(SCENARIOS), mixes={k: dict(v) for k, v in MIXES.items()})

    @property
    def names(self) -> tuple[str, ...]:
        """Scenario names in definition order (``MarketPath.scenario`` codes index into these)."""
        return tuple(self.scenarios)

    def weights(self, name: str) -> dict[str, float]:
        """Normalised scenario weights of a scenario name (weight 1) or a mix name."""
        if name in self.scenarios:
            return {name: 1.0}
        if name in self.mixes:
            total = sum(self.mixes[name].values())
            return {k: v / total for k, v in self.mixes[name].items() if v > 0.0}
        choices = [*self.scenarios, *self.mixes]
        raise ConfigError(
            f"unknown scenario or mix {name!r}{suggest(name, choices)}; "
            f"scenarios: {', '.join(self.scenarios)}; mixes: {', '.join(self.mixes)}"
        )


SCENARIOS: dict[str, ScenarioConfig] = {
    "calm": ScenarioConfig(
        description="the market's defaults: VIX in the mid teens, slow upward drift, rare jumps",
    ),
    "grind_up": ScenarioConfig(
        description="low-volatility rally (2017-like): VIX near 12, strong drift, few jumps",
        equity_premium=0.14,
        long_variance=0.014,
        vol_of_variance=0.30,
        jump_intensity=0.2,
        initial_vix=12.5,
    ),
    "trend_down": ScenarioConfig(
        description="bear market (2001-2002 / 2022-like): negative drift, VIX in the mid twenties",
        equity_premium=-0.20,
        long_variance=0.045,
        vol_of_variance=0.50,
        correlation=-0.9,
        jump_intensity=1.2,
        jump_mean=-0.04,
        initial_vix=22.0,
    ),
    "whipsaw": ScenarioConfig(
        description="choppy, directionless market: drift swinging +-70%/yr every 8 days, high vol-of-vol",
        equity_premium=0.0,
        long_variance=0.03,
        vol_of_variance=0.60,
        jump_intensity=1.0,
        jump_mean=-0.01,
        jump_std=0.04,
        initial_vix=19.0,
        drift_swing=0.7,
        drift_swing_days=8,
    ),
    "crash": ScenarioConfig(
        description="2008/2020-like crash: a -7% gap with VIX x2.5, then months of stress and jumps",
        shock=ShockConfig(
            window=(0.1, 0.5),
            index_gap=-0.07,
            vix_multiplier=2.5,
            stress_days=(40, 160),
            stress_long_variance=0.25,
            stress_jump_intensity=12.0,
            stress_jump_mean=-0.01,
            stress_equity_premium=-0.4,
        ),
    ),
    "vol_spike": ScenarioConfig(
        description="February-2018-like: calm, VIX near 12, then an open with VIX +100% and index -4%",
        long_variance=0.014,
        vol_of_variance=0.35,
        initial_vix=12.5,
        shock=ShockConfig(
            window=(0.2, 0.6),
            index_gap=-0.04,
            vix_multiplier=2.0,
            stress_days=(10, 25),
            stress_long_variance=0.06,
            stress_jump_intensity=3.0,
            stress_jump_mean=-0.02,
            stress_equity_premium=0.0,
        ),
    ),
}

DEFAULT_MIX = "calm-to-stressed"

MIXES: dict[str, dict[str, float]] = {
    DEFAULT_MIX: {
        "calm": 0.38,
        "grind_up": 0.20,
        "whipsaw": 0.12,
        "trend_down": 0.12,
        "vol_spike": 0.08,
        "crash": 0.10,
    },
    "stressed": {"trend_down": 0.3, "whipsaw": 0.2, "vol_spike": 0.25, "crash": 0.25},
    # The default comparison's seven scenarios with equal weight (calm-to-stressed spread over its
    # parts): a policy trained on it faces the scoreboard's mix of paths.
    "comparison": {
        "calm": 1.38,
        "grind_up": 1.20,
        "whipsaw": 1.12,
        "trend_down": 1.12,
        "vol_spike": 1.08,
        "crash": 1.10,
    },
}


def load_scenarios(path: str | Path) -> ScenarioBook:
    """Read scenarios and mixes from YAML: ``scenarios: {name: {setting: value}}`` and
    ``mixes: {name: {scenario: weight}}``. Scenarios named like a built-in replace it; new names
    are added after the built-ins."""
    data = read_yaml(path)
    return scenario_book_from_mapping(data, source=str(path))


def scenario_book_from_mapping(data: dict[str, Any], source: str = "") -> ScenarioBook:
    """Build a :class:`ScenarioBook` from a mapping read from YAML, on top of the built-ins."""
    allowed = ("scenarios", "mixes")
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{source + ': ' if source else ''}unknown key {key!r}{suggest(str(key), allowed)}"
            )
    scenarios = dict(SCENARIOS)
    for name, settings in (data.get("scenarios") or {}).items():
        scenarios[str(name)] = build(ScenarioConfig, settings, source, prefix=f"scenarios.{name}")
    mixes = {k: dict(v) for k, v in MIXES.items()}
    for name, weights in (data.get("mixes") or {}).items():
        if not isinstance(weights, dict):
            raise ConfigError(f"{source}: key 'mixes.{name}': expected a mapping of scenario: weight")
        checked: dict[str, float] = {}
        for scenario, weight in weights.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ConfigError(
                    f"{source}: key 'mixes.{name}.{scenario}': expected a number, got {weight!r}"
                )
            checked[str(scenario)] = float(weight)
        mixes[str(name)] = checked
    try:
        return ScenarioBook(scenarios=scenarios, mixes=mixes)
    except ConfigError as error:
        raise ConfigError(f"{source + ': ' if source else ''}{error}") from None
