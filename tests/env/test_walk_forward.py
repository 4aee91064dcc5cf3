"""Walk-forward configs: training windows never reach the test years, and the test config covers them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thetagym.market.history import has_shared_data

ROOT = Path(__file__).resolve().parents[2]
TRAIN_ENV = ROOT / "configs" / "env" / "history_train.yaml"
TEST_EVALUATION = ROOT / "configs" / "evaluate" / "history_test.yaml"

pytestmark = pytest.mark.skipif(
    not has_shared_data(),
    reason="historical data absent: set THETAGYM_DATA or place ../shared/data beside the project",
)


def test_training_windows_end_before_the_test_years() -> None:
    from thetagym.env.config import load_env_config
    from thetagym.env.vector import ShortPremiumVectorEnv

    config = load_env_config(TRAIN_ENV)
    envs = ShortPremiumVectorEnv(64, config)
    envs.reset(seed=list(range(64)))
    market = envs.core.market
    assert market is not None
    last_day = market.dates.max()
    first_day = market.dates.min()
    assert last_day <= np.datetime64("2014-12-31") and first_day >= np.datetime64("1990-01-02")
    starts = {str(row[0]) for row in market.dates}
    assert len(starts) > 32  # random windows, not one fixed path


def test_the_test_config_covers_2015_to_2023_year_by_year() -> None:
    from thetagym.evaluate.config import load_evaluation_config

    config = load_evaluation_config(TEST_EVALUATION)
    years = [spec.replay[:4] for spec in config.scenario_specs if spec.replay is not None]
    assert years == [str(y) for y in range(2015, 2024)]
    assert {agent.name for agent in config.agents} >= {"put_write", "maskable_ppo_reference"}
