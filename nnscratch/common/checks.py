"""Argument checks every tier's constructors share: refuse a bad value before any work, by name.

    check_int("Neuron", "num_inputs", 0)
    -> ValueError: Neuron: num_inputs must be a positive integer, got 0
    check_int("ReduceLROnPlateau", "patience", -1, low=0)
    -> ValueError: ReduceLROnPlateau: patience must be an integer >= 0, got -1
    check_number("SGD", "lr", -0.1, 0.0)
    -> ValueError: SGD: lr must be a number in [0.0, inf], got -0.1

The owner (a class or function name) and the argument's name come first in the message, so
the user knows which call to fix; then what was expected and what came.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def check_int(owner: str, name: str, value: Any, low: int = 1) -> int:
    """``value`` as an int if it is an integer >= ``low``, else a ValueError naming ``owner`` and ``name``.

    NumPy integers count as integers; bools do not (``True`` is not a layer size), nor do
    floats, even whole ones (``2.0`` hints at a computation that went wrong).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        expected = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return int(value)


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
