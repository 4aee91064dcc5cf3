"""The book's arrays packed into a few flat buffers, so a kernel call crosses from Python to
compiled code with a handful of arguments (each array argument costs about half a microsecond).

``values`` (float64) and ``indices`` (int64) hold the live state; ``shape`` is ``(num_envs,
max_legs, n_layers, n_slots)``. :func:`state_views` cuts them into the arrays the kernels and the
:class:`~thetagym.book.Book` use, in the order of :data:`STATE`; :func:`static_views` does the
same for the :class:`~thetagym.book.compiled.tables.BookTables` buffer, :func:`market_views` for
a market's constants. Called from Python they return numpy views of the same memory.
"""

from __future__ import annotations

import numpy as np

from thetagym.book.compiled.jit import entry_kernel, kernel
from thetagym.book.compiled.tables import N_LAYER_COLUMNS, N_SLOT_COLUMNS, PER_PATH_SERIES
from thetagym.book.margin import N_SCENARIOS

STATE = (
    "quantity",  # (n_envs, max_legs) signed contracts
    "strike",  # (n_envs, max_legs) points
    "expiry_bar",  # (n_envs, max_legs)
    "underlying_bar",  # (n_envs, max_legs)
    "entry_price",  # (n_envs, max_legs)
    "cash",  # (n_envs,) USD
    "reference",  # (n_envs, n_layers) underlying when each layer opened
    "margin_requirement",  # (n_envs,) USD
    "marks",  # (8, n_envs, n_slots), MARK_FIELDS
    "mark_bar",  # (n_envs,)
    "mark_index",  # (n_envs,) index level at mark_bar
)
N_MARK_FIELDS = 8
N_PER_PATH = len(PER_PATH_SERIES)


def state_sizes(shape: tuple[int, int, int, int]) -> tuple[int, int]:
    """Lengths of the ``values`` and ``indices`` buffers for ``shape``."""
    n_envs, max_legs, n_layers, n_slots = shape
    return n_envs * (3 * max_legs + 3 + n_layers + N_MARK_FIELDS * n_slots), n_envs * (2 * max_legs + 1)


@entry_kernel
def state_views(values, indices, shape):
    """The state arrays (:data:`STATE` order) cut from the ``values`` and ``indices`` buffers."""
    n, legs, layers, slots = shape[0], shape[1], shape[2], shape[3]
    quantity = values[: n * legs].reshape((n, legs))
    strike = values[n * legs : 2 * n * legs].reshape((n, legs))
    entry_price = values[2 * n * legs : 3 * n * legs].reshape((n, legs))
    at = 3 * n * legs
    cash = values[at : at + n]
    reference = values[at + n : at + n + n * layers].reshape((n, layers))
    at += n + n * layers
    margin_requirement = values[at : at + n]
    marks = values[at + n : at + n + N_MARK_FIELDS * n * slots].reshape((N_MARK_FIELDS, n, slots))
    at += n + N_MARK_FIELDS * n * slots
    mark_index = values[at : at + n]
    expiry_bar = indices[: n * legs].reshape((n, legs))
    underlying_bar = indices[n * legs : 2 * n * legs].reshape((n, legs))
    mark_bar = indices[2 * n * legs : 2 * n * legs + n]
    return (
        quantity,
        strike,
        expiry_bar,
        underlying_bar,
        entry_price,
        cash,
        reference,
        margin_requirement,
        marks,
        mark_bar,
        mark_index,
    )


@kernel
def static_views(static, n_slots, n_layers):
    """(slots, layers, parameters, spreads, underlying_factor, volatility_factor, scenario_weight)
    cut from a buffer made by :func:`pack_static`."""
    n_parameters, n_spreads = int(static[0]), int(static[1])
    at = 2
    slots = static[at : at + n_slots * N_SLOT_COLUMNS].reshape((n_slots, N_SLOT_COLUMNS))
    at += n_slots * N_SLOT_COLUMNS
    layers = static[at : at + n_layers * N_LAYER_COLUMNS].reshape((n_layers, N_LAYER_COLUMNS))
    at += n_layers * N_LAYER_COLUMNS
    parameters = static[at : at + n_parameters]
    at += n_parameters
    spreads = static[at : at + n_spreads]
    at += n_spreads
    underlying_factor = static[at : at + n_slots * N_SCENARIOS].reshape((n_slots, N_SCENARIOS))
    at += n_slots * N_SCENARIOS
    volatility_factor = static[at : at + N_SCENARIOS]
    scenario_weight = static[at + N_SCENARIOS : at + 2 * N_SCENARIOS]
    return slots, layers, parameters, spreads, underlying_factor, volatility_factor, scenario_weight


def pack_static(arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    """One buffer of the :class:`~thetagym.book.compiled.tables.BookTables` arrays (in field
    order), headed by the lengths of the parameter and spread vectors."""
    parameters, spreads = arrays[2], arrays[3]
    header = np.array([parameters.size, spreads.size], dtype=float)
    return np.concatenate([header, *(np.ravel(array) for array in arrays)])


@kernel
def market_views(per_bar, expiries, constants):
    """(per_bar, per_path, expiries, scalars) of a market whose per-path series and scalars are
    packed in ``constants`` (see :class:`~thetagym.book.compiled.tables.MarketArrays`)."""
    n_paths = per_bar.shape[1]
    per_path = constants[: N_PER_PATH * n_paths].reshape((N_PER_PATH, n_paths))
    return per_bar, per_path, expiries, constants[N_PER_PATH * n_paths :]
