"""The output folder of a tuning run, claimed before anything heavy is imported."""

from __future__ import annotations

from pathlib import Path

from thetagym.outputs import OutputFolder

STUDY_FILE = "study.db"
"""The Optuna study (SQLite), written in place so that an interrupted run resumes from it."""


def tune_folder(out: Path, resume: bool, local_study: bool = True) -> OutputFolder:
    """Claim the output folder ``out``: a used one only with ``resume``, and then, when the study
    is kept in the folder (``local_study``), it must hold one to continue."""
    folder = OutputFolder(
        out,
        replace=resume,
        refusal="choose another --out, or pass --resume to continue the study in it",
        resume_file=STUDY_FILE if local_study else None,
    )
    folder.claim()
    return folder
