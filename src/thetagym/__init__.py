"""thetagym: a Gymnasium environment for a multi-layer book of short S&P 500 options."""

__version__ = "0.1.0"

# Registers "thetagym/ShortPremium-v0" with Gymnasium; imports gymnasium only (no torch, no env code).
from thetagym.env import registration as _registration  # noqa: F401
