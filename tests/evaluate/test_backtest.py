"""``thetagym backtest``: the figures of a long equity curve, calendar returns, the benchmark, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from thetagym.cli import cli
from thetagym.config import ConfigError
from thetagym.evaluate.backtest import calendar_returns, daily_table, monthly_returns, with_benchmark
from thetagym.measures import TRACK_FIGURES, track_figures

ROOT = Path(__file__).resolve().parents[2]


def _data_dir() -> Path:
    from thetagym.market.history import has_shared_data, shared_data_dir

    if not has_shared_data():
        pytest.skip("historical data absent: set THETAGYM_DATA or place ../shared/data beside the project")
    folder = shared_data_dir()
    assert folder is not None
    return Path(folder)


def test_track_figures_hand_computed() -> None:
    # Two years of daily closes growing 10% a year in a straight compounding line, then a 20% fall
    # and half of it back: annualised return from the end points, drawdown from the peak.
    days = 504
    rising = 1_000_000.0 * 1.1 ** (np.arange(days + 1) / 252)
    equity = np.concatenate([rising, rising[-1] * np.array([0.8, 0.9])])
    figures = track_figures(equity)
    assert set(figures) == set(TRACK_FIGURES)
    total = equity[-1] / equity[0]
    assert figures["annualised_return"] == pytest.approx(total ** (252 / (days + 2)) - 1)
    assert figures["max_drawdown"] == pytest.approx(0.2)
    assert figures["calmar"] == pytest.approx(figures["annualised_return"] / 0.2)
    returns = np.diff(equity) / equity[:-1]
    assert figures["volatility"] == pytest.approx(np.std(returns, ddof=1) * np.sqrt(252))
    assert figures["sharpe"] == pytest.approx(np.mean(returns) / np.std(returns, ddof=1) * np.sqrt(252))
    # A cash rate lowers the excess return by rate / 252 a day and nothing else.
    with_cash = track_figures(equity, cash_rate=0.0252)
    excess = returns - 0.0001
    assert with_cash["sharpe"] == pytest.approx(np.mean(excess) / np.std(excess, ddof=1) * np.sqrt(252))
    assert with_cash["annualised_return"] == figures["annualised_return"]


def _daily(equity: list[float], start: str = "2021-12-30") -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=len(equity) - 1)
    return daily_table(dates, np.asarray(equity, dtype=float))


def test_calendar_returns_compound_the_days_of_each_period() -> None:
    daily = _daily([100.0, 110.0, 99.0, 108.9, 119.79])  # 2021-12-30, 12-31, then 2022-01-03, 01-04
    yearly = calendar_returns(daily, "Y").set_index("year")
    assert yearly.loc["2021", "return"] == pytest.approx(-0.01)  # 100 -> 110 -> 99
    assert yearly.loc["2022", "return"] == pytest.approx(0.21)  # 99 -> 108.9 -> 119.79
    assert yearly.loc["2021", "max_drawdown"] == pytest.approx(0.1)
    monthly = monthly_returns(daily)
    assert monthly.loc[2022, 1] == pytest.approx(0.21) and monthly.loc[2021, 12] == pytest.approx(-0.01)
    assert np.isnan(monthly.loc[2022, 2])


def test_benchmark_is_aligned_on_dates_and_refused_when_it_misses_days(tmp_path: Path) -> None:
    daily = _daily([100.0, 101.0, 102.0, 103.0], start="2022-01-03")  # 01-03 .. 01-05
    path = tmp_path / "index.csv"
    path.write_text("date,close\n2021-12-31,50.0\n2022-01-03,51.0\n2022-01-04,49.98\n2022-01-05,49.98\n")
    table, figures, comparison = with_benchmark(daily, path, 100.0)
    np.testing.assert_allclose(table["benchmark_return"], [0.02, -0.02, 0.0])
    assert figures["max_drawdown"] == pytest.approx(0.02)
    assert -1.0 <= comparison["correlation"] <= 1.0
    gappy = tmp_path / "gappy.csv"
    gappy.write_text("date,close\n2022-01-03,51.0\n2022-01-05,49.98\n")
    with pytest.raises(
        ConfigError, match=r"gappy.csv: no close on 1 of the backtest's 3 trading days, the first 2022-01-04"
    ):
        with_benchmark(daily, gappy, 100.0)


def test_the_whole_history_fits_one_backtest() -> None:
    from thetagym.evaluate.config import ScenarioSpec
    from thetagym.evaluate.rollout import env_config

    data = _data_dir()
    spec = ScenarioSpec(
        replay="1990-01-01:2023-12-31", index_csv=data / "spx_daily.csv", vix_csv=data / "vix_daily.csv"
    )
    config = env_config(ROOT / "configs" / "env" / "put_write.yaml", spec, None)
    assert config.episode_days > 8_400  # 34 years of trading days, less the room kept for expiries
    assert config.replay is not None and config.replay.start.startswith("1990-01-03")


def test_backtest_command_writes_its_outputs_and_json(tmp_path: Path) -> None:
    data = _data_dir()
    out = tmp_path / "bt"
    args = [
        "backtest",
        "--agent", str(ROOT / "configs" / "rules" / "put_write.yaml"),
        "--env", str(ROOT / "configs" / "env" / "put_write.yaml"),
        "--start", "2019-06-03", "--end", "2020-06-30",
        "--benchmark", str(data / "spx_daily.csv"),
        "--out", str(out), "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output[result.output.index("{") :])
    assert set(TRACK_FIGURES) <= set(printed) and set(TRACK_FIGURES) <= set(printed["benchmark"])
    assert {"correlation", "tracking_error"} <= set(printed["benchmark"])
    assert printed["max_drawdown"] > 0.02  # March 2020 is in the window
    daily = pd.read_csv(out / "equity.csv")
    assert list(daily.columns[:4]) == ["date", "equity", "return", "drawdown"]
    assert daily["date"].iloc[0] == "2019-06-03" and daily["date"].is_monotonic_increasing
    assert json.loads((out / "figures.json").read_text()) == printed
    yearly = pd.read_csv(out / "yearly.csv")
    assert list(yearly["year"]) == [2019, 2020]
    report = (out / "report.html").read_text()
    assert 'id="equity"' in report and 'id="monthly-returns"' in report and "2020" in report


def test_backtest_refuses_bad_dates_before_running() -> None:
    args = [
        "backtest",
        "--agent",
        str(ROOT / "configs" / "rules" / "put_write.yaml"),
        "--start",
        "2020-13-01",
        "--end",
        "2021-01-01",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "'2020-13-01' is not an ISO date" in result.output
    args[-3:] = ["2021-01-01", "--end", "2020-01-01"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "must come before --end" in result.output
