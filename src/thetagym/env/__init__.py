"""Environment layer: the Gymnasium env and the batched vector env over one core.

``ShortPremiumEnv`` (one env) and ``ShortPremiumVectorEnv`` (``num_envs`` envs) share
:class:`~thetagym.env.core.BatchedCore`; ``thetagym/ShortPremium-v0`` is registered on import.
Heavy modules (book, simulator) load when an env class is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from thetagym.env.registration import ENV_ID, ENV_IDS

if TYPE_CHECKING:
    from thetagym.env.config import EnvConfig, load_env_config
    from thetagym.env.short_premium import ShortPremiumEnv
    from thetagym.env.vector import ShortPremiumVectorEnv

__all__ = ["ENV_ID", "ENV_IDS", "EnvConfig", "ShortPremiumEnv", "ShortPremiumVectorEnv", "load_env_config"]

_LAZY = {
    "EnvConfig": "thetagym.env.config",
    "load_env_config": "thetagym.env.config",
    "ShortPremiumEnv": "thetagym.env.short_premium",
    "ShortPremiumVectorEnv": "thetagym.env.vector",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'thetagym.env' has no attribute {name!r}")
