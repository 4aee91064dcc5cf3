"""Fit a rule config's named thresholds to a policy's recorded decisions.

Coordinate descent: sweep over the thresholds, trying every value of one threshold's grid
(:mod:`thetagym.export.grids`) with the others held, and keep the value with the highest balanced
agreement (:func:`thetagym.export.fidelity.balanced_agreement`) on the fitting states; stop after
``sweeps`` sweeps or a sweep that changes nothing. Candidates that break a config's own checks
(e.g. ``counter_revert`` above ``counter_trigger``) are skipped. When several values tie, the
current one is kept if it is among them, else the middle of the longest run of tied grid values
(agreement is flat between two recorded states, so the middle is the least committed choice).

Flat layers first: for a config with ``flat_layers`` (``dynamic_exposure``), each of the book's
layers in turn is tried flat and not flat, the others held, and the flip is kept only if it raises
balanced agreement on the fitting states; passes repeat until one changes nothing. This is a
categorical choice no threshold can make (a policy that closed a layer for good), so it comes
before the numeric search, which then fits the thresholds of the layers still worked.

Regimes: a threshold set is fitted on all fitting states, then one per VIX band on that band's
states, starting from the set fitted on all states; the per-band config is kept only if it raises
balanced agreement on the held-out states by at least ``margin``. A starting config with regimes on
the same VIX bands is fitted within them instead: each band starts from (and, with too few states,
keeps) its own set, and the bands are kept unless one set does at least as well on held-out states,
so a fit never flattens the regimes the policy was built on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import numpy as np
from tqdm import tqdm

from thetagym.book import BookConfig
from thetagym.export.fidelity import balanced_agreement
from thetagym.export.grids import REGIME_TYPES, THRESHOLD_GRIDS
from thetagym.export.replay import Layout, States, rule_decisions
from thetagym.policies.rules.config import DynamicExposureConfig, ThresholdedRuleConfig, VixRegime

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TIE = 1e-12
"""Scores closer than this to the best count as tied."""

Fittable: TypeAlias = ThresholdedRuleConfig[Any]
"""A rule config with named thresholds, of any agent."""
ThresholdsT = TypeVar("ThresholdsT", bound="DataclassInstance")
"""A threshold set: a frozen dataclass of named thresholds."""


@dataclass(frozen=True)
class FitSettings:
    """How the search runs."""

    sweeps: int = 3
    """Coordinate-descent sweeps at most."""
    vix_bands: tuple[float, ...] = (15.0, 25.0)
    """VIX points splitting the states into regimes; empty: one threshold set only."""
    min_band_states: int = 200
    """A band with fewer fitting states keeps the all-states threshold set."""
    margin: float = 0.01
    """Held-out balanced agreement the per-band sets must add to be kept."""


@dataclass(frozen=True)
class FitResult:
    """The fitted config and the choice between one threshold set and one per VIX band."""

    config: Fittable
    single: Fittable
    banded: Fittable | None
    heldout_single: float
    heldout_banded: float
    flat_agreement: tuple[float, float] | None = None
    """Balanced agreement on the fitting states before and after choosing the flat layers (None:
    the agent has no flat layers to choose)."""

    @property
    def uses_regimes(self) -> bool:
        return self.config is self.banded

    def describe(self) -> str:
        """The regime choice in words, with the held-out balanced agreements behind it."""
        single = f"held-out balanced agreement {self.heldout_single:.3f} with one set"
        if self.banded is None:
            return f"one threshold set (no VIX band had enough states to fit; {single})"
        bands = ", ".join(f"{r.vix_below:g}" for r in self.banded.regimes)
        choice = (
            f"one set per VIX band (split at {bands})" if self.uses_regimes else "one set for every VIX level"
        )
        return f"{choice}; {single}, {self.heldout_banded:.3f} per band"

    def describe_flat(self) -> str:
        """The flat-layer choice in words, with the fitting-state agreement it moved."""
        if self.flat_agreement is None or not isinstance(self.config, DynamicExposureConfig):
            return "none (this agent has no flat layers)"
        before, after = self.flat_agreement
        flat = ", ".join(self.config.flat_layers) or "none"
        return f"{flat} (balanced agreement on the fitting states {before:.3f} -> {after:.3f})"


Scorer = Callable[[Fittable, States], float]
"""Balanced agreement of a config's decisions with the recorded policy's on a batch of states."""


def scorer(layout: Layout, book_config: BookConfig) -> Scorer:
    """The :data:`Scorer` of rule agents on ``book_config``'s book, whose observation and layers
    ``layout`` names."""

    def score(config: Fittable, states: States) -> float:
        return balanced_agreement(states.policy_actions, rule_decisions(config, states, layout, book_config))

    return score


def with_thresholds(
    config: ThresholdedRuleConfig[ThresholdsT],
    thresholds: ThresholdsT,
    regimes: tuple[VixRegime[ThresholdsT], ...] = (),
) -> ThresholdedRuleConfig[ThresholdsT]:
    """``config`` with its top-level threshold set replaced by ``thresholds`` and its regimes by
    ``regimes``."""
    return dataclasses.replace(config, thresholds=thresholds, regimes=regimes)


def pick(values: Sequence[float], scores: Sequence[float], current: float) -> float:
    """The best-scoring of ``values`` (sorted; ``scores`` in the same order); among ties ``current``
    if tied, else the middle of the longest run.

    >>> pick([1, 2, 3, 4, 5], [0.1, 0.9, 0.9, 0.9, 0.2], 5)
    3
    >>> pick([1, 2, 3], [0.9, 0.9, 0.5], 2)
    2
    """
    score = np.asarray(scores, dtype=float)
    best = score >= score.max() - TIE
    if best[list(values).index(current)]:
        return current
    runs: list[list[int]] = []
    for i in np.flatnonzero(best):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(int(i))
        else:
            runs.append([int(i)])
    longest = max(runs, key=len)
    return values[longest[(len(longest) - 1) // 2]]


def fit_flat_layers(
    config: DynamicExposureConfig, states: States, score: Scorer, layer_names: Sequence[str]
) -> tuple[DynamicExposureConfig, float, float]:
    """``config`` with the ``flat_layers`` (among ``layer_names``, the book's, in book order) that
    best reproduce the policy on ``states``, by greedy flips kept only when they raise ``score``; and
    the score before and after."""
    start = best = score(config, states)
    changed = True
    while changed:
        changed = False
        for name in layer_names:
            flat = set(config.flat_layers) ^ {name}
            candidate = dataclasses.replace(config, flat_layers=tuple(n for n in layer_names if n in flat))
            trial = score(candidate, states)
            if trial > best + TIE:
                config, best, changed = candidate, trial, True
    return config, start, best


def own_band_sets(config: Fittable, vix_bands: Sequence[float]) -> list[Any] | None:
    """``config``'s threshold set per VIX band (below each of ``vix_bands``, then above them all)
    when its regimes split VIX at exactly ``vix_bands``; else None."""
    if not vix_bands or tuple(regime.vix_below for regime in config.regimes) != tuple(vix_bands):
        return None
    return [regime.thresholds for regime in config.regimes] + [config.thresholds]


def _candidate(thresholds: ThresholdsT, name: str, value: float) -> ThresholdsT | None:
    """``thresholds`` with ``name`` set to ``value`` (in the field's type), or None if that breaks
    the threshold set's own checks."""
    kind = type(getattr(thresholds, name))
    try:
        return dataclasses.replace(thresholds, **{name: kind(value)})
    except ValueError:
        return None


def coordinate_descent(
    config: ThresholdedRuleConfig[ThresholdsT],
    states: States,
    score: Scorer,
    grids: Mapping[str, np.ndarray],
    sweeps: int,
    bar: tqdm | None = None,
) -> ThresholdsT:
    """The threshold set fitted on ``states`` by coordinate descent from ``config.thresholds``.

    ``score`` rates a candidate config on ``states``; ``grids`` maps each threshold name to the
    values tried (:data:`thetagym.export.grids.THRESHOLD_GRIDS`);
    ``sweeps`` caps the sweeps over all thresholds; ``bar`` is advanced by one per config scored.
    """
    current = config.thresholds
    trials = 0
    for _ in range(sweeps):
        changed = False
        for name, grid in grids.items():
            start = getattr(current, name)
            values = sorted({*(float(v) for v in grid), float(start)})
            candidates = [_candidate(current, name, value) for value in values]
            scores = [
                -np.inf if candidate is None else score(with_thresholds(config, candidate), states)
                for candidate in candidates
            ]
            trials += len(values)
            if bar is not None:
                bar.update(len(values))
            chosen = candidates[values.index(pick(values, scores, float(start)))]
            if chosen is not None and chosen != current:  # None never wins: the start value is valid
                current = chosen
                changed = True
        if not changed:
            break
    if bar is not None:  # a search that stopped early skips its remaining sweeps
        bar.update(max(sweeps * sum(len(g) + 1 for g in grids.values()) - trials, 0))
    return current


def fit(
    original: Fittable,
    fit_states: States,
    heldout_states: States,
    score: Scorer,
    settings: FitSettings = FitSettings(),
    progress: bool = False,
    layer_names: Sequence[str] = (),
) -> FitResult:
    """Fit ``original``'s flat layers (among ``layer_names``, the book's; none given: kept as they
    are), then its thresholds: one set, and one per VIX band if that generalises better.

    ``score`` rates a config on states; the fit uses ``fit_states`` and the choice between one set
    and one per band ``heldout_states``. ``settings`` steer the search; ``progress`` shows a bar."""
    flat_agreement = None
    if isinstance(original, DynamicExposureConfig) and layer_names:
        original, before, after = fit_flat_layers(original, fit_states, score, layer_names)
        flat_agreement = (before, after)
    grids = THRESHOLD_GRIDS[original.agent]
    band = np.digitize(fit_states.vix, settings.vix_bands)
    counts = np.bincount(band, minlength=len(settings.vix_bands) + 1)
    banded_fits = (
        [b for b, n in enumerate(counts) if n >= settings.min_band_states] if settings.vix_bands else []
    )
    per_fit = sum(len(grid) + 1 for grid in grids.values()) * settings.sweeps
    total = per_fit * (1 + len(banded_fits))
    with tqdm(total=total, unit="trial", desc="fit", disable=not progress, leave=False) as bar:
        base = with_thresholds(original, original.thresholds)
        single = with_thresholds(
            original, coordinate_descent(base, fit_states, score, grids, settings.sweeps, bar)
        )
        heldout_single = score(single, heldout_states)
        if not banded_fits:
            return FitResult(single, single, None, heldout_single, float("nan"), flat_agreement)
        own = own_band_sets(original, settings.vix_bands)
        sets = own or [single.thresholds] * len(counts)
        for b in banded_fits:
            start = with_thresholds(original, sets[b])
            sets[b] = coordinate_descent(
                start, fit_states.subset(band == b), score, grids, settings.sweeps, bar
            )
    regime = REGIME_TYPES[original.agent]
    regimes = tuple(regime(vix_below=v, thresholds=t) for v, t in zip(settings.vix_bands, sets, strict=False))
    banded = with_thresholds(original, sets[-1], regimes)
    heldout_banded = score(banded, heldout_states)
    margin = settings.margin if own is None else TIE
    chosen = banded if heldout_banded >= heldout_single + margin else single
    return FitResult(chosen, single, banded, heldout_single, heldout_banded, flat_agreement)
