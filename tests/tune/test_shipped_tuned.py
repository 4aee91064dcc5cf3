"""The shipped tuned baselines: each loads like any rule config, came from its tune config (every
tuned value inside that config's search space), and is in the default comparison, labelled tuned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thetagym.config import read_yaml
from thetagym.evaluate.config import load_evaluation_config
from thetagym.policies.rules import load_rule_agent, load_rule_config
from thetagym.tune.config import load_tune_config
from thetagym.tune.outputs import HELD_OUT_PREFIX
from thetagym.tune.trial import untuned_values

ROOT = Path(__file__).resolve().parents[2]
TUNED = sorted((ROOT / "configs" / "rules" / "tuned").glob("*.yaml"))


def test_the_three_baselines_are_shipped() -> None:
    assert [path.stem for path in TUNED] == ["alvh", "dynamic_exposure", "put_write_rolls"]


@pytest.mark.parametrize("path", TUNED, ids=lambda p: p.stem)
def test_a_tuned_baseline_loads_and_its_tuned_values_lie_in_its_search_space(path: Path) -> None:
    agent = load_rule_agent(path)
    assert agent.name == f"{path.stem}_tuned"
    header = path.read_text().splitlines()[0]
    assert header.startswith(f"# {path.stem} tuned by `thetagym tune configs/tune/{path.stem}.yaml`")
    tune = load_tune_config(ROOT / "configs" / "tune" / f"{path.stem}.yaml")
    values = untuned_values(load_rule_config(path), list(tune.space))
    for name, spec in tune.space.items():
        if spec.choices is not None:
            assert values[name] in [list(c) if isinstance(c, list | tuple) else c for c in spec.choices], name
        else:
            assert spec.low is not None and spec.high is not None
            assert spec.low <= values[name] <= spec.high, name
    held_out = next(line for line in path.read_text().splitlines() if line.startswith(HELD_OUT_PREFIX))
    fields = dict(re.findall(r"(\w+)=(\S+)", held_out))
    assert int(fields["seed"]) >= 1_000_000_000 and float(fields["low"]) <= float(fields["sharpe"]) <= float(
        fields["high"]
    )
    assert read_yaml(path)["agent"] == read_yaml(tune.rules)["agent"]


def test_compare_runs_every_tuned_baseline_under_a_tuned_name() -> None:
    config = load_evaluation_config(ROOT / "configs" / "evaluate" / "default.yaml")
    listed = {agent.path.resolve(): agent.name for agent in config.agents}
    for path in TUNED:
        assert listed[path.resolve()] == f"{path.stem}_tuned"
