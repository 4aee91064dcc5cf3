"""A first run's kernel compilation, said out loud.

The compiled kernels are cached on disk after their first compilation, which takes about 40 s on
two cores for one env and 90 s for everything (the vector env's threads, the book alone). The
commands that run the env call :func:`compile_if_cold` first, so that a first run after
installing or upgrading says what it is doing instead of sitting silent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

ENV_KERNEL_CACHE = Path(__file__).parents[1] / "env" / "__pycache__"
"""Where numba caches the env's compiled step (beside :mod:`thetagym.env.kernels`)."""


def cache_is_cold(cache: Path = ENV_KERNEL_CACHE) -> bool:
    """Whether the env's compiled step is missing from a cache beside the sources. False when the
    package folder is read-only: numba then caches elsewhere, and this cannot tell."""
    if not os.access(cache.parent, os.W_OK):
        return False
    return not any(cache.glob("kernels.run-*.nbi"))


def compile_if_cold(parallel: bool = True) -> None:
    """Compile the cached kernels now, with a note on standard error, if the cache is cold; without
    ``parallel``, only what one env needs (:func:`~thetagym.env.warm_up.compile_kernels`)."""
    if not cache_is_cold():
        return
    click.echo(
        "thetagym: compiling the simulation kernels, once after installing or upgrading "
        f"({'about 90 s' if parallel else 'about 40 s'} on 2 cores)...",
        err=True,
    )
    start = time.perf_counter()
    from thetagym.env.warm_up import compile_kernels

    compile_kernels(parallel=parallel, book=parallel)
    click.echo(f"thetagym: kernels compiled and cached in {time.perf_counter() - start:.0f} s", err=True)
