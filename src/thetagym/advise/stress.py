"""Stress of today's book: the margin's own scenarios, named historical shocks and the index move
that would trigger a margin call.

The margin scenarios are the book's SPAN-style risk array (:func:`thetagym.book.margin.scenario_table`
with the book's per-slot underlying moves), priced from the book's marks with Black-76 as the
margin does: the requirement is their worst weighted loss, at least the short-option minimum.
Historical shocks are whole market moves (:func:`thetagym.advise.snapshot.shocked`) on which the
book's own code re-marks every leg and recomputes the margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thetagym.pricing.black76 import black76_price
from thetagym.pricing.instruments import IS_CALL, IS_OPTION


@dataclass(frozen=True)
class HistoricalShock:
    """A day (or stretch) of history as relative moves, from the closes of ``start`` and ``end``.

    The figures are closes from the shared data folder's ``spx_daily.csv``, ``vix_daily.csv`` and
    ``vix3m_daily.csv`` (Cboe; VIX3M starts in 2009-09: without it VIX3M moves as the VIX does).
    """

    name: str
    start: str
    end: str
    index_before: float
    index_after: float
    vix_before: float
    vix_after: float
    vix3m_before: float | None = None
    vix3m_after: float | None = None

    @property
    def index_move(self) -> float:
        return self.index_after / self.index_before - 1.0

    @property
    def vix_move(self) -> float:
        return self.vix_after / self.vix_before - 1.0

    @property
    def vix3m_move(self) -> float:
        if self.vix3m_before is None or self.vix3m_after is None:
            return self.vix_move
        return self.vix3m_after / self.vix3m_before - 1.0


HISTORICAL_SHOCKS = (
    HistoricalShock("2008-10", "2008-09-30", "2008-10-27", 1166.36, 848.92, 39.39, 80.06),
    HistoricalShock("2011-08-08", "2011-08-05", "2011-08-08", 1199.38, 1119.46, 32.00, 48.00, 29.59, 38.10),
    HistoricalShock("2015-08-24", "2015-08-21", "2015-08-24", 1970.89, 1893.21, 28.03, 40.74, 23.47, 31.14),
    HistoricalShock("2018-02-05", "2018-02-02", "2018-02-05", 2762.13, 2648.94, 17.31, 37.32, 17.03, 28.13),
    HistoricalShock("2020-03-16", "2020-03-13", "2020-03-16", 2711.02, 2386.13, 57.83, 82.69, 48.31, 67.70),
)
"""Named shocks: October 2008 from the September close to the month's lowest close (2008-10-27),
and the one-day moves of 2011-08-08, 2015-08-24, 2018-02-05 (the VIX doubled) and 2020-03-16."""

INDEX_GRID = tuple(round(0.025 * k, 3) for k in range(-10, 11) if k != 0)
"""Index moves (relative, surface unchanged) searched for the margin call: -25% to +25% by 2.5%
(the distance is interpolated linearly between them)."""


@dataclass(frozen=True)
class ScenarioLoss:
    """One stress row: ``name``, the ``index_move`` (relative), ``volatility`` (what happens to
    implied volatility, words), the book's ``pnl`` (USD) and, where the row re-marks the whole
    book, its ``margin_use`` after the move (requirement over equity)."""

    name: str
    index_move: float
    volatility: str
    pnl: float
    margin_use: float | None = None


def margin_scenarios(
    quantity: np.ndarray,
    strike: np.ndarray,
    kind: np.ndarray,
    multiplier: np.ndarray,
    underlying: np.ndarray,
    volatility: np.ndarray,
    time_to_expiry: np.ndarray,
    price: np.ndarray,
    rate: float,
    underlying_factor: np.ndarray,
    volatility_factor: np.ndarray,
) -> np.ndarray:
    """P&L (USD) of the book in each margin scenario, ``(n_scenarios,)``.

    Per slot (``(n_slots,)`` arrays): signed ``quantity``, ``strike`` (points), instrument
    ``kind``, ``multiplier`` (USD per point), the marks ``underlying``, ``volatility`` (decimal),
    ``time_to_expiry`` (years) and ``price``; ``underlying_factor`` ``(n_slots, n_scenarios)``
    and ``volatility_factor`` ``(n_scenarios,)`` are the scenarios' moves.
    """
    held = quantity != 0.0
    exposure = (quantity * multiplier)[held, None]
    moved = underlying[held, None] * underlying_factor[held]
    option = IS_OPTION[kind[held]]
    with np.errstate(divide="ignore", invalid="ignore"):
        repriced = black76_price(
            moved,
            strike[held, None],
            np.maximum(time_to_expiry[held, None], 0.0),
            volatility[held, None] * volatility_factor[None, :],
            IS_CALL[kind[held]][:, None],
            rate,
        )
    linear = moved - underlying[held, None]
    change = np.where(option[:, None], repriced - price[held, None], linear)
    return np.asarray((exposure * change).sum(axis=0))


def margin_call_distance(moves: np.ndarray, excess: np.ndarray) -> tuple[float | None, float | None]:
    """The smallest index fall and rise (relative, from ``moves`` sorted ascending) at which the
    margin excess ``excess`` (equity minus requirement, USD, per move) reaches zero, interpolated
    linearly between grid points; None when it does not within the grid.

    >>> margin_call_distance(np.array([-0.02, -0.01, 0.01, 0.02]), np.array([-10.0, 10.0, 30.0, 40.0]))
    (-0.015, None)
    """
    down = up = None
    below = moves < 0
    for side, order in ((below, slice(None, None, -1)), (~below, slice(None))):
        grid, values = moves[side][order], excess[side][order]
        crossed = np.flatnonzero(values <= 0.0)
        if crossed.size == 0:
            continue
        k = int(crossed[0])
        if k == 0:
            found = float(grid[0])
        else:
            a, b = values[k - 1], values[k]
            found = float(grid[k - 1] + (grid[k] - grid[k - 1]) * a / (a - b))
        if side is below:
            down = found
        else:
            up = found
    return down, up
