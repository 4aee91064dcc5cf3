"""What the export is worth: the policy, the exported rules and the original rules evaluated on
common held-out market paths (evaluation seeds, never training seeds) with the evaluation harness,
its report written into an output folder (by default ``reports/export-<stem>/``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thetagym.config import dump
from thetagym.env.config import EnvConfig
from thetagym.evaluate.config import AgentSpec, EvaluationConfig, check_evaluation_config
from thetagym.evaluate.outputs import REPORT_FILE, write_evaluation
from thetagym.evaluate.runner import evaluate
from thetagym.outputs import REPORTS_FOLDER, OutputFolder
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
    """Where the evaluation of the rule config ``out`` goes by default: ``reports/export-<stem>``
    (``-2``, ``-3``, ... when taken)."""
    return REPORTS_FOLDER / f"export-{out.stem}"


def evaluate_value(
    agents: tuple[AgentSpec, ...],
    env_config: EnvConfig,
    folder: OutputFolder,
    episodes: int = 16,
    days: int | None = None,
    seed: int = EVALUATION_SEED_BASE,
    workers: int | None = 1,
    progress: bool = False,
) -> ValueResult:
    """Evaluate ``agents`` on ``episodes`` paths of ``env_config``'s scenario, ``days`` trading days
    each (default: the env's episode length), from evaluation seed ``seed``; write the report into
    the claimed output ``folder`` next to the env config used (``env.yaml``)."""
    env_file = folder.file(ENV_FILE)
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
    written = dataclasses.replace(config, env=folder.final(ENV_FILE).resolve())
    write_evaluation(result, written, folder.staging, title, {"seeds": f"{seed} onwards"})
    return ValueResult(result.episodes, folder.final(REPORT_FILE))
