"""The size check every scalar constructor makes: refuse a bad value before any work, by name.

positive_int("Neuron", "num_inputs", 0) -> ValueError: Neuron: num_inputs must be a positive integer, got 0
"""

from __future__ import annotations

import numbers
from typing import Any


def positive_int(owner: str, name: str, value: Any) -> int:
    """``value`` as an int when it is an integer >= 1 (NumPy integers too, bools not); else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)
