"""Shared fixtures: book configs and small market paths (simulated, or flat with constant volatility)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thetagym.book import BookConfig
from thetagym.config import build, load
from thetagym.market.calendar import trading_days
from thetagym.market.params import MarketConfig
from thetagym.market.path import PER_BAR_FIELDS, MarketPath, next_expiry_table
from thetagym.market.simulator import simulate

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "env"


def flat_market(
    n_paths: int = 1,
    n_days: int = 60,
    bars_per_day: int = 2,
    index: float = 5000.0,
    volatility: float = 0.2,
    start: str = "2024-03-01",
) -> MarketPath:
    """A market with a constant index and a flat volatility surface (no skew, no smile)."""
    n_bars = n_days * bars_per_day + 1
    dates = np.tile(trading_days(start, n_days), (n_paths, 1))
    series = {name: np.zeros((n_paths, n_bars)) for name in PER_BAR_FIELDS}
    series["index"][:] = index
    series["variance"][:] = volatility**2
    series["implied_variance"][:] = volatility**2
    series["long_implied_variance"][:] = volatility**2
    series["vix"][:] = 100 * volatility
    series["vix3m"][:] = 100 * volatility
    series["vxx"][:] = 20.0
    series["inverse_vix"][:] = 50.0
    per_path = {
        "implied_mean_reversion": np.full(n_paths, 2.0),
        "jump_variance": np.zeros(n_paths),
        "curvature": np.zeros(n_paths),
    }
    return MarketPath(
        bars_per_day=bars_per_day,
        dates=dates,
        **series,
        **per_path,
        scenario=np.zeros(n_paths, dtype=np.int64),
        scenario_names=("flat",),
        next_expiry=next_expiry_table(dates),
        rate=0.0,
        carry=0.0,
    )


def book_config(**changes: object) -> BookConfig:
    """The default book with top-level settings replaced (mappings are built as YAML would be)."""
    data = load(BookConfig, CONFIGS / "default.yaml")
    from thetagym.config import to_dict

    mapping = to_dict(data)
    mapping.update(changes)
    return build(BookConfig, mapping, source="test")


@pytest.fixture(scope="session")
def default_config() -> BookConfig:
    return load(BookConfig, CONFIGS / "default.yaml")


@pytest.fixture(scope="session")
def calm_market() -> MarketPath:
    return simulate(MarketConfig(), "calm", 70, seeds=[1, 2, 3])


@pytest.fixture()
def flat() -> MarketPath:
    return flat_market()
