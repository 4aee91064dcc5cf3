"""Hyperparameter schedules written as text in training configs, without ``eval``.

``"lin_3e-4"`` falls linearly from 3e-4 to 0 over training; a plain number stays constant.
stable-baselines3 calls a schedule with the progress remaining, from 1 at the start to 0 at the end.
"""

from __future__ import annotations

from collections.abc import Callable

Schedule = Callable[[float], float]


class LinearSchedule:
    """``initial * progress_remaining``: picklable, so saved models load without this module's state.

    >>> LinearSchedule(3e-4)(0.5)
    0.00015
    """

    def __init__(self, initial: float) -> None:
        self.initial = initial

    def __call__(self, progress_remaining: float) -> float:
        return self.initial * progress_remaining

    def __repr__(self) -> str:
        return f"lin_{self.initial:g}"


def parse_schedule(value: float | str, key: str = "schedule") -> float | LinearSchedule:
    """A constant or a :class:`LinearSchedule` from ``3e-4`` or ``"lin_3e-4"``.

    >>> parse_schedule("lin_3e-4")
    lin_0.0003
    >>> parse_schedule(0.2)
    0.2
    >>> parse_schedule("cos_1")
    Traceback (most recent call last):
    ...
    ValueError: schedule: 'cos_1' is not a number or 'lin_<number>'
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    number = text.removeprefix("lin_")
    try:
        initial = float(number)
    except ValueError:
        raise ValueError(f"{key}: {value!r} is not a number or 'lin_<number>'") from None
    if initial <= 0:
        raise ValueError(f"{key}: {value!r} must be positive")
    return LinearSchedule(initial) if text.startswith("lin_") else initial
