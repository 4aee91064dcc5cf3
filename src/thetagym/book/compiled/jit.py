"""The compiler settings every book kernel shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

kernel: Callable[[Callable[..., Any]], Any] = numba.njit(cache=True, error_model="numpy")
"""Compile a function with numba: cached on disk, and IEEE division (x / 0 is inf or NaN, as in
numpy) instead of Python's ZeroDivisionError.

Each kernel is compiled for one signature per process: :class:`~thetagym.book.Book` hands them
owned, contiguous int64/float64/bool arrays only (numba numbers a function's cached overloads per
process, so two processes compiling different overloads at once could mix up cache entries)."""
parallel_kernel: Callable[[Callable[..., Any]], Any] = numba.njit(
    cache=True, error_model="numpy", parallel=True
)
"""As :data:`kernel`, with ``numba.prange`` loops run on numba's thread pool."""
