"""Seeds: one call makes a whole run repeatable.

``manual_seed(s)`` resets the library's root generator. Everything random that is not
given its own seed (initial weights, dropout masks, shuffling, augmentation) draws a seed
from that root when it is created, so the same program with the same seed builds the same
model and sees the same batches, in every tier.
"""

from __future__ import annotations

import numpy as np

_root = {"generator": np.random.default_rng(0)}


def manual_seed(seed: int) -> None:
    """Reset the root generator: what is created afterwards is reproducible."""
    _root["generator"] = np.random.default_rng(seed)


def next_seed() -> int:
    """A fresh seed from the root generator (for an object that needs its own stream)."""
    return int(_root["generator"].integers(2**63 - 1))


def new_generator(seed: int | None = None) -> np.random.Generator:
    """A NumPy generator from ``seed``, or from :func:`next_seed` when ``seed`` is None.

    Initial weights are drawn on the CPU with these and then moved to the device, so a model
    starts from the same numbers on NumPy and on CuPy.
    """
    return np.random.default_rng(next_seed() if seed is None else seed)
