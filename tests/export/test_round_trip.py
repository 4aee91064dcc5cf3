"""A rule agent with known thresholds or flat layers, exported: the fit recovers them and reproduces it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.export.conftest import (
    FIT_SEEDS,
    HELDOUT_SEEDS,
    ROOT,
    RULES,
    TRUE_COUNTER_TRIGGER,
    TRUE_ROLL_DELTA,
)
from thetagym.env.config import EnvConfig, resolve_config
from thetagym.export import THRESHOLD_GRIDS, ExportResult, FitSettings, export_thresholds
from thetagym.export.fit import own_band_sets
from thetagym.export.write import render
from thetagym.policies.rules import AlvhConfig, DynamicExposureConfig, build_rule_agent, load_rule_config


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


def test_alvh_hedge_band_and_ladder_are_recovered() -> None:
    """alvh with hedge_band 0.30 and ladder_days 4 (defaults 0.15, 5) on the condor-ladder book.
    Tolerance one grid step (0.05, 0.5 days): the youngest condor's age moves in bars of a quarter
    day and a ladder opening also needs the market gates to pass, so ages next to the truth may
    never meet an opening decision and the agreement is flat over the step below it."""
    rules = ROOT / "configs" / "rules" / "alvh.yaml"
    env = resolve_config(ROOT / "configs" / "env" / "alvh_condor_ladder.yaml", {"episode_days": 21})
    original = load_rule_config(rules)
    assert isinstance(original, AlvhConfig)
    known = dataclasses.replace(
        original,
        regimes=(),
        thresholds=dataclasses.replace(original.thresholds, hedge_band=0.3, ladder_days=4.0),
    )
    policy = build_rule_agent(known, env.book)
    result = export_thresholds(
        policy, rules, env, tuple(range(12)), tuple(range(50, 56)), FitSettings(sweeps=2)
    )
    fitted = result.config
    assert isinstance(fitted, AlvhConfig)
    assert abs(fitted.thresholds.hedge_band - 0.3) <= 0.05 + 1e-9
    assert abs(fitted.thresholds.ladder_days - 4.0) <= 0.5 + 1e-9
    assert result.agreement("exported") > result.agreement("original")


TRUE_FLAT_LAYERS = ("call_wing", "vix_etp")


def test_flat_layers_are_recovered(env_config: EnvConfig, tmp_path: Path) -> None:
    """dynamic_exposure (the shipped config) keeping the call wing and the VIX-ETP layer flat, as
    the trained policy does: the fit, started from no flat layers, finds exactly those two; the
    other layers (the put wing, the futures layer it never reopens, the hedge) stay worked."""
    original = load_rule_config(RULES)
    known = dataclasses.replace(original, name="flat", flat_layers=TRUE_FLAT_LAYERS)
    policy = build_rule_agent(known, env_config.book)
    result = export_thresholds(
        policy, RULES, env_config, FIT_SEEDS, HELDOUT_SEEDS, FitSettings(sweeps=1, vix_bands=())
    )
    assert result.config.flat_layers == TRUE_FLAT_LAYERS  # type: ignore[attr-defined]
    assert result.fit.flat_agreement is not None
    before, after = result.fit.flat_agreement
    assert after > before
    assert result.agreement("exported", "all") >= 0.999
    assert result.agreement("original", "balanced") < result.agreement("exported", "balanced")
    text = render(result.config, result.original, ["header"])
    assert "flat_layers: [call_wing, vix_etp]" in text and "was []" in text
    path = tmp_path / "flat.yaml"
    path.write_text(text)
    assert load_rule_config(path) == result.config


def test_a_start_with_regimes_keeps_them(env_config: EnvConfig) -> None:
    """The tuned dynamic_exposure (threshold sets below VIX 15, below 25 and above) exported from
    itself: the fit works within its bands, so the export keeps all three sets and reproduces it,
    where one set for every VIX level would have to average the bands away."""
    tuned = ROOT / "configs" / "rules" / "tuned" / "dynamic_exposure.yaml"
    original = load_rule_config(tuned)
    assert isinstance(original, DynamicExposureConfig)
    policy = build_rule_agent(original, env_config.book)
    result = export_thresholds(
        policy, tuned, env_config, FIT_SEEDS, HELDOUT_SEEDS, FitSettings(sweeps=1, vix_bands=(15.0, 25.0))
    )
    fitted = result.config
    assert isinstance(fitted, DynamicExposureConfig)
    assert result.fit.uses_regimes
    assert [regime.vix_below for regime in fitted.regimes] == [15.0, 25.0]
    assert result.agreement("exported", "balanced") == result.agreement("original", "balanced") == 1.0


def test_own_band_sets_only_for_the_same_bands() -> None:
    original = load_rule_config(ROOT / "configs" / "rules" / "tuned" / "dynamic_exposure.yaml")
    assert isinstance(original, DynamicExposureConfig)
    sets = own_band_sets(original, (15.0, 25.0))
    assert sets is not None
    assert [s.counter_trigger for s in sets] == [0.007, 0.009, 0.009]  # below 15, below 25, above
    assert own_band_sets(original, (20.0,)) is None
    assert own_band_sets(original, ()) is None


def test_the_assignment_grid_can_say_never() -> None:
    """A short option's |delta| stays below 1, so assignment_delta 1.0 never accepts assignment: a
    policy that always rolls instead (what residual agents learn) must be expressible."""
    assert THRESHOLD_GRIDS["dynamic_exposure"]["assignment_delta"].max() == 1.0
