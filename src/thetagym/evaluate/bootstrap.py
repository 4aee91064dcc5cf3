"""Bootstrap confidence intervals, and the nested form of the evaluation summary.

The interval is the **percentile** bootstrap: resample the episodes with replacement, compute the
statistic on each resample, and take the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
quantiles of those values. It is used rather than BCa because

- it needs no jackknife and no acceleration estimate, both of which are noisy at the 20-100
  episodes an evaluation runs, and BCa's bias correction is undefined (infinite) when every
  resample gives the same value, which happens for measures such as ``assignments`` that are
  often all zero; the percentile interval simply collapses to the point;
- at n = 40 its coverage of a mean is close to nominal even for skewed data (about 0.93 for
  exponential samples at 95%, see ``tests/evaluate/test_bootstrap.py``).

Its known weakness is slight under-coverage for small, skewed samples (n < 20); report more
episodes rather than trust a narrow interval there.

Non-finite values (NaN, and the infinities a ratio such as Calmar gives when its denominator is
zero) are dropped before resampling; ``n`` in the summary counts the values kept.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

Statistic = Callable[..., Any]
STATISTIC_FIELDS = ("mean", "low", "high", "n")
"""Per-measure fields of the summary, in column order: ``<measure>_mean``, ``_low``, ``_high``, ``_n``."""


class Interval(NamedTuple):
    """A point estimate and its bootstrap confidence interval (NaN when there were no values)."""

    estimate: float
    low: float
    high: float


def finite_values(values: Any) -> np.ndarray:
    """The finite entries of ``values`` as a flat float array (NaN and ±inf dropped).

    >>> finite_values([1.0, float("nan"), 2.0, float("inf")])
    array([1., 2.])
    """
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def bootstrap_interval(
    values: Any,
    statistic: Statistic = np.mean,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    *,
    rng: np.random.Generator,
) -> Interval:
    """Percentile bootstrap interval of ``statistic`` over the finite entries of ``values``, at
    ``confidence`` (0.95: the 2.5% and 97.5% quantiles of ``n_resamples`` resamples).

    ``statistic`` is called on the whole ``(n_resamples, n)`` resample matrix with ``axis=1`` (numpy
    reductions such as ``np.mean`` and ``np.median`` accept that); a callable without an ``axis``
    argument is applied row by row, which is slower. All resample indices are drawn in one call
    to ``rng.integers``, so the result is a pure function of the data and the generator's state.
    Memory is ``8 * n_resamples * n`` bytes for the indices.

    With one value, or constant values, the interval collapses to the estimate; with no finite
    value every field is NaN.

    >>> bootstrap_interval([1.0, 2.0, 3.0, 4.0], rng=np.random.default_rng(0)).estimate
    2.5
    >>> bootstrap_interval([7.0], rng=np.random.default_rng(0))
    Interval(estimate=7.0, low=7.0, high=7.0)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    sample = finite_values(values)
    if sample.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    resamples = sample[resample_rows(sample.size, n_resamples, rng)]
    return percentile_interval(float(statistic(sample)), _apply_rowwise(statistic, resamples), confidence)


class Draw:
    """One stratum's bootstrap resamples: ``rows`` (``(n_resamples, n_rows)`` row indices, from
    :func:`resample_rows`) and, computed once on first use, ``counts``: how often each row is drawn
    in each resample."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    @functools.cached_property
    def counts(self) -> np.ndarray:
        """``(n_resamples, n_rows)`` float: the draws of each row in each resample."""
        n_resamples, n_rows = self.rows.shape
        flat = self.rows + n_rows * np.arange(n_resamples)[:, None]
        return (
            np.bincount(flat.ravel(), minlength=n_resamples * n_rows)
            .reshape(n_resamples, n_rows)
            .astype(float)
        )


def stratified_replicates(
    strata: Sequence[Sequence[Any]],
    statistic: Statistic,
    n_resamples: int,
    *,
    rng: np.random.Generator,
    draws: Sequence[Draw] | None = None,
    reductions: Sequence[str] | None = None,
) -> tuple[float, np.ndarray]:
    """The estimate and ``n_resamples`` bootstrap replicates of ``statistic(*columns)`` over several
    strata (each a list of aligned columns over the same episodes; rows with a non-finite value in
    any column are dropped) pooled into one sample: each resample draws every stratum's rows from
    that stratum alone, so each keeps its size and weight, and ``statistic`` sees the strata side
    by side along the last axis.

    ``draws`` (one :class:`Draw` per stratum) lets many statistics of the same episodes share one
    set of resamples: a summary draws once per cell, not once per measure. A stratum whose columns
    hold a non-finite value drops those rows and is redrawn from ``rng``.

    ``reductions`` ("sum" or "min" per column) says that ``statistic`` reads each column only
    through that reduction along the last axis (a ratio of sums, a Sharpe ratio from return
    moments): each replicate is then computed from the columns' resampled reductions (a sum is the
    draws' row counts times the column, a matrix product; a minimum is over the rows drawn) instead
    of gathering every resample's rows. The replicates equal the gathered ones up to rounding.

    >>> strata = [[np.array([1.0, 1.0])], [np.array([3.0, 3.0, 3.0, 3.0])]]
    >>> estimate, replicates = stratified_replicates(strata, lambda x: x.mean(axis=-1), 3,
    ...                                               rng=np.random.default_rng(0))
    >>> round(estimate, 4), replicates.round(4).tolist()
    (2.3333, [2.3333, 2.3333, 2.3333])
    """
    matrices, chosen = [], []
    for k, columns in enumerate(strata):
        matrix = np.column_stack([np.asarray(column, dtype=float).ravel() for column in columns])
        finite = np.all(np.isfinite(matrix), axis=1)
        if not finite.any():
            continue
        if draws is not None and finite.all():
            draw = draws[k]
        else:
            matrix = matrix[finite]
            draw = Draw(resample_rows(matrix.shape[0], n_resamples, rng))
        matrices.append(matrix)
        chosen.append(draw)
    if not matrices:
        return math.nan, np.full(n_resamples, math.nan)
    whole = np.concatenate(matrices)
    estimate = float(statistic(*whole.T))
    if reductions is not None:
        reduced = [_reduce(matrix, draw, reductions) for matrix, draw in zip(matrices, chosen, strict=True)]
        pooled = [
            np.min(values, axis=0) if how == "min" else np.sum(values, axis=0)
            for how, values in zip(reductions, zip(*reduced, strict=True), strict=True)
        ]
        replicates = np.asarray(statistic(*(values[:, None] for values in pooled)), dtype=float)
    else:
        resampled = np.concatenate([m[draw.rows] for m, draw in zip(matrices, chosen, strict=True)], axis=1)
        replicates = np.asarray(statistic(*np.moveaxis(resampled, -1, 0)), dtype=float)
    return estimate, replicates


def _reduce(matrix: np.ndarray, draw: Draw, reductions: Sequence[str]) -> list[np.ndarray]:
    """Each column of ``matrix`` reduced over the rows of every resample of ``draw``: ``reductions``
    per column, "sum" (counted with repeats) or "min"; a list of ``(n_resamples,)`` arrays."""
    unknown = set(reductions) - {"sum", "min"}
    if unknown:
        raise ValueError(f"unknown reduction {sorted(unknown)[0]!r}; choose from sum, min")
    sums = draw.counts @ matrix
    reduced = [sums[:, j] for j in range(matrix.shape[1])]
    if "min" in reductions:
        drawn = draw.counts > 0
        for j, how in enumerate(reductions):
            if how == "min":
                reduced[j] = np.where(drawn, matrix[:, j], np.inf).min(axis=1)
    return reduced


def resample_rows(n_rows: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_resamples, n_rows)`` row indices drawn with replacement by ``rng``: one bootstrap
    resample a row."""
    return rng.integers(0, n_rows, size=(n_resamples, n_rows))


def percentile_interval(estimate: float, replicates: np.ndarray, confidence: float = 0.95) -> Interval:
    """The ``confidence`` percentile interval (0.95: from the 2.5% to the 97.5% quantile) of
    ``replicates`` around ``estimate`` (NaN replicates: NaN bounds).

    >>> [round(x, 6) for x in percentile_interval(1.0, np.arange(101.0), 0.9)]
    [1.0, 5.0, 95.0]
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if not np.all(np.isfinite(replicates)):
        return Interval(estimate, math.nan, math.nan)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return Interval(estimate, float(low), float(high))


def _apply_rowwise(statistic: Statistic, resamples: np.ndarray) -> np.ndarray:
    """``statistic`` of each row, vectorised when the callable takes ``axis``."""
    try:
        replicates = np.asarray(statistic(resamples, axis=1), dtype=float)
    except TypeError:
        replicates = np.array([statistic(row) for row in resamples], dtype=float)
    if replicates.shape != (resamples.shape[0],):
        raise ValueError(
            f"statistic must reduce each resample to one number; got shape {replicates.shape} "
            f"for {resamples.shape[0]} resamples"
        )
    return replicates


def nest_summary(table: pd.DataFrame, by: Sequence[str] = ("agent", "scenario")) -> dict[str, Any]:
    """The flat summary (:func:`thetagym.evaluate.summary.summarise_episodes`) as ``{agent: {scenario: {measure: {"mean", "low", "high", "n"}}}}``.

    ``by`` names the key columns, outermost first. Keys are strings; non-finite numbers become
    ``None`` so the result is strict JSON.

    >>> table = pd.DataFrame({"agent": ["a"], "scenario": ["calm"], "pnl_mean": [1.0],
    ...                       "pnl_low": [0.5], "pnl_high": [float("nan")], "pnl_n": [3]})
    >>> nest_summary(table)
    {'a': {'calm': {'pnl': {'mean': 1.0, 'low': 0.5, 'high': None, 'n': 3}}}}
    """
    by = list(by)
    measures = summary_measures(table)
    nested: dict[str, Any] = {}
    for record in table.to_dict("records"):
        node = nested
        for column in by:
            node = node.setdefault(str(record[column]), {})
        for measure in measures:
            node[measure] = {
                field: json_number(record.get(f"{measure}_{field}", math.nan)) for field in STATISTIC_FIELDS
            }
    return nested


def summary_measures(table: pd.DataFrame) -> list[str]:
    """Measures of a summary table, in column order: names with ``_mean``, ``_low`` and ``_high`` columns.

    >>> summary_measures(pd.DataFrame(columns=["agent", "rolls_mean", "rolls_low", "rolls_high", "x_mean"]))
    ['rolls']
    """
    columns = {str(column) for column in table.columns}
    names = [column.removesuffix("_mean") for column in map(str, table.columns) if column.endswith("_mean")]
    return [name for name in names if {f"{name}_low", f"{name}_high"} <= columns]


def json_number(value: Any) -> float | int | None:
    """A plain Python number, or ``None`` for NaN and infinities."""
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(number) if isinstance(value, int | np.integer) else number
