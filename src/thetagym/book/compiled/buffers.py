"""The records the compiled kernels pass around, and the flat buffers they are packed in.

A kernel call crosses from Python to compiled code with a handful of flat buffers (each array
argument costs about half a microsecond, a named tuple twice a plain one), and the kernels cut
them into named records at once: :func:`unpack` gives the :class:`~thetagym.book.compiled.tables.
BookTables`, the :class:`Market` and the :class:`State` of a :data:`Packed` tuple. Each packed
layout is defined once, by the function that cuts it (:func:`state_views`, :func:`static_views`,
:func:`market_views`); called from Python (``.py_func``) they return numpy views of the same memory.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from thetagym.book.compiled.contracts import MARK_FIELDS
from thetagym.book.compiled.jit import inline_kernel, kernel
from thetagym.book.compiled.tables import N_LAYER_COLUMNS, N_SLOT_COLUMNS, PER_PATH_SERIES, BookTables
from thetagym.book.margin import N_SCENARIOS

N_MARK_FIELDS = len(MARK_FIELDS)
N_PER_PATH = len(PER_PATH_SERIES)


class State(NamedTuple):
    """The live state of a batch of books, cut from the ``values`` (float64) and ``indices``
    (int64) buffers by :func:`state_views`."""

    quantity: np.ndarray
    """(n_envs, max_legs) signed contracts"""
    strike: np.ndarray
    """(n_envs, max_legs) points"""
    expiry_bar: np.ndarray
    """(n_envs, max_legs)"""
    underlying_bar: np.ndarray
    """(n_envs, max_legs) expiry bar of an ES option's underlying future"""
    entry_price: np.ndarray
    """(n_envs, max_legs) average cost, points or USD per share"""
    cash: np.ndarray
    """(n_envs,) USD"""
    reference: np.ndarray
    """(n_envs, n_layers) each layer's underlying when it opened"""
    margin_requirement: np.ndarray
    """(n_envs,) USD"""
    marks: np.ndarray
    """(8, n_envs, n_slots), :data:`~thetagym.book.compiled.contracts.MARK_FIELDS`"""
    mark_bar: np.ndarray
    """(n_envs,) bar the marks are at"""
    mark_index: np.ndarray
    """(n_envs,) index level at ``mark_bar``"""


class Market(NamedTuple):
    """A market's series as the kernels read them (see
    :class:`~thetagym.book.compiled.tables.MarketArrays`): ``per_bar`` ``(9, n_paths, n_bars +
    1)``, ``per_path`` ``(3, n_paths)``, ``expiries`` ``(n_paths, 3, n_days)`` and ``scalars``."""

    per_bar: np.ndarray
    per_path: np.ndarray
    expiries: np.ndarray
    scalars: np.ndarray


class StepOutputs(NamedTuple):
    """What the book's step writes per env: ``totals`` ``(n_envs, N_TOTALS)``, ``attribution``
    ``(n_envs, n_layers, 8)``, ``layer_contracts`` ``(n_envs, n_layers)``, ``executed``
    ``(n_envs, n_layers + 1)`` and ``counts`` ``(n_envs, N_COUNTS)`` (columns in
    :mod:`thetagym.book.compiled.step`)."""

    totals: np.ndarray
    attribution: np.ndarray
    layer_contracts: np.ndarray
    executed: np.ndarray
    counts: np.ndarray


class Aggregates(NamedTuple):
    """The book's aggregates per env at its marked bar (:func:`~thetagym.book.compiled.step.
    aggregate_env`): ``sums`` ``(n_envs, N_SUMS, n_layers)``, ``nearest`` ``(n_envs, 2,
    n_layers)``, ``net`` ``(n_envs, 4)``, ``is_open`` ``(n_envs, n_layers)`` and ``totals``
    ``(n_envs, N_BOOK_TOTALS)``."""

    sums: np.ndarray
    nearest: np.ndarray
    net: np.ndarray
    is_open: np.ndarray
    totals: np.ndarray


class Orders(NamedTuple):
    """One round of trades of one env, per slot: ``target`` signed contracts to hold afterwards,
    which slots ``restrike`` (close their contract, open ``target`` of the standard contract) and
    the ``expiry_day`` of a restruck slot's new contract."""

    target: np.ndarray
    restrike: np.ndarray
    expiry_day: np.ndarray


class GuardOutputs(NamedTuple):
    """What the guard (:func:`~thetagym.book.compiled.guard.legal_choices`) finds for one env:
    ``legal`` ``(n_layers + 1, 8)`` choices, and the inputs of the legal actions: per layer
    ``opposite_wing`` (an OPEN there would add to the wing opposite the book's delta) and the
    counter-trade ``direction``; per slot ``deep`` (a short ES option deep enough to accept
    assignment) and the ``near_expiry_day`` and ``out_expiry_day`` of the two rolls."""

    legal: np.ndarray
    opposite_wing: np.ndarray
    deep: np.ndarray
    near_expiry_day: np.ndarray
    out_expiry_day: np.ndarray
    direction: np.ndarray


class Packed(NamedTuple):
    """The buffers a kernel call carries (as a plain tuple, see :func:`unpack`): the book's
    ``static`` tables (:func:`pack_static`), the market's ``per_bar``, ``expiries`` and
    ``constants``, the state's ``values`` and ``indices``, and ``shape`` ``(n_envs, max_legs,
    n_layers, n_slots)``."""

    static: np.ndarray
    per_bar: np.ndarray
    expiries: np.ndarray
    constants: np.ndarray
    values: np.ndarray
    indices: np.ndarray
    shape: np.ndarray


def state_sizes(shape: tuple[int, int, int, int]) -> tuple[int, int]:
    """Lengths of the ``values`` and ``indices`` buffers for ``shape``."""
    n_envs, max_legs, n_layers, n_slots = shape
    return n_envs * (3 * max_legs + 3 + n_layers + N_MARK_FIELDS * n_slots), n_envs * (2 * max_legs + 1)


@inline_kernel
def state_views(values, indices, shape):
    """The :class:`State` cut from the ``values`` and ``indices`` buffers."""
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
    return State(
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


class EnvLegs(NamedTuple):
    """One env's rows of the :class:`State`'s leg arrays ``(max_legs,)`` and its ``marks``
    ``(8, n_slots)``."""

    quantity: np.ndarray
    strike: np.ndarray
    expiry_bar: np.ndarray
    underlying_bar: np.ndarray
    entry_price: np.ndarray
    marks: np.ndarray


@kernel
def env_legs(state: State, env: int) -> EnvLegs:
    """The :class:`EnvLegs` of env ``env``: views of the state."""
    return EnvLegs(
        state.quantity[env],
        state.strike[env],
        state.expiry_bar[env],
        state.underlying_bar[env],
        state.entry_price[env],
        state.marks[:, env],
    )


@inline_kernel
def static_views(static, n_slots, n_layers):
    """The :class:`~thetagym.book.compiled.tables.BookTables` cut from a buffer made by
    :func:`pack_static`."""
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
    return BookTables(
        slots, layers, parameters, spreads, underlying_factor, volatility_factor, scenario_weight
    )


def pack_static(tables: BookTables) -> np.ndarray:
    """One buffer of the ``tables`` arrays (in field order), headed by the lengths of the parameter
    and spread vectors (the layout :func:`static_views` cuts)."""
    header = np.array([tables.parameters.size, tables.spreads.size], dtype=float)
    return np.concatenate([header, *(np.ravel(array) for array in tables)])


@inline_kernel
def market_views(per_bar, expiries, constants):
    """The :class:`Market` whose per-path series and scalars are packed in ``constants`` (see
    :class:`~thetagym.book.compiled.tables.MarketArrays`)."""
    n_paths = per_bar.shape[1]
    per_path = constants[: N_PER_PATH * n_paths].reshape((N_PER_PATH, n_paths))
    return Market(per_bar, per_path, expiries, constants[N_PER_PATH * n_paths :])


@inline_kernel
def unpack(packed):
    """The book tables, market and state records of a :data:`Packed` tuple of buffers."""
    static, per_bar, expiries, constants, values, indices, shape = packed
    tables = static_views(static, shape[3], shape[2])
    return tables, market_views(per_bar, expiries, constants), state_views(values, indices, shape)
