"""Seed ranges that keep training and evaluation on disjoint market paths.

Training draws its env seeds from :data:`TRAINING_SEED_RANGE`; evaluation derives every episode's
seed from a base at or above :data:`EVALUATION_SEED_BASE`, so an agent is never evaluated on a
path it was trained on. Both workflows import the constants from here and nowhere else.

>>> episode_seed(EVALUATION_SEED_BASE, scenario=1, episode=2)
1001000002
>>> check_evaluation_seeds(5, scenarios=1, episodes=1)
Traceback (most recent call last):
...
ValueError: evaluation seeds 5..5 overlap the training seeds 0..999999999; use a seed >= 1000000000
"""

from __future__ import annotations

TRAINING_SEED_RANGE = range(0, 1_000_000_000)
"""Env seeds that training may use."""
EVALUATION_SEED_BASE = 1_000_000_000
"""The default (and lowest) base seed of an evaluation."""
SCENARIO_STRIDE = 1_000_000
"""Seeds reserved per scenario: scenario ``k`` uses ``base + k * SCENARIO_STRIDE + episode``."""
MAX_SEED = 2**32 - 1
"""The largest seed numpy's generators accept from a single integer here."""


def episode_seed(base: int, scenario: int, episode: int) -> int:
    """The env seed of episode ``episode`` of the ``scenario``-th scenario of an evaluation."""
    return base + scenario * SCENARIO_STRIDE + episode


def check_evaluation_seeds(base: int, scenarios: int, episodes: int) -> None:
    """Raise ``ValueError`` unless every seed an evaluation uses is valid and not a training seed."""
    if episodes > SCENARIO_STRIDE:
        raise ValueError(f"at most {SCENARIO_STRIDE} episodes per scenario, got {episodes}")
    first = episode_seed(base, 0, 0)
    last = episode_seed(base, max(scenarios - 1, 0), max(episodes - 1, 0))
    if first < TRAINING_SEED_RANGE.stop and last >= TRAINING_SEED_RANGE.start:
        raise ValueError(
            f"evaluation seeds {first}..{last} overlap the training seeds "
            f"{TRAINING_SEED_RANGE.start}..{TRAINING_SEED_RANGE.stop - 1}; "
            f"use a seed >= {EVALUATION_SEED_BASE}"
        )
    if first < 0 or last > MAX_SEED:
        raise ValueError(f"evaluation seeds {first}..{last} must lie in 0..{MAX_SEED}")
