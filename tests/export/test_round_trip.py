"""A rule agent with known thresholds, exported: the fit recovers them and reproduces it."""

from __future__ import annotations

from tests.export.conftest import TRUE_COUNTER_TRIGGER, TRUE_ROLL_DELTA
from thetagym.export import THRESHOLD_GRIDS, ExportResult
from thetagym.policies.rules import DynamicExposureConfig


def _step(name: str) -> float:
    grid = THRESHOLD_GRIDS["dynamic_exposure"][name]
    return float(grid[1] - grid[0])


def test_known_thresholds_are_recovered(round_trip: ExportResult) -> None:
    """Tolerance: one grid step (roll_delta 0.025, counter_trigger 0.001). The truth lies on the
    grid, so with dense enough states the fit hits it exactly; a step either side is allowed because
    the agreement is flat between the nearest recorded states on each side of the truth (e.g. no
    short option with |delta| in 0.35..0.375 at a step where the wing could roll), and the fit then
    takes the middle of that flat run. 16 episodes of 15 days (960 states) put roll triggers and
    counter-trade openings at several dozen states, enough to pin both within one step."""
    fitted = round_trip.config
    assert isinstance(fitted, DynamicExposureConfig)
    assert abs(fitted.thresholds.roll_delta - TRUE_ROLL_DELTA) <= _step("roll_delta") + 1e-9
    assert abs(fitted.thresholds.counter_trigger - TRUE_COUNTER_TRIGGER) <= _step("counter_trigger") + 1e-9


def test_exported_rules_reproduce_the_policy_on_heldout_states(round_trip: ExportResult) -> None:
    assert round_trip.agreement("exported", "balanced") >= 0.99
    assert round_trip.agreement("exported", "all") >= 0.999
    assert round_trip.agreement("original", "balanced") < round_trip.agreement("exported", "balanced")


def test_one_threshold_set_when_the_policy_has_no_regimes(round_trip: ExportResult) -> None:
    """The known agent uses one set at every VIX level; per-band sets cannot add held-out agreement."""
    assert not round_trip.fit.uses_regimes
    assert round_trip.config.regimes == ()  # type: ignore[attr-defined]


def test_fidelity_names_every_part_and_decision(round_trip: ExportResult) -> None:
    table = round_trip.fidelity
    assert list(dict.fromkeys(table["part"])) == [
        "put_wing",
        "call_wing",
        "futures",
        "vix_etp",
        "hedge",
        "balancer",
        "all",
    ]
    rolls = table[(table["part"] == "put_wing") & (table["decision"] == "roll_closer")]
    assert len(rolls) == 1 and rolls["policy"].iloc[0] > 0
    assert {"exported_agreement", "original_agreement"} <= set(table.columns)
    assert 0 < round_trip.heldout_states <= 8 * 15 * 4  # 8 held-out episodes of 15 days, 4 bars a day
