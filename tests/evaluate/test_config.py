"""Evaluation configs: bad files give one clear error naming the file, the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from thetagym.config import ConfigError
from thetagym.evaluate.config import ScenarioSpec, load_evaluation_config
from thetagym.seeds import EVALUATION_SEED_BASE, TRAINING_SEED_RANGE, check_evaluation_seeds

ROOT = Path(__file__).resolve().parents[2]
needs_env = pytest.mark.skipif(
    not (ROOT / "configs" / "env" / "default.yaml").is_file(),
    reason="configs/env/default.yaml has not landed yet",
)


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / "env.yaml"
    path.write_text("episode_days: 5\n")
    return path


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "roll.yaml"
    path.write_text("{}\n")
    return path


def good(env_file: Path, rules_file: Path, **changes) -> dict:
    return {"agents": [{"name": "roll", "rules": str(rules_file)}], "env": str(env_file), **changes}


def test_a_good_config_resolves_paths_and_scenarios(tmp_path, env_file, rules_file):
    config = load_evaluation_config(
        write(tmp_path, good(env_file, rules_file, scenarios=["calm", {"replay": "covid_2020"}]))
    )
    assert config.agents[0].path == rules_file.resolve()
    assert [s.label for s in config.scenario_specs] == ["calm", "covid_2020"]
    assert config.scenario_specs[1] == ScenarioSpec(replay="covid_2020")
    assert config.seed == EVALUATION_SEED_BASE


def test_relative_paths_resolve_against_the_config_folder(tmp_path, env_file, rules_file, monkeypatch):
    monkeypatch.chdir(ROOT)
    config = load_evaluation_config(
        write(tmp_path, {"agents": [{"name": "roll", "rules": "roll.yaml"}], "env": "env.yaml"})
    )
    assert config.env == env_file.resolve()


def test_unknown_agent_file_names_file_key_and_value(tmp_path, env_file):
    path = write(tmp_path, {"agents": [{"name": "x", "rules": "nowhere/roll.yaml"}], "env": str(env_file)})
    with pytest.raises(
        ConfigError, match=r"eval.yaml: key 'agents\[0\].rules': no such file 'nowhere/roll.yaml'"
    ):
        load_evaluation_config(path)


def test_missing_agent_file_suggests_a_sibling(tmp_path, env_file, rules_file):
    path = write(
        tmp_path, {"agents": [{"name": "x", "rules": str(tmp_path / "rol.yaml")}], "env": str(env_file)}
    )
    with pytest.raises(ConfigError, match=r"did you mean 'roll.yaml'\?"):
        load_evaluation_config(path)


def test_unknown_scenario_suggests_the_closest(tmp_path, env_file, rules_file):
    path = write(tmp_path, good(env_file, rules_file, scenarios=["calm", "crahs"]))
    with pytest.raises(
        ConfigError,
        match=r"eval.yaml: key 'scenarios\[1\]': unknown scenario 'crahs' \(did you mean 'crash'\?\)",
    ):
        load_evaluation_config(path)


def test_unknown_replay_suggests_the_closest(tmp_path, env_file, rules_file):
    path = write(tmp_path, good(env_file, rules_file, scenarios=[{"replay": "covid_202"}]))
    with pytest.raises(ConfigError, match=r"unknown replay 'covid_202' \(did you mean 'covid_2020'\?\)"):
        load_evaluation_config(path)


def test_replay_window_must_be_ordered_dates(tmp_path, env_file, rules_file):
    path = write(tmp_path, good(env_file, rules_file, scenarios=[{"replay": "2020-04-30:2020-02-03"}]))
    with pytest.raises(ConfigError, match=r"key 'scenarios\[0\]': replay window"):
        load_evaluation_config(path)


def test_seeds_overlapping_training_are_rejected(tmp_path, env_file, rules_file):
    path = write(tmp_path, good(env_file, rules_file, seed=TRAINING_SEED_RANGE.stop - 1, episodes=2))
    with pytest.raises(ConfigError, match=r"eval.yaml: key 'seed': 999999999: .*overlap the training seeds"):
        load_evaluation_config(path)


def test_seed_ranges_are_disjoint_from_training():
    assert EVALUATION_SEED_BASE >= TRAINING_SEED_RANGE.stop
    check_evaluation_seeds(EVALUATION_SEED_BASE, scenarios=20, episodes=1000)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"episodes": 0}, r"key 'episodes': 0 is out of range, must be >= 1"),
        ({"episods": 3}, r"unknown key 'episods' \(did you mean 'episodes'\?\)"),
        ({"workers": "many"}, r"key 'workers': expected a whole number, got 'many'"),
    ],
)
def test_bad_values_name_key_and_value(tmp_path, env_file, rules_file, change, message):
    with pytest.raises(ConfigError, match=message):
        load_evaluation_config(write(tmp_path, good(env_file, rules_file, **change)))


def test_agents_need_one_source_and_unique_names(tmp_path, env_file, rules_file):
    both = {"agents": [{"name": "a", "rules": str(rules_file), "model": str(tmp_path)}], "env": str(env_file)}
    with pytest.raises(ConfigError, match=r"key 'agents\[0\]'.*exactly one of 'rules' or 'model'"):
        load_evaluation_config(write(tmp_path, both))
    twice = {"agents": [{"name": "a", "rules": str(rules_file)}] * 2, "env": str(env_file)}
    with pytest.raises(ConfigError, match=r"key 'agents\[1\].name': agent name 'a' is used twice"):
        load_evaluation_config(write(tmp_path, twice))


@needs_env
@pytest.mark.parametrize("name", ["default.yaml", "smoke.yaml"])
def test_shipped_configs_load(name):
    config = load_evaluation_config(ROOT / "configs" / "evaluate" / name)
    assert config.agents


def test_an_agent_may_run_its_own_book_on_the_common_paths() -> None:
    from thetagym.evaluate.runner import plan

    root = Path(__file__).resolve().parents[2]
    config = load_evaluation_config(root / "experiments/spiral/evaluate.yaml")
    tasks = plan(config)
    envs = {task.agent.name: task.env.name for task in tasks}
    assert envs == {
        "naive_guard_on": "default.yaml",
        "naive_guard_off": "default_guard_off.yaml",
        "rolling_guard_off": "default_guard_off.yaml",
    }
    seeds = {
        task.agent.name: (task.scenario.label, task.seeds) for task in tasks if task.scenario.label == "crash"
    }
    assert len(set(seeds.values())) == 1
