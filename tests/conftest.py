"""Session set-up shared by every test folder."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Compile the cached kernels in the controlling process before test workers start, so that
    the workers of a run on a cold cache load them instead of all compiling them at once."""
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        return
    from thetagym.env.warm_up import compile_kernels

    compile_kernels()
