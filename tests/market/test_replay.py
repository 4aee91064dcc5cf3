"""Historical replay: CSV loading in three layouts, clear errors, exact closes, determinism,
causality of observations, and the real history (skipped without the shared data folder)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from thetagym.config import ConfigError
from thetagym.market.kernels import ONE_MONTH
from thetagym.market.params import VIX3M_HORIZON, VIX_HORIZON
from thetagym.market.path import PER_BAR_FIELDS, MarketPath
from thetagym.market.replay import (
    DEFAULT_SETTINGS,
    HISTORICAL_EPISODES,
    MIN_IMPLIED_VARIANCE,
    History,
    ReplayDataError,
    atm_volatility_from_vix,
    has_shared_data,
    implied_variance_from_vix,
    load_history,
    read_closes,
    replay_episode,
    replay_path,
    replay_windows,
    shared_data_dir,
    variance_swap_ratio,
    variance_term_structure_from_vix,
)
from thetagym.market.surface import atm_variance

DEFAULT_MARKET = DEFAULT_SETTINGS.market
INDICATORS = ("realised_volatility", "index_rsi", "index_macd", "vix_rsi", "vix_macd")


# ----------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def data_dir() -> Path:
    if not has_shared_data():
        pytest.skip(
            "no historical data: set THETAGYM_DATA or provide ../shared/data (see docs/market.md#historical-data)"
        )
    return shared_data_dir()


@pytest.fixture(scope="module")
def history(data_dir: Path) -> History:
    return load_history(
        data_dir / "spx_daily.csv",
        data_dir / "vix_daily.csv",
        data_dir / "vix3m_daily.csv",
        data_dir / "tbill_3m_monthly.csv",
    )


def business_days(start: str, n: int) -> np.ndarray:
    return np.busday_offset(np.datetime64(start, "D"), np.arange(n), roll="forward")


def synthetic_rows(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dates, index closes and VIX closes with two decimals, like the published files."""
    rng = np.random.default_rng(seed)
    dates = business_days("2021-03-01", n)
    index = np.round(3900 * np.exp(np.cumsum(rng.normal(0, 0.012, n))), 2)
    vix = np.round(np.clip(20 * np.exp(np.cumsum(rng.normal(0, 0.06, n))), 9.5, 80), 2)
    return dates, index, vix


def us_date(day: np.datetime64) -> str:
    year, month, dom = str(day).split("-")
    return f"{month}/{dom}/{year}"


def write_csv(path: Path, layout: str, dates: np.ndarray, closes: np.ndarray) -> Path:
    if layout == "cboe":
        lines = ["DATE,OPEN,HIGH,LOW,CLOSE"]
        lines += [f"{us_date(d)},{c:.2f},{c:.2f},{c:.2f},{c:.2f}" for d, c in zip(dates, closes, strict=True)]
    elif layout == "yahoo":
        lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
        lines += [
            f"{d},{c:.2f},{c:.2f},{c:.2f},{c:.2f},{c:.2f},1000" for d, c in zip(dates, closes, strict=True)
        ]
    else:
        lines = ["date,open,high,low,close"]
        lines += [f"{d},{c:.2f},{c:.2f},{c:.2f},{c:.2f}" for d, c in zip(dates, closes, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# ----------------------------------------------------------------------------------------------
# Loading: three layouts, exact closes


@pytest.mark.parametrize("layout", ["cboe", "yahoo", "iso"])
def test_round_trip_in_each_layout(tmp_path: Path, layout: str) -> None:
    dates, index, vix = synthetic_rows()
    index_csv = write_csv(tmp_path / f"index_{layout}.csv", layout, dates, index)
    vix_csv = write_csv(tmp_path / f"vix_{layout}.csv", layout, dates, vix)
    history = load_history(index_csv, vix_csv)
    np.testing.assert_array_equal(history.dates, dates)
    np.testing.assert_array_equal(history.index_close, index)
    np.testing.assert_array_equal(history.vix_close, vix)
    assert history.vix3m_close is None

    path = replay_path(history, dates[1], dates[-1], bars_per_day=4, rng=np.random.default_rng(0))
    path.validate()
    assert path.n_paths == 1 and path.n_days == len(dates) - 1
    np.testing.assert_array_equal(path.dates[0], dates[1:])
    # Close bars hold the CSV closes exactly, the previous close included.
    assert np.array_equal(path.index[0, ::4], index)
    assert np.array_equal(path.vix[0, ::4], vix)


def test_layouts_mix_and_dates_inner_join(tmp_path: Path) -> None:
    dates, index, vix = synthetic_rows(40)
    index_csv = write_csv(tmp_path / "spx.csv", "yahoo", dates[:-5], index[:-5])
    vix_csv = write_csv(tmp_path / "vix.csv", "cboe", dates[3:], vix[3:])
    history = load_history(index_csv, vix_csv)
    np.testing.assert_array_equal(history.dates, dates[3:-5])
    np.testing.assert_array_equal(history.index_close, index[3:-5])
    np.testing.assert_array_equal(history.vix_close, vix[3:-5])


def test_cboe_preamble_bom_padding_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    csv = tmp_path / "VIX_History.csv"
    csv.write_text(
        "\ufeffCboe data is compiled for the convenience of site visitors\n"
        "\n"
        "DATE,OPEN,HIGH,LOW,CLOSE\n"
        "1/2/1990,17.24,17.24,17.24,17.24\n"
        "01/03/1990, 18.19,18.19,18.19, 18.19\n"
        "\n"
    )
    dates, closes = read_closes(csv)
    assert dates.astype(str).tolist() == ["1990-01-02", "1990-01-03"]
    assert closes.tolist() == [17.24, 18.19]


def test_vix3m_joined_where_present_else_derived(tmp_path: Path) -> None:
    dates, index, vix = synthetic_rows(30)
    vix3m = np.round(vix * 1.1, 2)
    history = load_history(
        write_csv(tmp_path / "spx.csv", "iso", dates, index),
        write_csv(tmp_path / "vix.csv", "iso", dates, vix),
        write_csv(tmp_path / "vix3m.csv", "cboe", dates[10:], vix3m[10:]),
    )
    assert history.vix3m_close is not None
    assert np.isnan(history.vix3m_close[:10]).all()
    np.testing.assert_array_equal(history.vix3m_close[10:], vix3m[10:])
    path = replay_path(history, dates[1], dates[-1], bars_per_day=3, rng=np.random.default_rng(1))
    path.validate()
    assert np.array_equal(path.vix3m[0, 30::3], vix3m[10:])  # close bars of days with data
    derived = path.vix3m[0, 3:30:3]
    assert np.all(np.isfinite(derived)) and not np.allclose(derived, vix[1:10] * 1.1)
    # The term structure follows the data where a bar has it, else the simulator's constant.
    long = path.long_implied_variance[0]
    assert np.all(long[:30] == DEFAULT_MARKET.pricing.long_variance)  # day 10's first bars too
    spot, fitted = variance_term_structure_from_vix(path.vix[0, 30:], path.vix3m[0, 30:])
    np.testing.assert_array_equal(long[30:], fitted)
    np.testing.assert_array_equal(path.implied_variance[0, 30:], spot)


# ----------------------------------------------------------------------------------------------
# Bad input: one clear error naming file, line or column, and value


def good_vix(tmp_path: Path) -> Path:
    dates, _, vix = synthetic_rows(10)
    return write_csv(tmp_path / "good_vix.csv", "iso", dates, vix)


BAD_FILES = {
    "blank_close": (
        ("date,open,high,low,close", "2021-03-01,1,1,1,3900", "2021-03-02,1,1,1,"),
        ("line 3", "'close'", "blank value ''"),
    ),
    "nan_close": (
        (
            "Date,Open,High,Low,Close,Adj Close,Volume",
            "2021-03-01,1,1,1,3900,3900,0",
            "2021-03-02,1,1,1,NaN,1,0",
        ),
        ("line 3", "'Close'", "NaN value 'NaN'"),
    ),
    "text_close": (
        ("DATE,OPEN,HIGH,LOW,CLOSE", "03/01/2021,1,1,1,3900", "03/02/2021,1,1,1,null"),
        ("line 3", "'CLOSE'", "non-numeric value 'null'"),
    ),
    "zero_close": (
        ("date,close", "2021-03-01,3900", "2021-03-02,0"),
        ("line 3", "'close'", "non-positive price '0'"),
    ),
    "negative_close": (
        ("date,close", "2021-03-01,3900", "2021-03-02,3901", "2021-03-03,-5.5"),
        ("line 4", "'close'", "'-5.5'"),
    ),
    "blank_date": (("date,close", "2021-03-01,3900", ",3901"), ("line 3", "'date'", "blank date ''")),
    "bad_date": (("date,close", "2021-03-01,3900", "2021-02-30,3901"), ("line 3", "'date'", "'2021-02-30'")),
    "mixed_layout": (
        ("date,close", "2021-03-01,3900", "03/02/2021,3901"),
        ("line 3", "'date'", "'03/02/2021'"),
    ),
    "unknown_layout": (("date,close", "1 March 2021,3900"), ("line 2", "'date'", "'1 March 2021'")),
    "duplicate": (
        ("date,close", "2021-03-01,3900", "2021-03-02,3901", "2021-03-02,3902"),
        ("line 4", "'date'", "'2021-03-02'", "line 3"),
    ),
    "unsorted": (
        ("date,close", "2021-03-01,3900", "2021-03-03,3901", "2021-03-02,3902"),
        ("line 4", "'date'", "'2021-03-02'", "'2021-03-03'"),
    ),
    "short_row": (("date,close", "2021-03-01,3900", "2021-03-02"), ("line 3", "'close'", "blank value ''")),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_rows_name_file_line_column_and_value(tmp_path: Path, case: str) -> None:
    lines, expected = BAD_FILES[case]
    bad = write_lines(tmp_path / f"{case}.csv", *lines)
    with pytest.raises(ReplayDataError) as raised:
        load_history(bad, good_vix(tmp_path))
    message = str(raised.value)
    assert f"{case}.csv" in message
    for part in expected:
        assert part in message, message


def test_missing_columns_lists_found_and_needed(tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "no_close.csv", "Date,Open,High,Low,Adj Close", "2021-03-01,1,1,1,1")
    with pytest.raises(ReplayDataError, match=r"no_close\.csv") as raised:
        load_history(good_vix(tmp_path), bad)
    message = str(raised.value)
    assert "missing column 'close'" in message
    assert "found 'Date', 'Open', 'High', 'Low', 'Adj Close'" in message
    assert "DATE,OPEN,HIGH,LOW,CLOSE" in message


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ReplayDataError, match=r"nowhere\.csv: file not found"):
        load_history(tmp_path / "nowhere.csv", good_vix(tmp_path))
    empty = write_lines(tmp_path / "empty.csv", "")
    with pytest.raises(ReplayDataError, match=r"empty\.csv: the file is empty"):
        load_history(empty, good_vix(tmp_path))
    header_only = write_lines(tmp_path / "header.csv", "date,close")
    with pytest.raises(ReplayDataError, match=r"header\.csv: no data rows"):
        load_history(header_only, good_vix(tmp_path))


def test_no_common_dates(tmp_path: Path) -> None:
    dates, index, vix = synthetic_rows(20)
    index_csv = write_csv(tmp_path / "spx.csv", "iso", dates[:10], index[:10])
    vix_csv = write_csv(tmp_path / "vix.csv", "iso", dates[10:], vix[10:])
    with pytest.raises(ReplayDataError) as raised:
        load_history(index_csv, vix_csv)
    message = str(raised.value)
    assert "spx.csv" in message and "vix.csv" in message and "no dates in common" in message
    assert str(dates[0]) in message and str(dates[10]) in message


def test_errors_are_config_errors_and_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_history(tmp_path / "a.csv", tmp_path / "b.csv")
    assert issubclass(ReplayDataError, ValueError)


def test_history_from_arrays_is_checked() -> None:
    dates = business_days("2022-01-03", 5)
    with pytest.raises(ReplayDataError, match=r"dates must strictly ascend; date 2022-01-04"):
        History(dates[[0, 1, 1, 2, 3]], np.ones(5), np.ones(5))
    with pytest.raises(ReplayDataError, match=r"vix_close must be positive and finite; -1.0 on 2022-01-05"):
        History(dates, np.ones(5), np.array([1.0, 1.0, -1.0, 1.0, 1.0]))
    with pytest.raises(ReplayDataError, match=r"index_close has shape \(4,\), expected \(5,\)"):
        History(dates, np.ones(4), np.ones(5))


def test_windows_outside_the_data_are_refused() -> None:
    dates, index, vix = synthetic_rows(30)
    history = History(dates, index, vix)
    rng = np.random.default_rng(0)
    with pytest.raises(
        ReplayDataError, match=rf"start {dates[0]} is too early.*start on {dates[1]} or later"
    ):
        replay_path(history, dates[0], dates[5], rng=rng)
    with pytest.raises(ReplayDataError, match=r"end 2030-01-01 is after the data ends"):
        replay_path(history, dates[2], "2030-01-01", rng=rng)
    with pytest.raises(ReplayDataError, match=r"start 'soon' is not a date"):
        replay_path(history, "soon", None, rng=rng)
    with pytest.raises(ReplayDataError, match=r"no trading day from start"):
        replay_path(history, dates[6], dates[5], rng=rng)
    with pytest.raises(ReplayDataError, match=r"starts\[1\] = 25: a 10-day window must start from"):
        replay_windows(history, 10, [3, 25], rng=rng)
    with pytest.raises(ReplayDataError, match=r"bars_per_day must be a positive integer, got 0"):
        replay_path(history, dates[2], dates[5], bars_per_day=0, rng=rng)
    with pytest.raises(ReplayDataError, match=r"unknown episode 'covid2020' \(did you mean 'covid_2020'\?\)"):
        replay_episode(history, "covid2020", rng=rng)


# ----------------------------------------------------------------------------------------------
# Intraday bars and derived state


def test_same_seed_same_bars_different_seed_different() -> None:
    dates, index, vix = synthetic_rows(40)
    history = History(dates, index, vix)
    first = replay_path(history, dates[5], dates[30], 6, np.random.default_rng(7))
    again = replay_path(history, dates[5], dates[30], 6, np.random.default_rng(7))
    other = replay_path(history, dates[5], dates[30], 6, np.random.default_rng(8))
    for name in PER_BAR_FIELDS:
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name)
    intraday = np.arange(first.n_bars + 1) % 6 != 0
    assert not np.allclose(first.index[0, intraday], other.index[0, intraday])
    assert not np.allclose(first.vix[0, intraday], other.vix[0, intraday])
    np.testing.assert_array_equal(first.index[0, ::6], other.index[0, ::6])


def test_one_bar_a_day_is_the_closes() -> None:
    dates, index, vix = synthetic_rows(20)
    path = replay_path(History(dates, index, vix), dates[1], None, 1, np.random.default_rng(0))
    np.testing.assert_array_equal(path.index[0], index)
    np.testing.assert_array_equal(path.vix[0], vix)


def test_intraday_moves_have_the_days_scale() -> None:
    """A flat index with 20% VIX: bar-to-bar log moves are of the order of the daily variance."""
    n = 400
    dates = business_days("2015-01-02", n)
    history = History(dates, np.full(n, 2000.0), np.full(n, 20.0))
    path = replay_path(history, dates[50], None, 4, np.random.default_rng(3))
    day_variance = float(path.variance[0, 0]) / 252
    moves = np.diff(np.log(path.index[0]))
    assert 0.2 * day_variance < np.mean(moves**2) * 4 < 2.0 * day_variance


def test_indicators_at_a_bar_ignore_later_closes() -> None:
    """Observation safety: perturbing closes after bar k's day leaves everything at bars up to that
    day's close unchanged, and the indicators on the day's own intraday bars ignore its close."""
    dates, index, vix = synthetic_rows(80, seed=4)
    base = History(dates, index, vix)
    first, last = 30, 79
    cut = 45  # perturb from this history day on
    changed_index = index.copy()
    changed_vix = vix.copy()
    changed_index[cut:] *= np.exp(np.random.default_rng(9).normal(0, 0.05, 80 - cut))
    changed_vix[cut:] *= 1.7
    changed = History(dates, changed_index, changed_vix)
    bars_per_day = 4
    before = replay_path(base, dates[first], dates[last], bars_per_day, np.random.default_rng(5))
    after = replay_path(changed, dates[first], dates[last], bars_per_day, np.random.default_rng(5))
    day = cut - first  # path day whose close is the first perturbed close
    last_safe_bar = day * bars_per_day  # close of the day before
    for name in PER_BAR_FIELDS:
        np.testing.assert_array_equal(
            getattr(before, name)[:, : last_safe_bar + 1],
            getattr(after, name)[:, : last_safe_bar + 1],
            err_msg=name,
        )
    intraday = slice(last_safe_bar + 1, last_safe_bar + bars_per_day)
    for name in INDICATORS:
        np.testing.assert_array_equal(getattr(before, name)[:, intraday], getattr(after, name)[:, intraday])
        assert not np.array_equal(getattr(before, name)[:, -1], getattr(after, name)[:, -1])


def test_surface_prices_one_month_at_the_money_below_the_vix() -> None:
    """One-month at-the-money volatility on the replayed surface is the VIX mapped through the
    smile's variance-swap ratio, below the VIX wherever the floor does not bind."""
    dates, index, vix = synthetic_rows(40)
    path = replay_path(History(dates, index, vix), dates[1], None, 4, np.random.default_rng(0))
    bars = np.arange(path.n_bars + 1)
    surface = path.surface_at(np.zeros_like(bars), bars)
    one_month = 100 * np.sqrt(atm_variance(surface, np.asarray(VIX_HORIZON)))[:, 0]
    unfloored = path.implied_variance[0] > MIN_IMPLIED_VARIANCE
    np.testing.assert_allclose(
        one_month[unfloored], atm_volatility_from_vix(path.vix[0, unfloored]), rtol=1e-12
    )
    assert np.all(one_month[unfloored] < path.vix[0, unfloored])
    assert implied_variance_from_vix(1.0) == MIN_IMPLIED_VARIANCE


def test_vix_over_at_the_money_matches_published_spreads() -> None:
    """Variance swaps (the VIX is the 30-day one) trade above at-the-money implied volatility by
    about 1-2 vol points on indices in normal markets, more when skew steepens (Allen, Einchcomb
    and Granger 2006, "Variance swaps", J.P. Morgan European Equity Derivatives Strategy: "VS levels
    trading above ATM IVs due to the convexity premium (~1-2 vegas)"); the typical VIX minus
    one-month ATM spread is taken as 1-3 points, larger in stress."""
    gap = np.array([12.0, 18.0, 25.0, 40.0, 80.0]) - atm_volatility_from_vix(
        np.array([12.0, 18.0, 25.0, 40.0, 80.0])
    )
    assert 1.0 <= gap[1] <= 3.0 and 1.0 <= gap[0] <= 3.0  # calm and median VIX
    assert np.all(np.diff(gap) > 0)  # wider in stress
    assert gap[3] > 3.0


def test_vix_over_at_the_money_on_the_real_history(history: History) -> None:
    """Over 1990-2023: median gap 2.3 points (5-95%: 1.3-5.5), 1.8 below a VIX of 20, 5.8 above 30."""
    gap = history.vix_close - atm_volatility_from_vix(history.vix_close)
    assert 1.0 <= float(np.median(gap)) <= 3.0
    assert float(np.median(gap[history.vix_close > 30])) > 3.0


def surface_variance_swap_levels(path: MarketPath) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The replayed surface's one- and three-month variance-swap rates (points) at every bar of
    path 0, from its at-the-money variance and the smile's variance-swap ratio at each maturity,
    and its three-month over one-month at-the-money volatility."""
    bars = np.arange(path.n_bars + 1)
    surface = path.surface_at(np.zeros_like(bars), bars)
    levels, atm = [], []
    for horizon in (VIX_HORIZON, VIX3M_HORIZON):
        volatility = 100 * np.sqrt(atm_variance(surface, np.asarray(horizon)))[:, 0]
        skew = path.skew[0] * (horizon / ONE_MONTH) ** 0.1
        levels.append(volatility * np.sqrt(variance_swap_ratio(skew, path.curvature[0])))
        atm.append(volatility)
    return levels[0], levels[1], atm[1] / atm[0]


def test_surface_term_structure_tracks_vix3m_on_the_real_history(history: History) -> None:
    """2010-2023, four bars a day: the surface's three-month variance-swap rate is VIX3M (close
    bars against the published closes: correlation 0.994, median error 0 points, 95% within
    0.01, mean 0.11; the long-run level floors on the 4% of days in steep backwardation, where
    the rate sits above VIX3M by a median 1.1 points, 17 at most on 2020-03-12), the one-month
    rate is the VIX, and the term structure slopes up on days of contango and down on days of
    backwardation."""
    path = replay_path(history, "2010-01-04", "2023-12-28", 4, np.random.default_rng(0))
    one_month, three_month, slope = surface_variance_swap_levels(path)
    days = slice(4, None, 4)
    published = history.vix3m_close[np.searchsorted(history.dates, path.dates[0])]
    vix = path.vix[0, days]
    assert not np.isnan(published).any()
    error = three_month[days] - published
    assert np.corrcoef(three_month[days], published)[0, 1] > 0.99
    assert float(np.median(np.abs(error))) < 0.05
    assert float(np.mean(np.abs(error) < 0.5)) > 0.95
    floored = path.long_implied_variance[0, days] <= MIN_IMPLIED_VARIANCE
    assert 0.01 < float(np.mean(floored)) < 0.08 and np.all(error[floored] >= -1e-9)
    # Every bar, intraday ones included, where neither floor binds: both rates exactly.
    exact = (path.long_implied_variance[0] > MIN_IMPLIED_VARIANCE) & (
        path.implied_variance[0] > MIN_IMPLIED_VARIANCE
    )
    assert exact.mean() > 0.9
    np.testing.assert_allclose(three_month[exact], path.vix3m[0, exact], rtol=1e-9)
    np.testing.assert_allclose(one_month[exact], path.vix[0, exact], rtol=1e-9)
    # Variance swaps slope like the data; at the money too, where the three-month smile's larger
    # variance-swap ratio (up to 4% more) does not outweigh the slope.
    contango, backwardation = published > 1.01 * vix, published < vix
    assert contango.mean() > 0.8 and backwardation.mean() > 0.03
    assert np.all(three_month[days][contango] > one_month[days][contango])
    assert np.all(three_month[days][backwardation] < one_month[days][backwardation])
    steep = published > 1.05 * vix
    assert np.all(slope[days][steep] > 1.0) and np.all(slope[days][backwardation] < 1.0)
    long, spot = path.long_implied_variance[0, days], path.implied_variance[0, days]
    assert np.all(long[steep] > spot[steep]) and np.all(long[backwardation] < spot[backwardation])


def test_term_structure_is_the_simulators_before_vix3m_data(history: History) -> None:
    path = replay_episode(history, "gfc_2008", 4, np.random.default_rng(0))
    assert np.all(path.long_implied_variance == DEFAULT_MARKET.pricing.long_variance)
    np.testing.assert_array_equal(path.implied_variance, implied_variance_from_vix(path.vix))


def test_settings_load_like_every_config_and_reach_the_path() -> None:
    from thetagym.config import build
    from thetagym.market.replay import ReplaySettings

    with pytest.raises(ConfigError, match=r"replay.yaml: key 'realised_weight'.*2"):
        build(ReplaySettings, {"realised_weight": 2}, "replay.yaml")
    settings = build(ReplaySettings, {"market": {"pricing": {"long_variance": 0.06}}}, "replay.yaml")
    dates, index, vix = synthetic_rows(30)
    path = replay_path(
        History(dates, index, vix), dates[1], None, 2, np.random.default_rng(0), settings=settings
    )
    assert np.all(path.long_implied_variance == 0.06)


def test_windows_stack_as_paths() -> None:
    dates, index, vix = synthetic_rows(60)
    history = History(dates, index, vix)
    path = replay_windows(history, 10, [1, dates[20], 50], bars_per_day=2, rng=np.random.default_rng(0))
    path.validate()
    assert (path.n_paths, path.n_days, path.n_bars) == (3, 10, 20)
    np.testing.assert_array_equal(path.dates[:, 0], dates[[1, 20, 50]])
    np.testing.assert_array_equal(path.index[2, ::2], index[49:60])
    assert path.scenario.tolist() == [0, 0, 0] and path.scenario_names == ("historical",)
    np.testing.assert_array_equal(path.vxx[:, 0], path.vxx[0, 0])


# ----------------------------------------------------------------------------------------------
# The real history (shared data)


def test_shared_data_dir_finds_the_folder(data_dir: Path) -> None:
    assert shared_data_dir() == data_dir


def test_missing_data_folder_names_thetagym_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THETAGYM_DATA", str(tmp_path))
    assert not has_shared_data()
    with pytest.raises(
        ReplayDataError, match=r"THETAGYM_DATA=.*spx_daily\.csv.*vix_daily\.csv.*tbill_3m_monthly"
    ):
        shared_data_dir()
    write_csv(tmp_path / "spx_daily.csv", "iso", *synthetic_rows(5)[:2])
    write_csv(tmp_path / "vix_daily.csv", "iso", synthetic_rows(5)[0], synthetic_rows(5)[2])
    assert shared_data_dir() == tmp_path


def test_rate_is_the_t_bill_rate_known_on_each_day(data_dir: Path, history: History) -> None:
    """The rate of a day is the previous month's average 3-month T-bill rate (published when that
    month ends), on the discount basis converted to continuous compounding."""
    path = replay_path(history, "2008-09-02", "2008-11-28", 4, np.random.default_rng(0))
    rate = np.asarray(path.rate)
    assert rate.shape == path.dates.shape
    months = path.dates[0].astype("datetime64[M]")
    lines = dict(line.split(",") for line in (data_dir / "tbill_3m_monthly.csv").read_text().splitlines()[1:])
    for month in np.unique(months):
        known = str((month - 1).astype("datetime64[D]"))
        discount = float(lines[known]) / 100
        assert np.allclose(rate[0, months == month], -np.log(1 - discount * 91 / 360) * 365 / 91)
    np.testing.assert_allclose(path.carry, rate - DEFAULT_MARKET.dividend_yield)


def test_closes_equal_the_published_files(data_dir: Path, history: History) -> None:
    dates, closes = read_closes(data_dir / "spx_daily.csv")
    path = replay_path(history, "2023-01-03", "2023-12-28", 4, np.random.default_rng(0))
    wanted = (dates >= np.datetime64("2022-12-30")) & (dates <= np.datetime64("2023-12-28"))
    assert np.array_equal(path.index[0, ::4], closes[wanted])
    raw = (data_dir / "spx_daily.csv").read_text().splitlines()
    last = raw[-1].split(",")
    assert path.index[0, -1] == float(last[4]) and str(path.dates[0, -1]) == last[0]


def test_volmageddon_5_february_2018(history: History) -> None:
    path = replay_episode(history, "volmageddon_2018", 4, np.random.default_rng(0))
    assert path.scenario_names == ("volmageddon_2018",)
    day = int(np.flatnonzero(path.dates[0] == np.datetime64("2018-02-05"))[0])
    before, close = path.close_bar(day - 1), path.close_bar(day)
    assert path.vix[0, before] == 17.31 and path.vix[0, close] == 37.32
    assert path.vix3m[0, close] == 28.13
    assert round(100 * (path.index[0, close] / path.index[0, before] - 1), 2) == -4.10
    vxx_move = path.vxx[0, close] / path.vxx[0, before] - 1
    inverse_move = path.inverse_vix[0, close] / path.inverse_vix[0, before] - 1
    assert 0.6 < vxx_move < 1.2  # the short-term VIX futures index rose 96.1% (replayed: 109%)
    assert -0.98 <= inverse_move < -0.6  # -1x products lost about 96% (replayed: the 98% floor)


def test_full_history_validates(history: History) -> None:
    assert str(history.dates[0]) == "1990-01-02" and str(history.dates[-1]) == "2023-12-28"
    path = replay_path(history, None, None, 4, np.random.default_rng(0))
    path.validate()
    assert path.n_days == len(history) - 1
    assert np.array_equal(path.index[0, ::4], history.index_close)
    assert np.array_equal(path.vix[0, ::4], history.vix_close)
    assert history.vix3m_close is not None
    observed = ~np.isnan(history.vix3m_close)
    assert np.array_equal(path.vix3m[0, ::4][observed], history.vix3m_close[observed])
    for expiries in path.next_expiry.values():
        assert expiries.shape == path.dates.shape


@pytest.mark.parametrize("name", sorted(HISTORICAL_EPISODES))
def test_every_named_episode_replays(history: History, name: str) -> None:
    path = replay_episode(history, name, 4, np.random.default_rng(0))
    path.validate()
    first, last = HISTORICAL_EPISODES[name]
    assert path.dates[0, 0] >= np.datetime64(first) and path.dates[0, -1] <= np.datetime64(last)
    assert path.n_days > 20


def test_a_63_day_reset_takes_a_few_milliseconds(history: History) -> None:
    import time

    rng = np.random.default_rng(0)
    replay_windows(history, 63, [1000], 4, rng)
    started = time.perf_counter()
    for start in rng.integers(1, len(history) - 63, size=20):
        replay_windows(history, 63, [int(start)], 4, rng)
    assert (time.perf_counter() - started) / 20 < 0.02


# ----------------------------------------------------------------------------------------------
# No lookahead


def perturbed_after(history: History, cut: int) -> History:
    """``history`` with every series changed from history day ``cut`` on."""
    rng = np.random.default_rng(11)
    n = len(history)
    scale = np.ones(n)
    scale[cut:] = np.exp(rng.normal(0, 0.05, n - cut))

    def ranges(values: np.ndarray | None) -> np.ndarray | None:
        widen = np.where(np.arange(n)[:, None] >= cut, np.array([1.0, 1.02, 0.98]), 1.0)
        return None if values is None else values * scale[:, None] * widen

    rate = None if history.rate is None else np.where(np.arange(n) >= cut, history.rate + 0.03, history.rate)
    return History(
        history.dates,
        history.index_close * scale,
        history.vix_close * scale**3,
        None if history.vix3m_close is None else history.vix3m_close * scale**2,
        source="perturbed",
        index_range=ranges(history.index_range),
        vix_range=ranges(history.vix_range),
        vix3m_range=ranges(history.vix3m_range),
        rate=rate,
    )


def test_no_replayed_series_sees_data_after_its_bar(history: History) -> None:
    """Change every series (closes, opens, highs, lows, VIX3M, the rate) from day t on: every bar
    up to the close of day t - 1 is unchanged, for every per-bar series and the per-day rate."""
    start = int(np.searchsorted(history.dates, np.datetime64("2018-01-16")))
    cut = start + 12
    changed = perturbed_after(history, cut)
    before = replay_windows(history, 40, [start], 4, np.random.default_rng(5))
    after = replay_windows(changed, 40, [start], 4, np.random.default_rng(5))
    safe = (cut - start) * 4  # the close of the day before the first changed day
    for name in PER_BAR_FIELDS:
        np.testing.assert_array_equal(
            getattr(before, name)[:, : safe + 1], getattr(after, name)[:, : safe + 1], err_msg=name
        )
        assert not np.array_equal(
            getattr(before, name)[:, safe + 1 :], getattr(after, name)[:, safe + 1 :]
        ), name
    np.testing.assert_array_equal(
        np.asarray(before.rate)[:, : cut - start], np.asarray(after.rate)[:, : cut - start]
    )


def test_a_first_bar_does_not_see_its_close(history: History) -> None:
    """Change only the closes of day t (keeping its high and low wide enough): the first bar of
    day t, index, VIX and VIX3M alike, is unchanged: an intraday bar reveals its close only when
    it is the close."""
    start = int(np.searchsorted(history.dates, np.datetime64("2018-01-16")))
    cut = start + 12
    closes = [history.index_close.copy(), history.vix_close.copy(), np.array(history.vix3m_close)]
    for values in closes:
        values[cut] *= 1.001
    changed = dataclasses.replace(history, index_close=closes[0], vix_close=closes[1], vix3m_close=closes[2])
    before = replay_windows(history, 20, [start], 4, np.random.default_rng(5))
    after = replay_windows(changed, 20, [start], 4, np.random.default_rng(5))
    first_bar = (cut - start) * 4 + 1
    names = ("index", "vix", "vix3m", "implied_variance", "long_implied_variance", "skew", "vxx")
    for name in (*names, "inverse_vix"):
        assert getattr(before, name)[0, first_bar] == getattr(after, name)[0, first_bar], name


FIRST_BAR_AGREEMENT_BOUND = 0.60
"""Bound on how often, on days that moved more than 3%, the first bar's direction matches the
rest of the day's. Intraday momentum in traded S&P 500 prices is small: the first half-hour
return predicts the last half-hour with an R^2 of about 1.6%, 3.3% on volatile days (Gao, Han,
Li and Zhou 2018, "Market intraday momentum", J. Financial Economics 129(2), 394-414: SPY
1993-2013), correlations of 0.13-0.18, a sign agreement of 54-56% for jointly normal returns.
0.60 leaves room for sampling error over about 200 days (one standard error: 3.5 points)."""


def test_first_bar_direction_does_not_predict_big_days(history: History) -> None:
    """Over 1990-2023 (195 days moved more than 3%), the first bar's direction agrees with the
    rest of such days about half the time: drawn from the variance known at the previous close, it
    uses nothing of the day (a bridge pinned to the close would agree 84-92% of the time)."""
    path = replay_path(history, None, "2023-12-28", 4, np.random.default_rng(0))
    agreements = []
    for series, threshold in ((path.index[0], 0.03), (path.vix[0], 0.15)):
        before, first, close = series[0:-1:4], series[1::4], series[4::4]
        big = np.abs(close / before - 1) > threshold
        agree = np.sign(first - before) == np.sign(close - first)
        agreements.append(float(agree[big].mean()))
        assert big.sum() > 150
    assert max(agreements) < FIRST_BAR_AGREEMENT_BOUND, agreements
