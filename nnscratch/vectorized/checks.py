"""Argument checks shared by the tier's constructors: refuse a bad value before any work, by name.

check_int("StepLR", "step_size", 0, low=1)
-> ValueError: StepLR: step_size must be an integer >= 1, got 0
"""

from __future__ import annotations

import math
from typing import Any


def check_int(owner: str, name: str, value: Any, low: int) -> int:
    """``value`` if it is an int >= low (bools refused), else a ValueError naming ``owner`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value!r}")
    return value


def check_number(
    owner: str, name: str, value: Any, low: float, high: float = math.inf, high_open: bool = False
) -> float:
    """``value`` as a float in [low, high] (or [low, high) with ``high_open``), else a ValueError naming it.

    NaN and non-numbers are refused too.
    """
    interval = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
    try:
        number = math.nan if isinstance(value, bool) else float(value)  # True is not a learning rate
    except (TypeError, ValueError):
        number = math.nan
    too_high = number >= high if high_open else number > high
    if not number >= low or too_high:  # written so that NaN (and so a non-number) fails too
        raise ValueError(f"{owner}: {name} must be a number in {interval}, got {value!r}")
    return number
