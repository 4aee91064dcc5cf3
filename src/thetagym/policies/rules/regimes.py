"""Per-env threshold sets chosen by VIX regime (see :mod:`thetagym.policies.rules.config`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from thetagym.policies.rules.config import VixRegime

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def thresholds_for(default: T, regimes: Sequence[VixRegime[T]], vix: np.ndarray) -> T:
    """The thresholds of each env, as a ``default``-typed object whose fields hold ``(num_envs,)`` arrays.

    Env ``i`` takes the thresholds of the first of ``regimes`` (in increasing ``vix_below``, VIX
    points) with ``vix[i] < vix_below``, else ``default``; ``vix`` is ``(num_envs,)`` in points.

    >>> from thetagym.policies.rules.config import AlvhRegime, AlvhThresholds
    >>> calm = AlvhRegime(vix_below=18.0, thresholds=AlvhThresholds(ladder_days=3.0))
    >>> thresholds_for(AlvhThresholds(), [calm], np.array([12.0, 25.0])).ladder_days.tolist()
    [3.0, 5.0]
    """
    vix = np.asarray(vix, dtype=float)
    chosen = np.full(vix.shape, len(regimes))
    for position, regime in reversed(list(enumerate(regimes))):
        chosen = np.where(vix < regime.vix_below, position, chosen)
    sets = [regime.thresholds for regime in regimes] + [default]
    values: dict[str, Any] = {
        field.name: np.array([getattr(s, field.name) for s in sets])[chosen]
        for field in dataclasses.fields(default)
    }
    return _unchecked(type(default), values)


def per_layer(threshold: float | np.ndarray) -> np.ndarray:
    """A per-env threshold from :func:`thresholds_for` as ``(num_envs, 1)``, to compare with
    ``(num_envs, n_layers)`` arrays.

    >>> per_layer(np.array([0.3, 0.25])).shape
    (2, 1)
    """
    return np.reshape(np.asarray(threshold, dtype=float), (-1, 1))


def _unchecked(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a frozen dataclass with array fields, bypassing its scalar checks."""
    instance = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(instance, name, value)
    return instance
