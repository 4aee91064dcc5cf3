"""The compiler settings every book kernel shares."""

from __future__ import annotations

import numba

kernel = numba.njit(cache=True, error_model="numpy")
"""Compile a function with numba: cached on disk, and IEEE division (x / 0 is inf or NaN, as in
numpy) instead of Python's ZeroDivisionError."""
parallel_kernel = numba.njit(cache=True, error_model="numpy", parallel=True)
"""As :data:`kernel`, with ``numba.prange`` loops run on numba's thread pool."""
