"""One agent on one continuous historical path: the equity curve, its figures, and its calendar.

A backtest replays real S&P 500 and VIX history from ``start`` to ``end`` as a single episode (up to
:data:`thetagym.env.config.MAX_EPISODE_DAYS`, 1990-2023 in one run) and reads the agent's equity
at every close. Figures are those of a long track record (:func:`thetagym.measures.track_figures`):
returns on the previous close's equity, compounded. A user's own daily index file can be set
beside it as a benchmark, aligned on the dates both have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from thetagym.config import ConfigError
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec, ScenarioSpec
from thetagym.evaluate.rollout import env_config, rollout
from thetagym.market.history import read_closes
from thetagym.measures import TRACK_FIGURES, TRADING_DAYS_PER_YEAR, compounding_returns, track_figures

DAILY_COLUMNS = ("date", "equity", "return", "drawdown")
"""Columns of :attr:`Backtest.daily` (``benchmark`` and ``benchmark_return`` follow with a
benchmark): equity in USD at the close, its return on the previous close, drawdown from the peak."""


@dataclass
class Backtest:
    """What a backtest produced: the daily table, figures (``agent`` and, with a benchmark,
    ``benchmark`` -> :data:`thetagym.measures.TRACK_FIGURES`, plus ``correlation`` and
    ``tracking_error``), calendar-year and calendar-month returns, and the run's description."""

    agent: str
    start: str
    end: str
    capital: float
    daily: pd.DataFrame
    figures: dict[str, dict[str, float]]
    yearly: pd.DataFrame
    monthly: pd.DataFrame
    comparison: dict[str, float] = field(default_factory=dict)
    benchmark_name: str | None = None


def run_backtest(
    agent: AgentSpec,
    env: Path,
    start: str,
    end: str,
    seed: int,
    benchmark: Path | None = None,
    scenario: ScenarioSpec | None = None,
) -> Backtest:
    """Replay history from ``start`` to ``end`` (ISO dates) for ``agent`` on the book of ``env``,
    one path seeded with ``seed`` (it draws the intraday bars), against an optional ``benchmark``
    CSV of daily index closes; ``scenario`` replaces the ``start:end`` replay (a named window, for
    instance)."""
    spec = scenario or ScenarioSpec(replay=f"{start}:{end}")
    config = env_config(env, spec, None)
    result = rollout(load_policy(agent, config.book), config, (seed,))
    equity = result.daily_equity[0]
    dates = pd.to_datetime(result.close_dates)
    daily = daily_table(dates, equity)
    rates = result.cash_rate[0]
    figures = {"agent": track_figures(equity, rates)}
    comparison: dict[str, float] = {}
    if benchmark is not None:
        daily, figures["benchmark"], comparison = with_benchmark(daily, benchmark, equity[0], rates)
    return Backtest(
        agent=agent.name,
        start=str(result.close_dates[0]),
        end=str(result.close_dates[-1]),
        capital=float(config.book.capital),
        daily=daily,
        figures=figures,
        yearly=calendar_returns(daily, "Y"),
        monthly=monthly_returns(daily),
        comparison=comparison,
        benchmark_name=benchmark.name if benchmark is not None else None,
    )


def daily_table(dates: pd.DatetimeIndex, equity: np.ndarray) -> pd.DataFrame:
    """:data:`DAILY_COLUMNS` from the closes' ``dates`` and ``equity`` (the start first, so one
    value more than dates)."""
    returns = compounding_returns(equity)
    peak = np.maximum.accumulate(equity)
    return pd.DataFrame(
        {
            "date": dates,
            "equity": equity[1:],
            "return": returns,
            "drawdown": 1.0 - equity[1:] / peak[1:],
        }
    )


def with_benchmark(
    daily: pd.DataFrame, path: Path, capital: float, cash_rate: np.ndarray | float = 0.0
) -> tuple[pd.DataFrame, dict[str, float], dict[str, float]]:
    """``daily`` (the backtest's daily table) with the close and return of the benchmark in the CSV
    at ``path`` on the same dates, invested with ``capital`` (USD); the benchmark's figures
    (Sharpe and Sortino in excess of ``cash_rate``, per year, scalar or per day), and the
    correlation and tracking error (annualised) of the two daily return series."""
    dates, closes = read_closes(path)
    closes_by_date = pd.Series(closes, index=pd.to_datetime(dates))
    aligned = closes_by_date.reindex(daily["date"])
    if aligned.isna().all():
        raise ConfigError(
            f"{path}: no benchmark close falls between {daily['date'].iloc[0]:%Y-%m-%d} and "
            f"{daily['date'].iloc[-1]:%Y-%m-%d}; give a file that covers the backtest"
        )
    if aligned.isna().any():
        missing = daily["date"][aligned.isna().to_numpy()]
        raise ConfigError(
            f"{path}: no close on {len(missing)} of the backtest's {len(daily)} trading days, "
            f"the first {missing.iloc[0]:%Y-%m-%d}; give a file that covers the backtest's dates"
        )
    table = daily.assign(benchmark=aligned.to_numpy())
    levels = np.concatenate([[np.nan], table["benchmark"].to_numpy()])
    levels[0] = _close_before(closes_by_date, daily["date"].iloc[0], levels[1])
    benchmark_equity = capital * levels / levels[0]
    table["benchmark_return"] = compounding_returns(benchmark_equity)
    active = table["return"] - table["benchmark_return"]
    comparison = {
        "correlation": float(np.corrcoef(table["return"], table["benchmark_return"])[0, 1]),
        "tracking_error": float(active.std(ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR)),
    }
    return table, track_figures(benchmark_equity, cash_rate), comparison


def _close_before(closes: pd.Series, first: pd.Timestamp, fallback: float) -> float:
    """The benchmark's last close before the backtest's first day (its starting level)."""
    earlier = closes[closes.index < first]
    return float(earlier.iloc[-1]) if len(earlier) else fallback


def calendar_returns(daily: pd.DataFrame, period: str) -> pd.DataFrame:
    """Compound return of the agent (and benchmark) in each calendar ``period`` (``"Y"`` or ``"M"``),
    with the agent's largest drawdown from its peak within the period; ``daily`` is the
    backtest's daily table (``date``, ``equity``, ``return``, optionally ``benchmark_return``)."""
    keys = daily["date"].dt.to_period(period)
    columns = ["return"] + (["benchmark_return"] if "benchmark_return" in daily.columns else [])
    grouped = daily.groupby(keys)
    table = grouped[columns].apply(lambda g: (1.0 + g).prod() - 1.0)
    table["max_drawdown"] = grouped["equity"].apply(lambda e: float(_within_drawdown(e.to_numpy())))
    table.index = table.index.astype(str)
    return table.rename_axis("year" if period == "Y" else "month").reset_index()


def _within_drawdown(equity: np.ndarray) -> float:
    peak = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peak))


def monthly_returns(daily: pd.DataFrame) -> pd.DataFrame:
    """The agent's compound return per month of ``daily`` (as in :func:`calendar_returns`), a row
    per year and a column per month (1-12)."""
    months = calendar_returns(daily, "M")
    period = pd.PeriodIndex(months["month"], freq="M")
    table = pd.DataFrame({"year": period.year, "month": period.month, "return": months["return"]})
    return table.pivot(index="year", columns="month", values="return").reindex(columns=range(1, 13))


def backtest_json(backtest: Backtest) -> dict[str, object]:
    """The ``--json`` object: the window, the agent's :data:`TRACK_FIGURES` at the top level, and
    with a benchmark its figures, the correlation and the tracking error (fractions, annualised)."""
    data: dict[str, object] = {"agent": backtest.agent, "start": backtest.start, "end": backtest.end}
    data.update({name: backtest.figures["agent"][name] for name in TRACK_FIGURES})
    if "benchmark" in backtest.figures:
        data["benchmark"] = {
            "file": backtest.benchmark_name,
            **{name: backtest.figures["benchmark"][name] for name in TRACK_FIGURES},
            **backtest.comparison,
        }
    return data
