"""Registers ``thetagym/ShortPremium-v0`` with Gymnasium (single and vector entry points).

Importing :mod:`thetagym` (or this module) registers the id, so that::

    gymnasium.make("thetagym/ShortPremium-v0", config="configs/env/default.yaml")
    gymnasium.make_vec("thetagym/ShortPremium-v0", num_envs=64, vectorization_mode="vector_entry_point")

work. Importing this module is cheap: the env modules load only when an env is made.
"""

from __future__ import annotations

import gymnasium

ENV_ID = "thetagym/ShortPremium-v0"
ENV_IDS = (ENV_ID,)
"""Every id thetagym registers."""


def register() -> None:
    """Register thetagym's env ids (again registering an id is a no-op)."""
    if ENV_ID in gymnasium.registry:
        return
    gymnasium.register(
        id=ENV_ID,
        entry_point="thetagym.env.short_premium:ShortPremiumEnv",
        vector_entry_point="thetagym.env.vector:ShortPremiumVectorEnv",
        disable_env_checker=False,
    )


register()
