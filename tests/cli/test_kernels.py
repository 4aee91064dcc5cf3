"""A cold kernel cache is compiled up front with a note on standard error; a warm one is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from thetagym.cli import kernels
from thetagym.env import warm_up


def test_a_cache_without_the_env_run_is_cold(tmp_path: Path) -> None:
    cache = tmp_path / "__pycache__"
    assert kernels.cache_is_cold(cache)
    cache.mkdir()
    (cache / "kernels.run_parallel-400.py311.nbi").touch()
    assert kernels.cache_is_cold(cache)
    (cache / "kernels.run-343.py311.nbi").touch()
    assert not kernels.cache_is_cold(cache)


def test_the_package_cache_is_warm_once_the_env_has_run() -> None:
    warm_up.compile_kernels()  # loads (or compiles) and writes the cache beside the sources
    assert not kernels.cache_is_cold()


@pytest.mark.parametrize("cold", [True, False])
def test_compile_if_cold_compiles_and_says_so_only_when_cold(
    cold: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(kernels, "cache_is_cold", lambda: cold)
    monkeypatch.setattr(warm_up, "compile_kernels", lambda **_: calls.append("compiled"))
    kernels.compile_if_cold()
    err = capsys.readouterr().err
    assert calls == (["compiled"] if cold else [])
    assert ("compiling the simulation kernels" in err) is cold
    assert ("kernels compiled and cached in" in err) is cold
