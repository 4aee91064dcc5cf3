"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [block.strip() for block in blocks]


def test_readme_opens_with_install_and_main_job_then_install_and_tests() -> None:
    main_job, tests = readme_commands()[:2]
    install = 'python -m pip install -c constraints.txt -e ".[dev]"'
    assert main_job.startswith(install) and "thetagym " in main_job
    assert tests.startswith(install) and "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    tests = readme_commands()[1]
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_constraints_pin_the_cpu_torch_build() -> None:
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if not line.startswith("#")]
    assert "torch==2.13.0" in pins


def test_readme_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of the README runs as written (replay examples need the shared data)."""
    from thetagym.market.replay import has_shared_data

    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        if "shared_data_dir()" in block and not has_shared_data():
            continue  # the replay example reads ../shared/data, absent here
        exec(compile(block, "README.md", "exec"), {})
