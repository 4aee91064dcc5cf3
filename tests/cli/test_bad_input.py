"""Every bad input gets one line naming the file, key or option, and the value; never a traceback.

Each case runs the real command in this process (``thetagym.cli.main``) from an empty working
folder, with files written by the case, and checks the exit code, that standard error is one
line, and that the line holds the expected words.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from thetagym.cli import main
from thetagym.policies.stored import record_digests, recorded_digests

ROOT = Path(__file__).resolve().parents[2]
RULES = str(ROOT / "configs" / "rules" / "dynamic_exposure.yaml")
ENV = ROOT / "configs" / "env" / "default.yaml"
TINY_TRAIN = ROOT / "configs" / "train" / "tiny.yaml"
REFERENCE_AGENT = ROOT / "agents" / "maskable_ppo_reference"
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00\x01"


@dataclass(frozen=True)
class Case:
    """A command line (``{tmp}`` stands for the case's folder), files to write first, and the
    words its one line of error must hold."""

    name: str
    args: tuple[str, ...]
    expect: tuple[str, ...]
    files: Callable[[Path], None] = lambda folder: None


def _binary(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(BINARY)


def _yaml(name: str, data: object) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(yaml.safe_dump(data))


def _env_with(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """``env.yaml``: the default env file with ``change`` applied to its mapping."""

    def write(folder: Path) -> None:
        data = yaml.safe_load(ENV.read_text())
        change(data)
        (folder / "env.yaml").write_text(yaml.safe_dump(data))

    return write


def _train_with(hyperparameters: dict) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        data = yaml.safe_load(TINY_TRAIN.read_text())
        data["env"] = str(ROOT / data["env"])
        data["evaluation"] = {**data.get("evaluation", {}), "against": RULES}
        data["hyperparameters"] = {**data.get("hyperparameters", {}), **hyperparameters}
        (folder / "train.yaml").write_text(yaml.safe_dump(data))

    return write


def _agent(model: bytes, spaces: object = None) -> Callable[[Path], None]:
    """An agent folder ``agent/`` holding ``model`` as model.zip, beside the reference's files or
    the given ``spaces`` record."""

    def write(folder: Path) -> None:
        agent = folder / "agent"
        agent.mkdir()
        for name in ("spaces.yaml", "env.yaml", "metadata.yaml", "config.yaml"):
            if (REFERENCE_AGENT / name).is_file():
                shutil.copy(REFERENCE_AGENT / name, agent / name)
        if spaces is not None:
            (agent / "spaces.yaml").write_text(yaml.safe_dump(spaces))
        (agent / "model.zip").write_bytes(model)

    return write


def _spec_unlike_weights(folder: Path) -> None:
    """``agent/``: the reference agent, its policy spec naming a 32x32 network that its 64x64
    weights do not fit (digests recorded again, so only that mismatch is wrong)."""
    shutil.copytree(REFERENCE_AGENT, folder / "agent")
    spec = folder / "agent" / "policy.yaml"
    spec.write_text(spec.read_text().replace("  - 64\n  - 64\n", "  - 32\n  - 32\n", 1))
    record_digests(folder / "agent", recorded_digests(folder / "agent"))


def _file(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text("mine\n")


SIMULATE = ("simulate", "--agent", RULES, "--scenario", "calm", "--days", "2")
EXPORT = ("export-thresholds", str(REFERENCE_AGENT), "--rules", RULES, "--out", "{tmp}/new.yaml")
RANDOM_BYTES = bytes(range(256)) * 64
CASES = [
    # Non-UTF-8 or binary YAML, wherever YAML is read.
    Case("binary evaluation config", ("evaluate", "{tmp}/bad.yaml"), ("bad.yaml", "not a YAML text file", "0x89"), _binary("bad.yaml")),
    Case("binary env config", (*SIMULATE, "--env", "{tmp}/bad.yaml"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    Case("binary rule config", ("simulate", "--agent", "{tmp}/bad.yaml", "--scenario", "calm"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    Case("binary tune config", ("tune", "{tmp}/bad.yaml"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    Case("binary training config", ("train", "{tmp}/bad.yaml"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    Case("binary market config", ("market-stats", "--config", "{tmp}/bad.yaml", "--no-plots"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    Case("binary scenarios", ("market-stats", "--scenarios", "{tmp}/bad.yaml", "--no-plots"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    Case("binary export rules", ("export-thresholds", str(REFERENCE_AGENT), "--rules", "{tmp}/bad.yaml", "--out", "{tmp}/new.yaml"), ("bad.yaml", "not a YAML text file"), _binary("bad.yaml")),
    # Options out of range or not finite.
    Case("seed above 2**32", (*SIMULATE, "--seed", str(2**64)), ("--seed", str(2**64))),
    Case("negative seed", ("market-stats", "--seed", "-1", "--no-plots"), ("--seed", "-1")),
    Case("seeds past the last", ("market-stats", "--seed", str(2**32 - 2), "--paths", "4", "--no-plots"), ("--seed", str(2**32 - 2))),
    Case("years nan", ("market-stats", "--years", "nan", "--no-plots"), ("--years", "nan")),
    Case("years inf", ("market-stats", "--years", "inf", "--no-plots"), ("--years", "inf")),
    Case("too many path-years", ("market-stats", "--paths", "100000", "--years", "100", "--no-plots"), ("--paths/--years", "path-years")),
    Case("bench seconds inf", ("bench", "market", "--seconds", "inf"), ("--seconds", "inf")),
    Case("bench seconds nan", ("bench", "pricing", "--seconds", "nan"), ("--seconds", "nan")),
    Case("vix bands nan,inf", (*EXPORT, "--vix-bands", "nan,inf"), ("--vix-bands", "nan")),
    Case("vix bands decreasing", (*EXPORT, "--vix-bands", "25,15"), ("--vix-bands", "25,15", "increase")),
    Case("vix bands not numbers", (*EXPORT, "--vix-bands", "low,high"), ("--vix-bands", "low,high")),
    Case("backtest dates reversed", ("backtest", "--agent", RULES, "--start", "2020-01-01", "--end", "2019-01-01"), ("--start", "2020-01-01")),
    Case("scenario unknown", (*SIMULATE[:-4], "--scenario", "crsh", "--out", "{tmp}/sim"), ("--scenario", "'crsh'", "did you mean 'crash'")),
    # Paths that cannot be used.
    Case("out under a file", (*SIMULATE, "--out", "{tmp}/taken.txt/sim"), ("taken.txt", "Not a directory"), _file("taken.txt")),
    Case("out under /proc", (*SIMULATE, "--out", "/proc/thetagym/sim"), ("/proc/thetagym",)),
    Case("out is a file", (*SIMULATE, "--out", "{tmp}/taken.txt"), ("taken.txt", "not a folder"), _file("taken.txt")),
    Case("export out exists", EXPORT, ("new.yaml", "file exists", "--force"), _file("new.yaml")),
    Case("missing config", ("evaluate", "{tmp}/none.yaml"), ("CONFIG", "none.yaml", "does not exist")),
    Case("missing agent", ("simulate", "--agent", "{tmp}/none.yaml", "--scenario", "calm"), ("--agent", "none.yaml")),
    # Damaged or foreign agent folders.
    Case("random-bytes model.zip", ("simulate", "--agent", "{tmp}/agent", "--scenario", "calm", "--days", "2"), ("agent/model.zip", "convert-agent", "--trust"), _agent(RANDOM_BYTES)),
    Case("spaces with wrong types", ("simulate", "--agent", "{tmp}/agent", "--scenario", "calm", "--days", "2"), ("agent",), _agent(RANDOM_BYTES, {"algorithm": 7, "action_nvec": "many", "observation_names": 3})),
    Case("spec unlike the weights", ("simulate", "--agent", "{tmp}/agent", "--scenario", "calm", "--days", "2"), ("agent",), _spec_unlike_weights),
    Case("spaces not a mapping", ("simulate", "--agent", "{tmp}/agent", "--scenario", "calm", "--days", "2"), ("agent",), _agent(RANDOM_BYTES, ["a", "b"])),
    # Configs whose values are out of the domain.
    Case("contracts over max_contracts", (*SIMULATE, "--env", "{tmp}/env.yaml"), ("env.yaml", "'book.layers[0].contracts'", "1000000000000"), _env_with(lambda d: d["layers"][0].update(contracts=10**12))),
    Case("contracts over the cap", (*SIMULATE, "--env", "{tmp}/env.yaml"), ("env.yaml", "max_contracts", "16 contracts"), _env_with(lambda d: d["layers"][0].update(contracts=16, max_contracts=12))),
    Case("book cap below reset", (*SIMULATE, "--env", "{tmp}/env.yaml"), ("env.yaml", "book_max_contracts 10", "at reset"), _env_with(lambda d: d["guard"].update(book_max_contracts=10))),
    Case("capital 1e-310", (*SIMULATE, "--env", "{tmp}/env.yaml"), ("env.yaml", "'book.capital'", "1e-310"), _env_with(lambda d: d.update(capital=1e-310))),
    Case("max_legs 10**9", (*SIMULATE, "--env", "{tmp}/env.yaml"), ("env.yaml", "'book.max_legs'", "1000000000"), _env_with(lambda d: d.update(max_legs=10**9))),
    Case("vol of variance 100", ("market-stats", "--config", "{tmp}/market.yaml", "--no-plots"), ("market.yaml", "'pricing.vol_of_variance'", "100"), _yaml("market.yaml", {"pricing": {"vol_of_variance": 100.0}})),
    Case("initial vix 1e6", ("market-stats", "--config", "{tmp}/market.yaml", "--no-plots"), ("market.yaml", "'initial_vix'", "1000000.0"), _yaml("market.yaml", {"initial_vix": 1e6})),
    Case("initial index 1e12", ("market-stats", "--config", "{tmp}/market.yaml", "--no-plots"), ("market.yaml", "'initial_index'", "1000000000000.0"), _yaml("market.yaml", {"initial_index": 1e12})),
    Case("jump intensity 1e6", ("market-stats", "--config", "{tmp}/market.yaml", "--no-plots"), ("market.yaml", "'jumps.intensity'", "1000000.0"), _yaml("market.yaml", {"jumps": {"intensity": 1e6}})),
    Case("market config a list", ("market-stats", "--config", "{tmp}/market.yaml", "--no-plots"), ("market.yaml", "mapping"), _yaml("market.yaml", [1, 2])),
    Case("negative learning rate", ("train", "{tmp}/train.yaml"), ("train.yaml", "learning_rate", "-0.1"), _train_with({"learning_rate": -0.1})),
    Case("nan learning rate", ("train", "{tmp}/train.yaml"), ("train.yaml", "learning_rate", "nan"), _train_with({"learning_rate": float("nan")})),
    Case("nan linear learning rate", ("train", "{tmp}/train.yaml"), ("train.yaml", "learning_rate", "lin_nan"), _train_with({"learning_rate": "lin_nan"})),
    Case("negative clip range", ("train", "{tmp}/train.yaml"), ("train.yaml", "clip_range", "-0.2"), _train_with({"clip_range": -0.2})),
    Case("gamma 1e-300", ("train", "{tmp}/train.yaml"), ("train.yaml", "'hyperparameters.gamma'", "1e-300"), _train_with({"gamma": 1e-300})),
    Case("ent_coef 1e30", ("train", "{tmp}/train.yaml"), ("train.yaml", "'hyperparameters.ent_coef'", "1e+30"), _train_with({"ent_coef": 1e30})),
    Case("empty training config", ("train", "{tmp}/train.yaml"), ("train.yaml", "empty"), lambda folder: (folder / "train.yaml").write_text("# nothing\n")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_one_line(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("THETAGYM_DEBUG", raising=False)
    case.files(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in case.args]
    with pytest.raises(SystemExit) as ended:
        main(args)
    assert ended.value.code not in (0, None)
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for word in case.expect:
        assert word.replace("{tmp}", str(tmp_path)) in err, (word, err)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, "a refused command left files behind"


def test_debug_variable_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.yaml").write_bytes(BINARY)
    monkeypatch.setenv("THETAGYM_DEBUG", "1")
    with pytest.raises(ValueError, match="not a YAML text file"):
        main(["evaluate", str(tmp_path / "bad.yaml")])
    assert os.environ["THETAGYM_DEBUG"] == "1"
