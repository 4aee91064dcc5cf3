"""thetagym: a Gymnasium environment for a multi-layer book of short S&P 500 options."""

import os

__version__ = "0.1.0"

# The vector env's kernels run on numba's OpenMP threads. By default those threads spin while they
# wait for work; when another process holds a core (a second training run, an evaluation, a test
# run), the spinning threads take its time slices and a step runs several times slower (measured:
# 256 envs at 15,000 env-steps/s per process with two processes on 2 cores, 72,000 with passive
# waiting). Passive waiting costs little on an idle machine; a value set by the user is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Registers "thetagym/ShortPremium-v0" with Gymnasium; imports gymnasium only (no torch, no env code).
from thetagym.env import registration as _registration  # noqa: F401
