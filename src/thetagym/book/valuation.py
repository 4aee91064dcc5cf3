"""The marks of the book's legs: underlying, volatility, time to expiry, mid price and Greeks.

ES options are Black-76 on the ES future of the quarterly expiry they exercise into, at the
surface's implied volatility; ES futures are that future; VIX calls are Black-76 on the VIX
future of their expiry; ETP shares are ``path.vxx`` or ``path.inverse_vix``. Non-options get delta 1
and no gamma, vega or theta. The compiled kernels (:mod:`thetagym.book.compiled.contracts`)
compute them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Marks:
    """Per-leg market state, ``(n_envs, n_slots)``: ``underlying`` (points or USD per share),
    ``volatility`` (decimal), ``time_to_expiry`` (years) and the Black-76 price and Greeks."""

    underlying: np.ndarray
    volatility: np.ndarray
    time_to_expiry: np.ndarray
    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
