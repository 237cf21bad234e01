"""How a check says "wrong": the first element where the learner's numbers leave the library's.

    expect_close("weight.grad", expected, got)
    Mismatch: weight.grad at index (2, 0): expected 0.3125, got -0.1875 (4 of 12 elements differ)

"First" is in reading order (C order), so the message points at the same element every run.
Checks run in float64, where the library and a correct solution agree to about 1e-12; the
tolerance leaves room for a different but equivalent order of operations, not for a wrong term.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..common.backend import to_cpu

RTOL = 1e-6
ATOL = 1e-9


class Mismatch(AssertionError):
    """The learner's result differs from the library's (the message says where and by how much)."""


def as_numbers(value: Any) -> np.ndarray:
    """An array, a list of floats or a float as a NumPy float64 array (on the CPU)."""
    return np.asarray(to_cpu(value) if hasattr(value, "shape") else value, dtype=np.float64)


def expect_close(what: str, expected: Any, got: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Raise ``Mismatch`` naming ``what`` and the first element that differs; shapes must match first."""
    if got is None:
        raise Mismatch(f"{what}: expected {np.shape(as_numbers(expected))} numbers, got None")
    expected, got = as_numbers(expected), as_numbers(got)
    if got.shape != expected.shape:
        raise Mismatch(f"{what}: expected shape {expected.shape}, got shape {got.shape}")
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f" at index {index}" if index else ""
    raise Mismatch(
        f"{what}{where}: expected {expected[index]:.6g}, got {got[index]:.6g} "
        f"({int(bad.sum())} of {bad.size} elements differ)"
    )


def expect(condition: bool, message: str) -> None:
    """Raise ``Mismatch(message)`` unless ``condition``: for the checks that are not a comparison."""
    if not condition:
        raise Mismatch(message)
