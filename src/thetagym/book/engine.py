"""The book: leg arrays over ``(num_envs, max_legs)``, cash, trading, settlement and margin.

Accounting: every leg is held at its price, futures at notional (buying one ES future pays its
price times $50 in cash), so ``equity = cash + sum(quantity * multiplier * mid)`` holds for every
instrument. Interest: at each day's close the cash balance, with futures marked to market (the
cash a real account holds: premium received in, variation margin in or out), earns the day's rate
over 1/252 of a year, ``balance * rate / 252``, as the T-bills a cash-secured put-writer holds as
collateral would; a negative balance pays the same rate. Equity includes the interest. Trades pay the bid or ask (:mod:`thetagym.pricing.spreads`) plus fees; the distance
from mid plus fees is the step's ``costs``. The work is done by the compiled kernels of
:mod:`thetagym.book.compiled`, one loop over envs per call; this class owns the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from thetagym.book.actions import N_BALANCER_ACTIONS, N_LAYER_ACTIONS, out_of_range
from thetagym.book.attribution import ATTRIBUTION
from thetagym.book.compiled import step as kernels
from thetagym.book.compiled.buffers import (
    Aggregates,
    Packed,
    StepOutputs,
    pack_static,
    state_sizes,
    state_views,
)
from thetagym.book.compiled.contracts import NEVER_EXPIRES
from thetagym.book.compiled.tables import MarketArrays, book_tables
from thetagym.book.config import BookConfig
from thetagym.book.positions import Legs, SlotLayout
from thetagym.book.valuation import Marks
from thetagym.book.view import BookView, book_view, live_legs, record, static_legs
from thetagym.market.path import MarketPath

__all__ = ["ATTRIBUTION", "NEVER_EXPIRES", "Book", "StepResult"]

PARALLEL_MIN_ENVS = 16
"""Envs per thread below which a step runs on one thread (a parallel call costs ~10 us more)."""


@dataclass(frozen=True)
class StepResult:
    """What one step did, arrays over ``num_envs`` (and layers). USD unless stated.

    ``attribution`` is ``(num_envs, n_layers, 8)`` with columns :data:`ATTRIBUTION`; summed over
    layers and columns it equals ``pnl``. ``executed`` holds the actions actually done (illegal
    choices replaced by HOLD, counted in ``blocked``; ``adds_blocked`` counts blocked OPENs of the
    opposite wing while the book was out of delta balance).

    ``interest`` is the interest credited in the step (USD; nonzero only on a step that ends at a
    day's close) and ``cash_rate`` the rate the cash earns on the day the step ends in (per year,
    a fraction: the market path's rate of that day). Measures take a day's return over what the
    equity would have earned in cash at that rate (:func:`thetagym.measures.excess_returns`).
    """

    equity: np.ndarray
    cash: np.ndarray
    pnl: np.ndarray
    theta_accrued: np.ndarray
    attribution: np.ndarray
    blocked: np.ndarray
    executed: np.ndarray
    margin_requirement: np.ndarray
    margin_call: np.ndarray
    gross_contracts: np.ndarray
    layer_contracts: np.ndarray
    rolls: np.ndarray
    assignments: np.ndarray
    counter_trades: np.ndarray
    adds_blocked: np.ndarray
    interest: np.ndarray
    cash_rate: np.ndarray


class Book:
    """A batch of ``num_envs`` independent books sharing one :class:`BookConfig`.

    Market path row ``i`` belongs to env ``i``. ``action_nvec`` is ``[8] * n_layers + [4]``. The
    book reads a market's series from a stacked copy made when it first sees the market object
    and refreshed, row by row, by :meth:`reset`: replace paths only through
    :meth:`MarketPath.assign` followed by :meth:`reset` of those rows.
    """

    def __init__(self, config: BookConfig, num_envs: int) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.config = config
        self.num_envs = num_envs
        self.layout = SlotLayout.from_config(config)
        self.tables = book_tables(config, self.layout)
        self.n_layers = len(config.layers)
        self.action_nvec = np.array([N_LAYER_ACTIONS] * self.n_layers + [N_BALANCER_ACTIONS], dtype=np.int64)
        self._shape = np.array(
            [num_envs, config.max_legs, self.n_layers, self.layout.n_slots], dtype=np.int64
        )
        self._static = pack_static(self.tables)
        n_values, n_indices = state_sizes(tuple(self._shape))
        self._values = np.zeros(n_values)
        self._indices = np.zeros(n_indices, dtype=np.int64)
        state = state_views.py_func(self._values, self._indices, self._shape)
        self.cash, self.reference, self.margin_requirement = (
            state.cash,
            state.reference,
            state.margin_requirement,
        )
        self.mark_bar, self.mark_index = state.mark_bar, state.mark_index
        self.legs = Legs(
            state.strike, state.expiry_bar, state.underlying_bar, state.quantity, state.entry_price
        )
        self.cash[:] = config.capital
        self.mark_bar[:] = -1
        self.mark_index[:] = 1.0
        self.marks = Marks(*state.marks)
        """Per-slot marks at ``mark_bar`` (views of the state buffer the kernels write); only slots
        holding contracts are marked each bar, empty slots keep their last marks."""
        self._static_legs = static_legs(self.layout, self.legs.quantity.shape)
        self._live_legs = live_legs(self.legs)
        self._market: MarketArrays | None = None
        self._packed: tuple[np.ndarray, ...] = ()
        self._bars_per_day = 1

    # ----------------------------------------------------------------------------- state access
    @property
    def quantity(self) -> np.ndarray:
        """Signed contracts of the layout's slots, ``(num_envs, n_slots)`` (a writable view)."""
        return self.legs.quantity[:, : self.layout.n_slots]

    @property
    def strike(self) -> np.ndarray:
        return self.legs.strike[:, : self.layout.n_slots]

    @property
    def expiry_bar(self) -> np.ndarray:
        return self.legs.expiry_bar[:, : self.layout.n_slots]

    @property
    def underlying_bar(self) -> np.ndarray:
        return self.legs.underlying_bar[:, : self.layout.n_slots]

    @property
    def entry_price(self) -> np.ndarray:
        return self.legs.entry_price[:, : self.layout.n_slots]

    def equity(self) -> np.ndarray:
        """Cash plus mark-to-market at mid, USD, ``(num_envs,)``."""
        return self._aggregate().totals[:, kernels.BOOK_EQUITY]

    def view(self) -> BookView:
        """Read-only aggregates at the last marked bar."""
        return self.view_of(self._aggregate())

    def _aggregate(self) -> Aggregates:
        aggregates = self.new_aggregates()
        kernels.aggregate(
            self._static,
            self._values,
            self._indices,
            self._shape,
            float(self._bars_per_day),
            tuple(aggregates),
        )
        return aggregates

    def new_aggregates(self) -> Aggregates:
        """Empty :class:`~thetagym.book.compiled.buffers.Aggregates` for the aggregate kernels."""
        n, layers = self.num_envs, self.n_layers
        return Aggregates(
            np.empty((n, kernels.N_SUMS, layers)),
            np.empty((n, len(kernels.NEAREST), layers)),
            np.empty((n, len(kernels.NET))),
            np.empty((n, layers), dtype=bool),
            np.empty((n, kernels.N_BOOK_TOTALS)),
        )

    def view_of(self, aggregates: Aggregates, legs: dict[str, np.ndarray] | None = None) -> BookView:
        """A :class:`BookView` of ``aggregates`` (as :meth:`new_aggregates`, filled by the kernels;
        made read-only) and ``legs`` (:meth:`detached_legs`; None: views of the live legs)."""
        sums, nearest, net, is_open, totals = aggregates
        return book_view(
            sums,
            nearest,
            net,
            is_open,
            totals[:, kernels.BOOK_CASH],
            totals[:, kernels.BOOK_EQUITY],
            totals[:, kernels.BOOK_MARGIN_REQUIREMENT],
            self._live_legs if legs is None else legs,
            self._static_legs,
        )

    def detached_legs(self) -> dict[str, np.ndarray]:
        """Read-only copies of the live leg arrays a :class:`BookView` shows (for :meth:`view_of`)."""
        copies = {name: np.array(array) for name, array in self._live_legs.items()}
        for array in copies.values():
            array.setflags(write=False)
        return copies

    def packed(self, market: MarketPath) -> tuple[np.ndarray, ...]:
        """The buffers a kernel call carries, a plain tuple in the order of
        :class:`~thetagym.book.compiled.buffers.Packed`: the static tables, the stacked copy of
        ``market`` (made on first sight of the object) and the state buffers."""
        if self._market is None or not self._market.matches(market):
            if market.n_paths < self.num_envs:
                raise ValueError(f"the market has {market.n_paths} paths for {self.num_envs} envs")
            self._market = arrays = MarketArrays(market)
            self._bars_per_day = market.bars_per_day
            packed = Packed(
                self._static,
                arrays.per_bar,
                arrays.expiries,
                arrays.constants,
                self._values,
                self._indices,
                self._shape,
            )
            self._packed = tuple(packed)
        return self._packed

    def refresh_market(self, rows: np.ndarray, market: MarketPath) -> None:
        """Copy paths ``rows`` of ``market`` again into the stacked copy, if it is the market the
        book has seen (after :meth:`MarketPath.assign` replaced them), before resetting ``rows``."""
        if self._market is not None and self._market.matches(market):
            self._market.refresh(rows)

    def parallel_chunks(self) -> int:
        """Parallel chunks of envs for a kernel call: 1 below ``2 * PARALLEL_MIN_ENVS`` envs."""
        n = self.num_envs
        return min(numba.get_num_threads(), n // PARALLEL_MIN_ENVS) if n >= 2 * PARALLEL_MIN_ENVS else 1

    # ---------------------------------------------------------------------------------- reset
    def reset(self, rows: np.ndarray, market: MarketPath, bars: np.ndarray) -> None:
        """Clear envs ``rows`` and open each ``open_at_reset`` layer's structure at bars ``bars``
        at mid (no costs); cash starts at ``capital``."""
        rows = np.array(rows, dtype=np.int64).reshape(-1)
        bars = np.array(np.broadcast_to(np.asarray(bars, dtype=np.int64), rows.shape))
        self.refresh_market(rows, market)
        kernels.reset(self.packed(market), rows, bars)

    # ------------------------------------------------------------------------------------ masks
    def action_masks(self, market: MarketPath, bars: np.ndarray) -> np.ndarray:
        """Legal actions, ``(num_envs, sum(action_nvec))`` bool, parts concatenated (MaskablePPO)."""
        legal = self.new_legal()
        bars = np.array(bars, dtype=np.int64).reshape(self.num_envs)
        kernels.masks(self.packed(market), bars, legal, self.parallel_chunks())
        return flat_masks(legal)

    def new_legal(self) -> np.ndarray:
        """An empty table of legal choices ``(num_envs, n_layers + 1, 8)`` for the mask kernels."""
        return np.zeros((self.num_envs, self.n_layers + 1, N_LAYER_ACTIONS), dtype=bool)

    # ------------------------------------------------------------------------------------- step
    def step(self, actions: np.ndarray, market: MarketPath, bars: np.ndarray) -> StepResult:
        """Apply ``actions`` (``(num_envs, n_layers + 1)`` ints) at ``bars`` and advance one bar, in
        the order of events of :func:`thetagym.book.compiled.step.step_envs`. A choice outside its
        part's range raises ValueError naming it, and nothing steps."""
        n = self.num_envs
        bars = np.array(bars, dtype=np.int64).reshape(n)  # owned copies: one kernel signature
        actions = np.array(actions, dtype=np.int64).reshape(n, self.n_layers + 1)
        outputs = self.new_step_outputs()
        if not kernels.step(self.packed(market), actions, bars, tuple(outputs), self.parallel_chunks()):
            raise out_of_range(actions, self.action_nvec)
        return step_result(outputs)

    def new_step_outputs(self) -> StepOutputs:
        """Empty :class:`~thetagym.book.compiled.buffers.StepOutputs` (for :func:`step_result`)."""
        n, layers = self.num_envs, self.n_layers
        return StepOutputs(
            np.empty((n, kernels.N_TOTALS)),
            np.empty((n, layers, len(ATTRIBUTION))),
            np.empty((n, layers)),
            np.empty((n, layers + 1), dtype=np.int64),
            np.empty((n, kernels.N_COUNTS), dtype=np.int64),
        )


def flat_masks(legal: np.ndarray) -> np.ndarray:
    """The action masks ``(num_envs, sum(action_nvec))`` of a table of legal choices ``(num_envs,
    n_layers + 1, 8)``: each layer's 8 choices, then the balancer's 4."""
    n_envs, n_layers = legal.shape[0], legal.shape[1] - 1
    layer_part = legal[:, :n_layers, :].reshape(n_envs, -1)
    return np.concatenate((layer_part, legal[:, n_layers, :N_BALANCER_ACTIONS]), axis=1)


def step_result(outputs: StepOutputs) -> StepResult:
    """The :class:`StepResult` of a step kernel's ``outputs`` (:meth:`Book.new_step_outputs`,
    filled), holding views of them."""
    totals, attribution, layer_contracts, executed, counts = outputs
    return record(
        StepResult,
        {
            "equity": totals[:, kernels.EQUITY],
            "cash": totals[:, kernels.CASH],
            "pnl": totals[:, kernels.PNL],
            "theta_accrued": totals[:, kernels.THETA_ACCRUED],
            "attribution": attribution,
            "blocked": counts[:, kernels.BLOCKED],
            "executed": executed,
            "margin_requirement": totals[:, kernels.MARGIN_REQUIREMENT],
            "margin_call": counts[:, kernels.MARGIN_CALL].astype(bool),
            "gross_contracts": totals[:, kernels.GROSS_CONTRACTS],
            "layer_contracts": layer_contracts,
            "rolls": counts[:, kernels.ROLLS],
            "assignments": counts[:, kernels.ASSIGNMENTS],
            "counter_trades": counts[:, kernels.COUNTER_TRADES],
            "adds_blocked": counts[:, kernels.ADDS_BLOCKED],
            "interest": totals[:, kernels.INTEREST],
            "cash_rate": totals[:, kernels.CASH_RATE],
        },
    )
