"""The book's static description and its market, packed into flat arrays for the compiled kernels.

A kernel reads slot ``s``'s multiplier as ``slots[s, MULTIPLIER]``, layer ``l``'s cap as
``layers[l, MAX_CONTRACTS]`` and book-wide settings as ``parameters[CAPITAL]``. Codes, flags and
bar counts are stored as float64 (exact for the small integers they hold). Market series are
stacked once per :class:`~thetagym.market.path.MarketPath` (:class:`MarketArrays`) and refreshed
row by row where paths are replaced.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from thetagym.book.config import BookConfig
from thetagym.book.margin import scenario_table
from thetagym.book.positions import SCHEDULES, SlotLayout, SlotRole
from thetagym.market.calendar import TRADING_DAYS_PER_YEAR
from thetagym.market.path import MarketPath
from thetagym.pricing.instruments import InstrumentKind
from thetagym.pricing.kernels import spread_parameters

# Slot table columns.
(
    LAYER,
    KIND,
    SIGN,
    DELTA_TARGET,
    ANCHOR,
    STRIKE_OFFSET,
    OPEN_DAYS,
    NEAR_DAYS,
    SCHEDULE,
    ETP_INVERSE,
    MULTIPLIER,
    FEE,
    STANDARD_SIZE,
    IS_OPTION,
    IS_CALL,
    IS_ES,
    IS_VIX,
    IS_ETP,
    IS_FUTURE,
    IS_STRUCTURE,
    IS_COUNTER,
    STRIKE_STEP,
    NOTIONAL_FRACTION,
) = range(23)
N_SLOT_COLUMNS = 23

# Layer table columns.
(
    BIAS,
    IS_ETP_LAYER,
    ETP_INVERSE_LAYER,
    HAS_ES_OPTIONS,
    HAS_OPTIONS,
    SELLS_CALLS,
    SELLS_PUTS,
    OPEN_AT_RESET,
    MAX_CONTRACTS,
    OPEN_SIZE,
    COUNTER_SIZE,
    COUNTER_MAX,
    COUNTER_TRIGGER,
    LEG_CAP,
    COUNTER_SLOT,
    EXTRA_SLOT,
    FIRST_SLOT,
    END_SLOT,
) = range(18)
N_LAYER_COLUMNS = 18

# Book parameters.
(
    CAPITAL,
    GUARD_ENABLED,
    BOOK_MAX_CONTRACTS,
    DELTA_BAND_CONTRACTS,
    MARGIN_CAP,
    ASSIGNMENT_MIN_DELTA,
    FUTURES_ROLL_DAYS,
    VIX_BETA,
    ETP_HALF_SPREAD,
    VIX_FUTURE_HALF_SPREAD,
    SCAN_RANGE,
    SHORT_OPTION_MINIMUM,
    HEDGE_LAYER,
    BALANCER_STEP,
    BALANCER_MAX,
    HEDGE_MAX_CONTRACTS,
) = range(16)
N_PARAMETERS = 16

# Market series stacked per bar, per path, and scalars. ``rate`` and ``carry`` are per day on the
# path (one number in a simulation); a bar reads its day's (bar 0, the previous close, day 0's).
INDEX, IMPLIED_VARIANCE, LONG_VARIANCE, SKEW, VIX, VXX, INVERSE_VIX, RATE, CARRY = range(9)
PER_BAR_SERIES = ("index", "implied_variance", "long_implied_variance", "skew", "vix", "vxx", "inverse_vix")
DAILY_SERIES = ("rate", "carry")
MEAN_REVERSION, JUMP_VARIANCE, CURVATURE = range(3)
PER_PATH_SERIES = ("implied_mean_reversion", "jump_variance", "curvature")
VOL_OF_VARIANCE, BARS_PER_DAY, BARS_PER_YEAR, N_DAYS = range(4)
QUARTERLY = SCHEDULES.index("quarterly")


class BookTables(NamedTuple):
    """Everything static a kernel needs about a book: slot, layer and parameter tables, the spread
    model's parameters and the :data:`~thetagym.book.margin.N_SCENARIOS` margin scenarios
    (``underlying_factor`` ``(n_slots, N_SCENARIOS)``, ``volatility_factor`` and
    ``scenario_weight`` ``(N_SCENARIOS,)``). A record the compiled kernels read by name."""

    slots: np.ndarray
    layers: np.ndarray
    parameters: np.ndarray
    spreads: np.ndarray
    underlying_factor: np.ndarray
    volatility_factor: np.ndarray
    scenario_weight: np.ndarray


def book_tables(config: BookConfig, layout: SlotLayout) -> BookTables:
    """Pack ``config`` and ``layout`` into :class:`BookTables`."""
    slots = np.zeros((layout.n_slots, N_SLOT_COLUMNS))
    columns = {
        LAYER: layout.layer,
        KIND: layout.kind,
        SIGN: layout.sign,
        DELTA_TARGET: layout.delta_target,
        ANCHOR: layout.anchor,
        STRIKE_OFFSET: layout.strike_offset,
        OPEN_DAYS: layout.open_days,
        NEAR_DAYS: layout.near_days,
        SCHEDULE: layout.schedule,
        ETP_INVERSE: layout.etp_inverse,
        MULTIPLIER: layout.multiplier,
        FEE: layout.fee,
        STANDARD_SIZE: layout.standard_size,
        IS_OPTION: layout.is_option,
        IS_CALL: layout.is_call,
        IS_ES: layout.is_es,
        IS_VIX: layout.is_vix,
        IS_ETP: layout.is_etp,
        IS_FUTURE: layout.kind == InstrumentKind.ES_FUTURE,
        IS_STRUCTURE: layout.is_structure,
        IS_COUNTER: layout.is_counter,
        STRIKE_STEP: np.where(layout.is_vix, config.vix_strike_step, config.strike_step),
        NOTIONAL_FRACTION: notional_fractions(config, layout),
    }
    for column, values in columns.items():
        slots[:, column] = values
    kinds = [layer.kind for layer in config.layers]
    layers = np.zeros((len(kinds), N_LAYER_COLUMNS))
    starts = layout.layer_start
    for index, layer in enumerate(config.layers):
        row = {
            BIAS: layer.bias,
            IS_ETP_LAYER: layer.kind == "vix_etp",
            ETP_INVERSE_LAYER: layer.etp == "inverse_vix",
            HAS_ES_OPTIONS: layer.kind in ("call_wing", "put_wing", "condor"),
            HAS_OPTIONS: layer.kind in ("call_wing", "put_wing", "condor", "hedge"),
            SELLS_CALLS: layer.kind in ("call_wing", "condor"),
            SELLS_PUTS: layer.kind in ("put_wing", "condor"),
            OPEN_AT_RESET: layer.open_at_reset,
            MAX_CONTRACTS: layer.max_contracts,
            OPEN_SIZE: layer.open_size if layer.sizing == "contracts" else layer.open_size // layer.contracts,
            COUNTER_SIZE: layer.counter_size,
            COUNTER_MAX: layer.counter_max,
            COUNTER_TRIGGER: layer.counter_trigger,
            LEG_CAP: layer.leg_cap
            or (layer.contracts if layer.sizing == "contracts" else layer.max_contracts),
            COUNTER_SLOT: layout.counter_slot[index],
            EXTRA_SLOT: layout.extra_slot[index],
            FIRST_SLOT: starts[index],
            END_SLOT: starts[index + 1] if index + 1 < len(kinds) else layout.n_slots,
        }
        for column, value in row.items():
            layers[index, column] = value
    hedge_layer = kinds.index("hedge") if "hedge" in kinds else -1
    hedge = config.layers[hedge_layer] if hedge_layer >= 0 else None
    guard = config.guard
    parameters = np.zeros(N_PARAMETERS)
    for column, value in {
        CAPITAL: config.capital,
        GUARD_ENABLED: guard.enabled,
        BOOK_MAX_CONTRACTS: guard.book_max_contracts,
        DELTA_BAND_CONTRACTS: guard.delta_band * guard.delta_budget,
        MARGIN_CAP: guard.margin_cap,
        ASSIGNMENT_MIN_DELTA: config.assignment_min_delta,
        FUTURES_ROLL_DAYS: config.futures_roll_days,
        VIX_BETA: config.vix_beta,
        ETP_HALF_SPREAD: config.etp_half_spread,
        VIX_FUTURE_HALF_SPREAD: config.vix_future_half_spread,
        SCAN_RANGE: config.margin.scan_range,
        SHORT_OPTION_MINIMUM: config.margin.short_option_minimum,
        HEDGE_LAYER: hedge_layer,
        BALANCER_STEP: hedge.balancer_step if hedge else 0,
        BALANCER_MAX: hedge.balancer_max if hedge else 0,
        HEDGE_MAX_CONTRACTS: hedge.max_contracts if hedge else 0,
    }.items():
        parameters[column] = value
    moves, volatility_factor, weight = scenario_table(config)
    vix_move = np.maximum(config.vix_beta * moves, -0.9)
    etp_move = np.where(layout.etp_inverse[:, None], np.maximum(-vix_move, -0.95), vix_move)
    factor = np.where(layout.is_es[:, None], 1.0 + moves, 1.0 + vix_move)
    underlying_factor = np.where(layout.is_etp[:, None], 1.0 + etp_move, factor)
    return BookTables(
        slots=slots,
        layers=layers,
        parameters=parameters,
        spreads=spread_parameters(config.spreads),
        underlying_factor=np.ascontiguousarray(underlying_factor),
        volatility_factor=volatility_factor,
        scenario_weight=weight,
    )


def notional_fractions(config: BookConfig, layout: SlotLayout) -> np.ndarray:
    """Per slot, the share of equity whose notional one leg of an OPEN sells when its layer sizes by
    notional (``notional_fraction / rungs`` on the structure's slots), else 0."""
    fraction = np.array(
        [
            layer.notional_fraction / layer.rungs if layer.sizing == "notional" else 0.0
            for layer in config.layers
        ]
    )
    return np.where(layout.role == SlotRole.STRUCTURE, fraction[layout.layer], 0.0)


def bar_days(n_bars: int, bars_per_day: int) -> np.ndarray:
    """Trading day of bars ``0 ... n_bars`` (bar 0, the previous close, counts as day 0)."""
    return np.maximum(np.arange(n_bars + 1) - 1, 0) // bars_per_day


def _daily_rows(market: MarketPath, rows: np.ndarray | slice) -> np.ndarray:
    """``rate`` and ``carry`` of paths ``rows`` spread over their bars, ``(2, len(rows), n_bars + 1)``."""
    days = bar_days(market.n_bars, market.bars_per_day)
    return np.stack([market.daily_rate()[rows][:, days], market.daily_carry()[rows][:, days]])


class MarketArrays:
    """The series of one :class:`MarketPath` the kernels read, stacked: ``per_bar`` ``(9, n_paths,
    n_bars + 1)`` (the :data:`PER_BAR_SERIES`, then each bar's day's rate and carry),
    ``per_path`` ``(3, n_paths)``, ``expiries`` ``(n_paths, 3, n_days)`` (next expiry day by
    schedule code), and ``constants``: ``per_path`` (a view) followed by the scalars vol of
    variance, bars per day and per year, and days (:data:`VOL_OF_VARIANCE` ...)."""

    def __init__(self, market: MarketPath) -> None:
        self.market = market
        self.per_bar = np.concatenate(
            [
                np.stack([getattr(market, name) for name in PER_BAR_SERIES], dtype=np.float64),
                _daily_rows(market, slice(None)),
            ]
        )
        self.expiries = np.stack([market.next_expiry[name] for name in SCHEDULES], axis=1, dtype=np.int64)
        per_path = np.stack([getattr(market, name) for name in PER_PATH_SERIES], dtype=np.float64)
        scalars = [
            market.vol_of_implied_variance,
            market.bars_per_day,
            TRADING_DAYS_PER_YEAR * market.bars_per_day,
            market.n_days,
        ]
        self.constants = np.concatenate([per_path.ravel(), np.array(scalars, dtype=np.float64)])
        """The per-path series then the scalars, in one buffer."""
        self.per_path = self.constants[: per_path.size].reshape(per_path.shape)

    def matches(self, market: MarketPath) -> bool:
        """Whether these arrays were stacked from ``market`` and still have its shape."""
        return self.market is market and self.per_bar.shape[1:] == market.index.shape

    def refresh(self, rows: np.ndarray) -> None:
        """Copy paths ``rows`` again (after :meth:`MarketPath.assign` replaced them)."""
        market = self.market
        for position, name in enumerate(PER_BAR_SERIES):
            self.per_bar[position, rows] = getattr(market, name)[rows]
        self.per_bar[RATE : CARRY + 1, rows] = _daily_rows(market, rows)
        for position, name in enumerate(PER_PATH_SERIES):
            self.per_path[position, rows] = getattr(market, name)[rows]
        for position, name in enumerate(SCHEDULES):
            self.expiries[rows, position] = market.next_expiry[name][rows]
