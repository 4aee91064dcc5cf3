"""Finding the built-in agents for ``compare`` and loading agents by kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from thetagym.config import ConfigError
from thetagym.evaluate import agents
from thetagym.evaluate.config import AgentSpec, EvaluationConfig


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "configs" / "rules").mkdir(parents=True)
    for name in ("b_rules", "a_rules"):
        (tmp_path / "configs" / "rules" / f"{name}.yaml").write_text("agent: put_write\n")
    (tmp_path / "agents" / "ppo_small").mkdir(parents=True)
    (tmp_path / "agents" / "ppo_small" / "model.zip").write_text("")
    (tmp_path / "agents" / "empty").mkdir()
    return tmp_path


def test_builtin_agents_are_rule_configs_then_non_empty_agent_folders(project):
    specs = agents.builtin_agents(project)
    assert [(s.name, s.kind) for s in specs] == [
        ("a_rules", "rules"),
        ("b_rules", "rules"),
        ("ppo_small", "model"),
    ]


def test_compare_adds_unlisted_agents_and_skips_trained_ones_without_a_loader(project, monkeypatch):
    listed = AgentSpec(name="mine", rules=project / "configs" / "rules" / "a_rules.yaml")
    config = EvaluationConfig(agents=(listed,))
    monkeypatch.setattr(agents, "MODEL_LOADER", ("thetagym.no_such_module", "load"))
    extended, notes = agents.with_builtin_agents(config, project)
    assert [a.name for a in extended.agents] == ["mine", "b_rules"]
    assert notes and "not yet supported" in notes[0]
    with pytest.raises(ConfigError, match="trained-model agents are not yet supported"):
        agents.load_policy(AgentSpec(name="ppo", model=project / "agents" / "ppo_small"))
