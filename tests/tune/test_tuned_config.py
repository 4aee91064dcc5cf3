"""The tuned rule config loads like any rule config, and its header's held-out score is what an
evaluation of it on the same seeds gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thetagym.evaluate.config import AgentSpec, EvaluationConfig, check_evaluation_config
from thetagym.evaluate.runner import evaluate
from thetagym.evaluate.summary import POOLED
from thetagym.policies.rules import load_rule_agent, load_rule_config
from thetagym.tune.config import TuneConfig
from thetagym.tune.outputs import HELD_OUT_PREFIX
from thetagym.tune.runner import TuneResult


def test_the_tuned_config_loads_with_the_winning_values(local_run: tuple[Path, TuneResult]) -> None:
    _, result = local_run
    assert result.tuned_config is not None and result.best is not None
    config = load_rule_config(result.tuned_config)
    load_rule_agent(result.tuned_config)
    assert config.thresholds.roll_delta == float(result.best["param.thresholds.roll_delta"])  # type: ignore[attr-defined]
    assert config.thresholds.imbalance == float(result.best["param.thresholds.imbalance"])  # type: ignore[attr-defined]
    text = result.tuned_config.read_text()
    assert "search space:" in text and f"selection: trial {int(result.best['number'])}" in text


def test_the_header_matches_an_evaluation_of_the_tuned_config(
    smoke_config: TuneConfig, local_run: tuple[Path, TuneResult]
) -> None:
    _, result = local_run
    assert result.tuned_config is not None
    line = next(s for s in result.tuned_config.read_text().splitlines() if s.startswith(HELD_OUT_PREFIX))
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    evaluation = check_evaluation_config(
        EvaluationConfig(
            agents=(AgentSpec("tuned", rules=result.tuned_config),),
            env=smoke_config.env,
            scenarios=smoke_config.scenarios,
            seed=int(fields["seed"]),
            episodes=int(fields["episodes"]),
            days=int(fields["days"]),
            bootstrap_resamples=smoke_config.bootstrap_resamples,
        )
    )
    summary = evaluate(evaluation, workers=1, progress=False).summary
    row = summary[(summary["agent"] == "tuned") & (summary["scenario"] == POOLED)].iloc[0]
    assert row["sharpe_mean"] == pytest.approx(float(fields["sharpe"]), rel=1e-12)
