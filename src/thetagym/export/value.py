"""What the export is worth: the policy, the exported rules and the original rules evaluated on
common held-out market paths (evaluation seeds, never training seeds) with the evaluation harness,
its report written into a folder (by convention next to the exported file: ``<stem>-evaluation/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thetagym.config import dump
from thetagym.env.config import EnvConfig
from thetagym.evaluate.config import AgentSpec, EvaluationConfig, check_evaluation_config
from thetagym.evaluate.outputs import prepare_output, write_evaluation
from thetagym.evaluate.runner import evaluate
from thetagym.seeds import EVALUATION_SEED_BASE

ENV_FILE = "env.yaml"
HEADLINE = ("pnl", "theta_capture", "max_drawdown", "calmar")
"""Per-episode measures shown in the command's output and the exported file's header."""


@dataclass(frozen=True)
class ValueResult:
    """The evaluation's episodes (a row per agent and episode) and where its report is."""

    episodes: pd.DataFrame
    report: Path

    def means(self) -> pd.DataFrame:
        """Mean of the :data:`HEADLINE` measures per agent, in the agents' order."""
        order = list(dict.fromkeys(self.episodes["agent"]))
        return self.episodes.groupby("agent")[list(HEADLINE)].mean().loc[order]


def evaluation_folder(out: Path) -> Path:
    """Where the evaluation of the rule config ``out`` goes: ``<stem>-evaluation/`` beside it."""
    return out.with_name(f"{out.stem}-evaluation")


def evaluate_value(
    agents: tuple[AgentSpec, ...],
    env_config: EnvConfig,
    folder: Path,
    episodes: int = 16,
    days: int | None = None,
    seed: int = EVALUATION_SEED_BASE,
    workers: int | None = 1,
    progress: bool = False,
    force: bool = False,
) -> ValueResult:
    """Evaluate ``agents`` on ``episodes`` paths of ``env_config``'s scenario, ``days`` trading days
    each (default: the env's episode length), from evaluation seed ``seed``; write the report into
    ``folder`` (refused if not empty, unless ``force``) next to the env config used (``env.yaml``).
    ``workers`` processes run the episodes (None: one per core); ``progress`` shows a bar."""
    prepare_output(folder, force)
    env_file = folder / ENV_FILE
    env_file.write_text(dump(env_config))
    config = check_evaluation_config(
        EvaluationConfig(
            agents=agents,
            env=env_file,
            scenarios=(env_config.scenario,),
            seed=seed,
            episodes=episodes,
            days=days or env_config.episode_days,
            workers=workers,
            bootstrap_resamples=500,
        ),
        source="export evaluation",
    )
    result = evaluate(config, workers=workers, progress=progress)
    title = "thetagym export: policy, exported rules, original rules"
    report = write_evaluation(result, config, folder, title, {"seeds": f"{seed} onwards"})
    return ValueResult(result.episodes, report)
