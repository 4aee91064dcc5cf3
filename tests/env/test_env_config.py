"""Bad env configs fail early with a message naming the file, the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from thetagym.config import ConfigError
from thetagym.env.config import EnvConfig, load_env_config, resolve_config
from thetagym.env.short_premium import ShortPremiumEnv

from .conftest import DEFAULT_CONFIG


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_env_file_with_a_book_path_relative_to_it(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"book": str(DEFAULT_CONFIG), "episode_days": 5, "reward": {"drawdown_penalty": 2.0}}
    )
    config = load_env_config(path)
    assert config.episode_days == 5 and config.reward.drawdown_penalty == 2.0
    assert config.book == load_env_config(DEFAULT_CONFIG).book


def test_a_book_file_is_an_env_config_with_defaults() -> None:
    config = load_env_config(DEFAULT_CONFIG)
    assert isinstance(config, EnvConfig)
    assert config.episode_days == 63 and config.observation_clip == 5.0
    assert config.horizon == 63 * config.market.bars_per_day
    assert config.path_days > config.episode_days


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"episode_dayz": 5}, r"unknown key 'episode_dayz' \(did you mean 'episode_days'\?\)"),
        ({"episode_days": 0}, r"key 'episode_days': 0 is out of range, must be >= 1"),
        ({"ruin_fraction": 1.5}, r"key 'ruin_fraction': 1.5 is out of range"),
        ({"observation_clip": "big"}, r"key 'observation_clip': expected a number, got 'big'"),
        ({"reward": {"drawdown_penalty": -1}}, r"key 'reward.drawdown_penalty': -1.0 is out of range"),
        ({"reward": {"theta_bonuss": 1}}, r"did you mean 'theta_bonus'"),
        ({"scenario": "crsh"}, r"unknown scenario 'crsh' \(did you mean 'crash'\?\)"),
        ({"book": "no_such_book.yaml"}, r"key 'book': no such file 'no_such_book.yaml'"),
    ],
)
def test_bad_settings_are_rejected_clearly(tmp_path: Path, data: dict, message: str) -> None:
    data = {"book": str(DEFAULT_CONFIG), **data}
    path = write(tmp_path, data)
    with pytest.raises(ConfigError, match=message) as error:
        load_env_config(path)
    assert str(path) in str(error.value)


def test_keyword_overrides_are_checked() -> None:
    with pytest.raises(ConfigError, match="episode_days"):
        ShortPremiumEnv(DEFAULT_CONFIG, episode_days=-3)
    with pytest.raises(ConfigError, match="did you mean 'scenario'"):
        resolve_config(DEFAULT_CONFIG, {"scenarios": "calm"})
    assert resolve_config(DEFAULT_CONFIG, {"scenario": "calm"}).scenario == "calm"


def test_missing_config_file_is_named() -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: no such config file"):
        load_env_config("nowhere.yaml")
