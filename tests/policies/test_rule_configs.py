"""Rule config files: every shipped file loads; mistakes name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from thetagym.config import ConfigError
from thetagym.env.config import resolve_config
from thetagym.policies.rules import (
    AGENT_NAMES,
    DynamicExposureConfig,
    load_rule_agent,
    load_rule_config,
)

RULES = Path(__file__).parents[2] / "configs" / "rules"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_every_agent_has_a_shipped_config_that_loads(name: str) -> None:
    config = load_rule_config(RULES / f"{name}.yaml")
    assert config.agent == name
    assert load_rule_agent(RULES / f"{name}.yaml").name == name


def test_regime_thresholds_override_the_top_level_block_key_by_key() -> None:
    config = load_rule_config(RULES / "dynamic_exposure.yaml")
    assert isinstance(config, DynamicExposureConfig)
    calm = config.regimes[0].thresholds
    assert calm.roll_delta == 0.25
    assert calm.take_profit == config.thresholds.take_profit


def test_unknown_key_suggests_the_closest_and_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: dynamic_exposure\nthresholds:\n  roll_detla: 0.3\n")
    with pytest.raises(
        ConfigError, match=r"rules.yaml: unknown key 'thresholds.roll_detla' \(did you mean 'roll_delta'\?\)"
    ):
        load_rule_config(path)


def test_unknown_key_inside_a_regime_is_named_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: alvh\nregimes:\n  - vix_below: 18\n    thresholds: {ladder_day: 3}\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'regimes\[0\].thresholds.ladder_day' \(did you mean 'ladder_days'\?\)",
    ):
        load_rule_config(path)


def test_out_of_range_threshold_names_file_key_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: dynamic_exposure\nthresholds:\n  roll_delta: 1.5\n")
    with pytest.raises(
        ConfigError, match=r"rules.yaml: key 'thresholds.roll_delta': 1.5 is out of range, must be < 1.0"
    ):
        load_rule_config(path)


def test_inconsistent_thresholds_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: alvh\nthresholds:\n  hedge_band: 0.1\n  unhedge_band: 0.2\n")
    with pytest.raises(ConfigError, match=r"rules.yaml: .*unhedge_band 0.2 must not exceed hedge_band 0.1"):
        load_rule_config(path)


def test_regimes_out_of_order_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: alvh\nregimes:\n  - {vix_below: 30}\n  - {vix_below: 18}\n")
    with pytest.raises(ConfigError, match=r"increasing order of vix_below"):
        load_rule_config(path)


def test_unknown_agent_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: dynamic_exposur\n")
    with pytest.raises(
        ConfigError,
        match=r"rules.yaml: key 'agent': unknown agent 'dynamic_exposur' \(did you mean 'dynamic_exposure'\?\)",
    ):
        load_rule_config(path)


def test_missing_agent_key_lists_the_agents(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"rules.yaml: key 'agent' is missing; name one of dynamic_exposure"
    ):
        load_rule_config(write(tmp_path, "imbalance: 0.5\n"))


def test_a_config_of_another_agent_is_refused_where_one_agent_is_needed() -> None:
    with pytest.raises(
        ConfigError,
        match=r"alvh.yaml: key 'agent': this is a 'alvh' rule config, but a config of 'dynamic_exposure' is needed",
    ):
        load_rule_config(RULES / "alvh.yaml", expect="dynamic_exposure")


def test_a_key_of_another_agent_is_unknown(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: naive_rebalancer\nladder_days: 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'ladder_days'"):
        load_rule_config(path)


def test_unknown_flat_layer_names_file_key_and_the_closest_layer(tmp_path: Path) -> None:
    book = resolve_config(Path(__file__).parents[2] / "configs" / "env" / "default.yaml", {}).book
    path = write(tmp_path, "agent: dynamic_exposure\nflat_layers: [call_wnig]\n")
    with pytest.raises(
        ConfigError,
        match=r"rules.yaml: key 'flat_layers': the book has no layer 'call_wnig' \(did you mean 'call_wing'\?\); "
        r"its layers are put_wing, call_wing",
    ):
        load_rule_agent(path, book)
    assert load_rule_config(path).flat_layers == ("call_wnig",)  # type: ignore[attr-defined]  # no book yet


def test_flat_layers_repeated_or_not_a_list_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "agent: dynamic_exposure\nflat_layers: [call_wing, call_wing]\n")
    with pytest.raises(ConfigError, match=r"rules.yaml: flat_layers names call_wing more than once"):
        load_rule_config(path)
    path = write(tmp_path, "agent: dynamic_exposure\nflat_layers: call_wing\n")
    with pytest.raises(ConfigError, match=r"rules.yaml: key 'flat_layers': expected a list"):
        load_rule_config(path)
