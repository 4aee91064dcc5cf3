"""Decision agreement by hand, and the search's tie rule and grids."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from thetagym.export import FITTABLE_AGENTS, THRESHOLD_GRIDS
from thetagym.export.fidelity import balanced_agreement, fidelity_table, plain_agreement
from thetagym.export.fit import pick
from thetagym.policies.rules.config import CONFIG_TYPES

POLICY = np.array([[0, 0], [0, 0], [0, 1], [1, 0], [1, 3]])
RULES = np.array([[0, 0], [1, 0], [0, 1], [1, 0], [0, 3]])


def test_agreement_by_hand() -> None:
    # part 0: HOLD 2 of 3 agree, ROLL_CLOSER 1 of 2 -> (2/3 + 1/2) / 2; part 1: every value agrees -> 1
    assert plain_agreement(POLICY, RULES) == pytest.approx(8 / 10)
    assert balanced_agreement(POLICY, RULES) == pytest.approx(((2 / 3 + 1 / 2) / 2 + 1.0) / 2)
    assert balanced_agreement(POLICY, POLICY) == 1.0


def test_table_rows_per_part_and_decision() -> None:
    table = fidelity_table(POLICY, {"exported": RULES}, ["put_wing", "balancer"])
    row = table[(table["part"] == "put_wing") & (table["decision"] == "roll_closer")].iloc[0]
    assert (row["policy"], row["exported"], row["exported_agreement"]) == (2, 2, 0.5)
    flatten = table[(table["part"] == "balancer") & (table["decision"] == "flatten")].iloc[0]
    assert flatten["exported_agreement"] == 1.0  # the balancer's part names its own actions
    whole = table[(table["part"] == "put_wing") & (table["decision"] == "all")].iloc[0]
    assert whole["exported_agreement"] == pytest.approx(3 / 5)
    assert "open" not in set(table["decision"])  # nobody chose it: no row


def test_ties_keep_the_current_value_else_the_middle_of_the_longest_run() -> None:
    assert pick([0.1, 0.2, 0.3, 0.4, 0.5], [0.5, 0.9, 0.9, 0.9, 0.9], 0.3) == 0.3
    assert pick([0.1, 0.2, 0.3, 0.4, 0.5], [0.9, 0.5, 0.9, 0.9, 0.9], 0.2) == 0.4
    assert pick([1, 2, 3], [0.1, float("-inf"), 0.2], 2) == 3


@pytest.mark.parametrize("agent", FITTABLE_AGENTS)
def test_every_named_threshold_has_a_grid_within_its_bounds(agent: str) -> None:
    kind = {f.name: f for f in dataclasses.fields(CONFIG_TYPES[agent])}["thresholds"]
    fields = dataclasses.fields(kind.default_factory())  # type: ignore[misc]
    assert set(THRESHOLD_GRIDS[agent]) == {f.name for f in fields}
    for field in fields:
        grid = THRESHOLD_GRIDS[agent][field.name]
        meta = field.metadata
        assert meta.get("ge") is None or grid.min() >= meta["ge"]
        assert meta.get("gt") is None or grid.min() > meta["gt"]
        assert meta.get("le") is None or grid.max() <= meta["le"]
        assert meta.get("lt") is None or grid.max() < meta["lt"]
