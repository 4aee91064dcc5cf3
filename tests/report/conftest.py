"""Synthetic evaluation output: 3 agents x 2 scenarios, episodes, summary and traces on one path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thetagym.evaluate import summary_table

AGENTS = ("rules-roll", "rules-naive", "ppo-masked")
SCENARIOS = ("calm", "crash")
LAYERS = ("call_wing", "put_wing", "vix_etp")
COMPONENTS = ("theta", "delta", "gamma", "vega", "costs", "assignment", "residual")
MEASURES = (
    "theta_accrued",
    "pnl",
    "theta_capture",
    "max_drawdown",
    "annualised_return",
    "calmar",
    "cvar_5",
    "spiral_index",
    "blocked",
    "margin_peak",
    "rolls",
    "assignments",
    "counter_trades",
)


def make_episodes() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    rows = []
    for a, agent in enumerate(AGENTS):
        for s, scenario in enumerate(SCENARIOS):
            for seed in range(8):
                row = {"agent": agent, "scenario": scenario, "seed": seed}
                row.update({m: rng.normal(1.0 + a, 0.3) for m in MEASURES})
                row["theta_capture"] = rng.normal(0.6 - 0.2 * a - 0.5 * s, 0.15)
                row["max_drawdown"] = rng.exponential(0.03 + 0.04 * s + 0.02 * a)
                row.update(
                    {
                        f"attr_{layer}_{c}": rng.normal(500.0 if c == "theta" else -80.0, 60.0)
                        for layer in LAYERS
                        for c in COMPONENTS
                    }
                )
                rows.append(row)
    return pd.DataFrame(rows)


def make_traces() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    return {agent: make_trace(rng) for agent in AGENTS}


@pytest.fixture(scope="session")
def episodes() -> pd.DataFrame:
    return make_episodes()


@pytest.fixture(scope="session")
def traces() -> dict[str, pd.DataFrame]:
    return make_traces()


@pytest.fixture(scope="session")
def summary(episodes: pd.DataFrame) -> pd.DataFrame:
    return summary_table(episodes, list(MEASURES), rng=np.random.default_rng(0), n_resamples=300)


def make_trace(rng: np.random.Generator, bars: int = 120) -> pd.DataFrame:
    equity = 100_000 + np.cumsum(rng.normal(20.0, 400.0, bars))
    trace = pd.DataFrame(
        {
            "bar": np.arange(bars),
            "date": pd.date_range("2024-01-02", periods=bars, freq="D").strftime("%Y-%m-%d"),
            "index": 4700 * np.exp(np.cumsum(rng.normal(0, 0.004, bars))),
            "vix": 14 + np.abs(np.cumsum(rng.normal(0, 0.3, bars))),
            "equity": equity,
            "drawdown": (np.maximum.accumulate(equity) - equity) / 100_000,
            "net_delta": rng.normal(0, 5, bars),
            "net_gamma": rng.normal(-0.2, 0.05, bars),
            "net_vega": rng.normal(-300, 40, bars),
            "net_theta": rng.normal(250, 20, bars),
            "gross_contracts": 20 + np.cumsum(rng.integers(0, 2, bars)),
        }
    )
    for layer in LAYERS:
        for component in COMPONENTS:
            trace[f"pnl_{layer}_{component}"] = rng.normal(4.0 if component == "theta" else -1.0, 2.0, bars)
    return trace
