"""Every disk-cached kernel has one signature once the env has run: numba numbers a function's
cached overloads per process, so two processes compiling different overloads at once could mix up
each other's cache entries."""

from __future__ import annotations

import numba

import thetagym.book.compiled.buffers
import thetagym.book.compiled.step
import thetagym.env.kernels
import thetagym.market.kernels
import thetagym.pricing.kernels
from thetagym.env.warm_up import compile_kernels

MODULES = (
    thetagym.book.compiled.buffers,
    thetagym.book.compiled.step,
    thetagym.env.kernels,
    thetagym.market.kernels,
    thetagym.pricing.kernels,
)


def test_each_cached_kernel_has_one_signature_after_the_warm_up() -> None:
    compile_kernels()
    cached = {
        f"{module.__name__}.{name}": kernel
        for module in MODULES
        for name, kernel in vars(module).items()
        if isinstance(kernel, numba.core.registry.CPUDispatcher)
        and kernel._cache.__class__.__name__ != "NullCache"
    }
    assert "thetagym.env.kernels.run" in cached and "thetagym.env.kernels.run_parallel" in cached
    assert "thetagym.book.compiled.step.masks" in cached and "thetagym.book.compiled.step.step" in cached
    assert {
        name: len(kernel.signatures) for name, kernel in cached.items() if len(kernel.signatures) != 1
    } == {}
