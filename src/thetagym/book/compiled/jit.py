"""The compiler settings every book kernel shares.

Every kernel uses IEEE division (x / 0 is inf or NaN, as in numpy) instead of Python's
ZeroDivisionError. Only the entry points, the kernels :class:`~thetagym.book.Book` calls from
Python, are cached on disk; each is called with one signature (owned, contiguous int64, float64
and bool arrays). The kernels they call compile with them and are not cached on their own: a
helper called with two array layouts has two overloads, and numba numbers a function's cached
overloads per process, so two processes compiling them in a different order at once (test
workers, evaluation workers on a fresh install) could mix up each other's cache entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba

Decorator = Callable[[Callable[..., Any]], Any]

_NO_WRAPPER: dict[str, Any] = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}
"""Options of a kernel nothing calls from Python or C (numba's stubs do not list them)."""
kernel: Decorator = numba.njit(error_model="numpy", **_NO_WRAPPER)
"""A kernel called from other kernels (compiled with them, not cached on its own). It gets no
wrapper for calls from Python or C: a wrapper boxes and unboxes every array of every record
argument, and numba compiles it with the kernel whether anything calls it or not."""
inline_kernel: Decorator = numba.njit(error_model="numpy", inline="always", **_NO_WRAPPER)
"""A kernel with one caller in each entry point, compiled into that caller (numba inlines its
code before typing). A kernel of its own is optimised and compiled to machine code once alone and
again inside every kernel that calls it, a cost that grows with the depth of the call tree (most
of a first run's compilation); :data:`kernel` stays for what several places call. Not for code
inside a ``numba.prange`` loop, whose analysis rejects some inlined code: a parallel loop calls a
:data:`kernel`."""
_NO_C_WRAPPER: dict[str, Any] = {"no_cfunc_wrapper": True}
entry_kernel: Decorator = numba.njit(cache=True, error_model="numpy", **_NO_C_WRAPPER)
"""A kernel called from Python: cached on disk."""
parallel_entry_kernel: Decorator = numba.njit(cache=True, error_model="numpy", parallel=True, **_NO_C_WRAPPER)
"""As :data:`entry_kernel`, with ``numba.prange`` loops run on numba's thread pool."""

KERNEL_SOURCES = (
    *sorted(Path(__file__).parent.glob("*.py")),
    Path(__file__).parents[2] / "pricing" / "kernels.py",
    Path(__file__).parents[2] / "market" / "kernels.py",
)
"""The files compiled into the entry points."""


def drop_stale_cache(
    cache: Path = Path(__file__).parent / "__pycache__", sources: tuple[Path, ...] = KERNEL_SOURCES
) -> bool:
    """Delete the entry points' cached code in ``cache`` if any of ``sources`` (the files compiled
    into them) changed since it was written; returns whether it did. Numba checks only the entry
    point's own file, so an edit of a kernel it calls would otherwise run stale code."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    stamp = cache / "kernel-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    for path in (*cache.glob("*.nbi"), *cache.glob("*.nbc")):
        path.unlink(missing_ok=True)
    try:
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: numba caches elsewhere, keyed by file stamps
        pass
    return True


drop_stale_cache()
