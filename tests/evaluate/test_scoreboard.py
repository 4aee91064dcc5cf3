"""The scoreboard: headline measures a book cannot win by being small, paired intervals that cover at
their nominal rate, and a leaderboard that calls a winner only when the paired interval says so."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec, EvaluationConfig, ScenarioSpec
from thetagym.evaluate.leaderboard import BEHIND, TIED, WINNER, build_leaderboards, leaderboard_text
from thetagym.evaluate.rollout import env_config, rollout
from thetagym.evaluate.runner import evaluate
from thetagym.evaluate.summary import paired_differences, summarise_episodes
from thetagym.seeds import EVALUATION_SEED_BASE

ROOT = Path(__file__).resolve().parents[2]
PUT_WRITE_ENV = ROOT / "configs" / "env" / "put_write.yaml"
PUT_WRITE_RULES = ROOT / "configs" / "rules" / "put_write.yaml"
SEEDS = tuple(range(EVALUATION_SEED_BASE, EVALUATION_SEED_BASE + 12))


def _put_write_episodes(lots: int) -> pd.DataFrame:
    """The put-write benchmark at ``lots`` contracts on the same 12 paths of the default mix."""
    base = env_config(PUT_WRITE_ENV, ScenarioSpec(scenario="calm-to-stressed"), 63)
    layer = dataclasses.replace(base.book.layers[0], sizing="contracts", contracts=lots, max_contracts=lots)
    guard = dataclasses.replace(base.book.guard, book_max_contracts=lots)
    config = dataclasses.replace(base, book=dataclasses.replace(base.book, layers=(layer,), guard=guard))
    policy = load_policy(AgentSpec(name=f"{lots} lots", rules=PUT_WRITE_RULES), config.book)
    episodes = rollout(policy, config, SEEDS).episodes
    episodes.insert(0, "agent", f"{lots} lots")
    episodes.insert(1, "scenario", "calm-to-stressed")
    return episodes


@pytest.fixture(scope="module")
def lots() -> pd.DataFrame:
    return pd.concat([_put_write_episodes(1), _put_write_episodes(4)], ignore_index=True)


def test_a_book_four_times_the_size_scores_the_same_headline(lots: pd.DataFrame) -> None:
    # Everything in the book is linear in contracts (premium, spreads and fees per contract, margin
    # scenarios, interest on the premium held), so a 4-lot put-write's daily P&L in excess of the
    # interest on its capital is exactly 4x the 1-lot's as long as no margin call cuts one short: Sharpe, Sortino, risk-matched return, matched drawdown and
    # theta capture agree to rounding (1e-9), while money and volatility scale by 4.
    assert not lots["margin_call"].any()
    summary = summarise_episodes(lots, n_resamples=200).set_index("agent")
    one, four = summary.loc["1 lots"], summary.loc["4 lots"]
    for measure in ("sharpe", "sortino", "risk_matched_return", "matched_max_drawdown", "theta_capture"):
        assert four[f"{measure}_mean"] == pytest.approx(one[f"{measure}_mean"], rel=1e-9, abs=1e-12), measure
    for measure in ("premium_sold", "theta_accrued", "volatility"):
        assert four[f"{measure}_mean"] == pytest.approx(4 * one[f"{measure}_mean"], rel=1e-9), measure
    per_episode = lots.set_index(["agent", "seed"])["sharpe"]
    np.testing.assert_allclose(per_episode.loc["4 lots"], per_episode.loc["1 lots"], rtol=1e-9, atol=1e-12)


def test_premium_sold_is_what_the_put_write_collects(lots: pd.DataFrame) -> None:
    # An at-the-money one-month put on ES near 5,000 at ~15-20 vol is worth ~2.5% of the index:
    # roughly $6k a contract a month, three sales a quarter.
    one = lots[lots["agent"] == "1 lots"]
    per_month = one["premium_sold"].mean() / 3
    assert 3_000 < per_month < 12_000
    assert (one["premium_sold"] > 0).all()


def _episodes(values: dict[str, np.ndarray], scenario: str = "s") -> pd.DataFrame:
    """An episodes table with one mean measure (``pnl``) per agent on shared seeds."""
    frames = [
        pd.DataFrame({"agent": agent, "scenario": scenario, "seed": np.arange(len(v)), "pnl": v})
        for agent, v in values.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_paired_intervals_cover_the_true_difference_at_their_nominal_rate() -> None:
    # Each path carries a large common effect (sd 10) that both agents share; the agent is better by
    # 0.5 with idiosyncratic noise sd 1. The paired 95% interval must cover 0.5 about 95% of the time
    # and be far narrower than the spread of either agent alone.
    rng = np.random.default_rng(7)
    covered, widths = 0, []
    trials = 200
    for _ in range(trials):
        path = rng.normal(0.0, 10.0, 40)
        episodes = _episodes(
            {"base": path + rng.normal(0, 1, 40), "agent": path + 0.5 + rng.normal(0, 1, 40)}
        )
        row = paired_differences(
            episodes, "base", measures=["pnl"], n_resamples=400, seed=int(rng.integers(1 << 30))
        )
        low, high = float(row["low"].iloc[0]), float(row["high"].iloc[0])
        covered += low <= 0.5 <= high
        widths.append(high - low)
    # Binomial(200, 0.95) lies in [181, 197] with probability > 0.99; the percentile bootstrap at
    # n = 40 under-covers slightly, so the lower bound allows 0.90.
    assert 0.90 * trials <= covered <= 0.99 * trials
    # Paired width ~ 2 x 1.96 x sqrt(2)/sqrt(40) ~ 0.88; unpaired would be ~ 2 x 1.96 x 10 x sqrt(2)/sqrt(40) ~ 8.8.
    assert np.median(widths) < 1.2


def _leaderboard(values: dict[str, np.ndarray]):
    episodes = _episodes(values).rename(columns={"pnl": "sharpe"})
    summary = summarise_episodes(episodes, n_resamples=500)
    paired = paired_differences(episodes, "base", measures=["sharpe"], n_resamples=500)
    return build_leaderboards(episodes, summary, paired, "base", "sharpe", n_resamples=500)["s"]


def test_a_winner_is_marked_only_when_the_paired_interval_excludes_zero() -> None:
    rng = np.random.default_rng(3)
    path = rng.normal(0.0, 3.0, 48)
    clear = _leaderboard(
        {"base": path + rng.normal(0, 0.1, 48), "agent": path + 1.0 + rng.normal(0, 0.1, 48)}
    )
    assert clear.winner == "agent"
    assert list(clear.table["standing"]) == [WINNER, BEHIND]
    assert list(clear.table["vs_baseline"]) == ["better", "baseline"]
    assert "agent wins" in leaderboard_text(clear)
    noise = rng.normal(0, 1, 24)
    close = _leaderboard({"base": path, "agent": path + np.r_[noise, -noise]})  # differ by noise of mean 0
    assert close.winner is None
    assert list(close.table["standing"]) == [TIED, TIED]
    assert "tie for first" in leaderboard_text(close)


def test_a_nearly_empty_book_cannot_top_the_leaderboard() -> None:
    # The put-write at one contract on $100M (1/400 of the benchmark's risk) beside the benchmark.
    # A mean of per-episode theta capture would let such a book top the table; money
    # per unit of risk is scale-free, so it ties the full book exactly on every headline measure
    # and on pooled theta capture, and the tie ranks the book that made more money first.
    config = EvaluationConfig(
        agents=(
            AgentSpec(name="put_write", rules=PUT_WRITE_RULES, env=PUT_WRITE_ENV),
            AgentSpec(name="nearly_empty", rules=PUT_WRITE_RULES, env=_tiny_book_config()),
        ),
        env=PUT_WRITE_ENV,
        scenarios=("grind_up",),
        episodes=8,
        days=42,
        workers=1,
        bootstrap_resamples=200,
    )
    result = evaluate(config, workers=1, progress=False)
    board = result.leaderboards["grind_up"]
    summary = result.summary.set_index("agent")
    assert summary.loc["nearly_empty", "volatility_mean"] < 0.01 * summary.loc["put_write", "volatility_mean"]
    for measure in ("sharpe", "sortino", "risk_matched_return", "theta_capture"):
        big, tiny = (summary.loc[a, f"{measure}_mean"] for a in ("put_write", "nearly_empty"))
        assert tiny == pytest.approx(big, rel=1e-6), measure
    assert list(board.table["agent"]) == ["put_write", "nearly_empty"]
    assert board.winner is None and list(board.table["standing"]) == [TIED, TIED]
    per_episode = result.episodes.set_index(["agent", "seed"])["sharpe"]
    np.testing.assert_allclose(per_episode.loc["nearly_empty"], per_episode.loc["put_write"], rtol=1e-6)


def _tiny_book_config() -> Path:
    """A copy of the put-write book at 1 contract on $100M of capital, written beside the tests' tmp."""
    import tempfile

    import yaml

    data = yaml.safe_load(PUT_WRITE_ENV.read_text())
    data["capital"] = 100_000_000.0
    data["layers"][0].update(sizing="contracts", contracts=1, max_contracts=4)
    data["guard"]["book_max_contracts"] = 4
    folder = Path(tempfile.mkdtemp(prefix="thetagym-tiny-"))
    path = folder / "tiny_put_write.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
