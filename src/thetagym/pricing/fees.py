"""Commissions per contract, exchange and clearing fees included.

Defaults follow the published figures of about $2-3 a side per ES future and $1-2.50 per option
contract (``docs/market.md#fees``); the fees of VIX contracts and ETP shares are assumptions in
line with common retail-broker schedules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from thetagym.config import setting
from thetagym.pricing.instruments import InstrumentKind

MAX_FEE = 1_000.0
"""Largest fee per contract and side, USD: retail ES option commissions are 1 to 3 USD."""

__all__ = ["FeeSchedule", "fees"]


@dataclass(frozen=True)
class FeeSchedule:
    """USD charged per contract (or share) traded, per side, all exchange and clearing fees in."""

    es_option: float = setting(2.0, ge=0.0, le=MAX_FEE, doc="USD per ES option contract, per side")
    es_future: float = setting(2.5, ge=0.0, le=MAX_FEE, doc="USD per ES futures contract, per side")
    vix_future: float = setting(2.5, ge=0.0, le=MAX_FEE, doc="USD per VIX futures contract, per side")
    vix_option: float = setting(1.5, ge=0.0, le=MAX_FEE, doc="USD per VIX option contract, per side")
    etp_share: float = setting(0.005, ge=0.0, le=1.0, doc="USD per ETP share, per side")

    @functools.cached_property
    def per_unit(self) -> npt.NDArray[np.float64]:
        """USD per contract (or share) indexed by :class:`InstrumentKind` code (read-only)."""
        by_kind = {
            InstrumentKind.ES_CALL: self.es_option,
            InstrumentKind.ES_PUT: self.es_option,
            InstrumentKind.ES_FUTURE: self.es_future,
            InstrumentKind.VIX_FUTURE: self.vix_future,
            InstrumentKind.VIX_CALL: self.vix_option,
            InstrumentKind.ETP_SHARE: self.etp_share,
        }
        array = np.array([by_kind[kind] for kind in InstrumentKind], dtype=float)
        array.setflags(write=False)
        return array


def fees(
    schedule: FeeSchedule, instrument_kind: npt.ArrayLike, quantity: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """USD fees of trading ``quantity`` contracts (or shares) of each ``instrument_kind``.

    Args:
        schedule: the fee schedule.
        instrument_kind: int :class:`InstrumentKind` codes, any shape.
        quantity: contracts (shares for ETPs) traded, signed (buys > 0, sells < 0), broadcasting
            with ``instrument_kind``; fees are charged on the absolute quantity.

    Returns:
        Fees in USD, >= 0, broadcast shape of the inputs.

    >>> kinds = np.array([InstrumentKind.ES_PUT, InstrumentKind.ES_FUTURE, InstrumentKind.ETP_SHARE])
    >>> fees(FeeSchedule(), kinds, [-3, 1, 200])
    array([6. , 2.5, 1. ])
    """
    return schedule.per_unit[np.asarray(instrument_kind, dtype=np.intp)] * np.abs(quantity)
