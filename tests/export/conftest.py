"""Shared fixtures: a short env, a known "policy" (a dynamic_exposure agent with thresholds other
than the defaults) and its export, computed once per session."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from thetagym.env.config import EnvConfig, resolve_config
from thetagym.export import ExportResult, FitSettings, export_thresholds
from thetagym.policies.rules import DynamicExposureConfig, build_rule_agent, load_rule_config

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "configs" / "rules" / "dynamic_exposure.yaml"
ENV = ROOT / "configs" / "env" / "default.yaml"
TRUE_ROLL_DELTA = 0.35
TRUE_COUNTER_TRIGGER = 0.015
FIT_SEEDS = tuple(range(16))
HELDOUT_SEEDS = tuple(range(100, 108))


@pytest.fixture(scope="session")
def env_config() -> EnvConfig:
    return resolve_config(ENV, {"episode_days": 15})


@pytest.fixture(scope="session")
def known_config() -> DynamicExposureConfig:
    """dynamic_exposure with roll_delta 0.35 and counter_trigger 0.015 (defaults 0.30, 0.01), no regimes."""
    original = load_rule_config(RULES)
    assert isinstance(original, DynamicExposureConfig)
    thresholds = dataclasses.replace(
        original.thresholds, roll_delta=TRUE_ROLL_DELTA, counter_trigger=TRUE_COUNTER_TRIGGER
    )
    return dataclasses.replace(original, name="known", thresholds=thresholds, regimes=())


@pytest.fixture(scope="session")
def round_trip(env_config: EnvConfig, known_config: DynamicExposureConfig) -> ExportResult:
    """The known agent exported from the shipped dynamic_exposure.yaml."""
    policy = build_rule_agent(known_config, env_config.book)
    return export_thresholds(
        policy, RULES, env_config, FIT_SEEDS, HELDOUT_SEEDS, FitSettings(sweeps=3), name="round-trip"
    )
