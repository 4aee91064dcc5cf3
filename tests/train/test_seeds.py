"""Multi-seed training: one run folder per seed on either engine, the same figures whatever runs
them, and the summary across seeds (mean and interquartile mean with bootstrap intervals)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thetagym.cli import main
from thetagym.config import ConfigError
from thetagym.train.seeds import SEED_MEASURES, interquartile_mean, parse_seeds, summarise_seeds

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs/train/tiny.yaml"


def test_seed_lists_and_ranges() -> None:
    assert parse_seeds("1-5") == [1, 2, 3, 4, 5]
    assert parse_seeds("7, 2-3,7") == [7, 2, 3]
    for text in ("", "a", "1-", "3-1", "-2"):
        with pytest.raises(ConfigError, match=r"--seeds: .* is not a seed or an ascending range"):
            parse_seeds(text)


def test_the_summary_reports_mean_and_interquartile_mean_over_seeds() -> None:
    figures = {measure: [1.0, 2.0, 3.0, 4.0, 100.0] for measure in SEED_MEASURES}
    figures["pnl"] = [1.0, 2.0, float("nan"), 4.0, 5.0]
    summary = summarise_seeds(pd.DataFrame({"seed": range(5), **figures})).set_index("measure")
    sharpe = summary.loc["sharpe"]
    assert sharpe["mean"] == pytest.approx(22.0) and sharpe["iqm"] == pytest.approx(3.0)  # 2, 3, 4 kept
    assert sharpe["n"] == 5
    assert sharpe["mean_low"] < 22.0 < sharpe["mean_high"] <= 100.0
    assert 1.0 <= sharpe["iqm_low"] <= 3.0 <= sharpe["iqm_high"] <= 100.0
    assert summary.loc["pnl", "n"] == 4 and summary.loc["pnl", "mean"] == pytest.approx(3.0)
    assert interquartile_mean(np.arange(8.0)) == pytest.approx(3.5)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny config on seeds 3 and 4, with local processes and with a 2-CPU local Ray."""
    pytest.importorskip("ray")
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path_factory.mktemp(engine) / "seeds"
        seeds = ["--seeds", "3-4", "--timesteps", "512"]
        main(["train", str(TINY), *seeds, "--engine", engine, "--workers", "2", "--out", str(out)])
        outs[engine] = out
    return outs


def test_each_seed_trains_its_own_run_folder(seed_runs: dict[str, Path]) -> None:
    out = seed_runs["local"]
    table = pd.read_csv(out / "seeds.csv")
    assert table["seed"].tolist() == [3, 4]
    assert table["timesteps"].tolist() == [512, 512]
    for seed in (3, 4):
        folder = out / f"seed-{seed}"
        assert (folder / "policy.safetensors").is_file() and (
            folder / "checkpoints/last/state.yaml"
        ).is_file()
        assert f"seed: {seed}" in (folder / "config.yaml").read_text()
    assert not table.loc[0, list(SEED_MEASURES)].equals(table.loc[1, list(SEED_MEASURES)])


def test_engines_give_the_same_figures(seed_runs: dict[str, Path]) -> None:
    local, ray = (pd.read_csv(seed_runs[name] / "seeds.csv") for name in ("local", "ray"))
    columns = ["seed", "timesteps", *SEED_MEASURES]
    pd.testing.assert_frame_equal(local[columns], ray[columns])
    pd.testing.assert_frame_equal(
        pd.read_csv(seed_runs["local"] / "summary.csv"), pd.read_csv(seed_runs["ray"] / "summary.csv")
    )


def test_the_summary_is_written_as_csv_and_strict_json(
    seed_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = seed_runs["local"]
    summary = pd.read_csv(out / "summary.csv").set_index("measure")
    table = pd.read_csv(out / "seeds.csv")
    assert list(summary.index) == list(SEED_MEASURES)
    for measure in SEED_MEASURES:
        assert summary.loc[measure, "mean"] == pytest.approx(table[measure].mean())
    record = json.loads((out / "summary.json").read_text(), parse_constant=lambda name: pytest.fail(name))
    assert [row["seed"] for row in record["seeds"]] == [3, 4]
    assert record["summary"]["sharpe"]["mean"] == pytest.approx(summary.loc["sharpe", "mean"])
    assert set(record["summary"]["sharpe"]) == {
        "n",
        "mean",
        "mean_low",
        "mean_high",
        "iqm",
        "iqm_low",
        "iqm_high",
    }


def test_seeds_are_refused_with_a_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in (
        (["--seeds", "2-1"], "--seeds: '2-1' is not a seed or an ascending range like 1-5"),
        (
            ["--seeds", "999999999"],
            "--seeds: seed 999999999: seed 999999999 with 8 envs leaves the training seed range",
        ),
    ):
        with pytest.raises(SystemExit) as ended:
            main(["train", str(TINY), *args, "--out", str(tmp_path / "out")])
        assert ended.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()
