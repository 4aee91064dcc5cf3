"""Instrument kind codes and their contract terms, as arrays indexed by kind.

Positions elsewhere in thetagym store an ``int`` kind per leg; look-ups such as
``MULTIPLIER[kind]`` then vectorise over any array of kinds. The arrays are read-only.

>>> int(InstrumentKind.VIX_FUTURE), float(MULTIPLIER[InstrumentKind.VIX_FUTURE])
(3, 1000.0)
>>> kind = np.array([InstrumentKind.ES_CALL, InstrumentKind.ES_PUT, InstrumentKind.ETP_SHARE])
>>> MULTIPLIER[kind], IS_OPTION[kind], IS_CALL[kind]
(array([50., 50.,  1.]), array([ True,  True, False]), array([ True, False, False]))
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["IS_CALL", "IS_OPTION", "MULTIPLIER", "NUM_KINDS", "InstrumentKind"]


class InstrumentKind(IntEnum):
    """What a position holds; the value is the index into the arrays of this module."""

    ES_CALL = 0
    """Call on the ES future (CME), one future per contract."""
    ES_PUT = 1
    """Put on the ES future (CME), one future per contract."""
    ES_FUTURE = 2
    """E-mini S&P 500 future (CME)."""
    VIX_FUTURE = 3
    """VIX future (CFE)."""
    VIX_CALL = 4
    """VIX call (Cboe), European, cash-settled."""
    ETP_SHARE = 5
    """One share of a VIX exchange-traded product (VXX-like or inverse)."""


NUM_KINDS = len(InstrumentKind)


def _by_kind(values: dict[InstrumentKind, float | bool], dtype: type) -> npt.NDArray[Any]:
    array: npt.NDArray[Any] = np.array([values[kind] for kind in InstrumentKind], dtype=dtype)
    array.setflags(write=False)
    return array


MULTIPLIER: npt.NDArray[np.float64] = _by_kind(
    {
        InstrumentKind.ES_CALL: 50.0,  # USD per index point (docs/market.md#contracts)
        InstrumentKind.ES_PUT: 50.0,
        InstrumentKind.ES_FUTURE: 50.0,
        InstrumentKind.VIX_FUTURE: 1000.0,  # USD per VIX point
        InstrumentKind.VIX_CALL: 100.0,  # USD per VIX point
        InstrumentKind.ETP_SHARE: 1.0,  # USD per USD of share price
    },
    float,
)
"""USD value of one unit of price, per contract (or share), indexed by kind."""

IS_OPTION: npt.NDArray[np.bool_] = _by_kind(
    {
        InstrumentKind.ES_CALL: True,
        InstrumentKind.ES_PUT: True,
        InstrumentKind.ES_FUTURE: False,
        InstrumentKind.VIX_FUTURE: False,
        InstrumentKind.VIX_CALL: True,
        InstrumentKind.ETP_SHARE: False,
    },
    bool,
)
"""True where the kind is an option, indexed by kind."""

IS_CALL: npt.NDArray[np.bool_] = _by_kind(
    {
        InstrumentKind.ES_CALL: True,
        InstrumentKind.ES_PUT: False,
        InstrumentKind.ES_FUTURE: False,
        InstrumentKind.VIX_FUTURE: False,
        InstrumentKind.VIX_CALL: True,
        InstrumentKind.ETP_SHARE: False,
    },
    bool,
)
"""True where the kind is a call option, indexed by kind (False for puts and non-options)."""
