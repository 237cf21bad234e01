"""Cache-sized batch slices and the scratch arrays they reuse: what the CPU routes share.

A convolution's im2col matrix is kh*kw times the size of its input. On the CPU the ``wide``
and ``winograd`` routes send the batch through a slice of samples at a time, each slice's
matrix about ``CPU_COLS_BYTES_PER_SLICE``, so that the copy and the products that read it stay
in the processor's last-level cache; it also bounds the extra memory a layer needs. The
numbers do not depend on it. On a GPU the whole batch goes at once: there, fewer and larger
products are what is fast.
"""

from __future__ import annotations

import math
from typing import Any

from ...common.backend import current_device

# The fastest of 1, 2, 4, 8 and 16 MiB for the shapes of benchmarks/conv_modules.py (docs/performance.md).
CPU_COLS_BYTES_PER_SLICE = 8 * 2**20


def batch_slices(batch_size: int, bytes_per_sample: int) -> list[slice]:
    """Consecutive slices of the batch whose matrices take about ``CPU_COLS_BYTES_PER_SLICE`` each."""
    if current_device() != "cpu":
        return [slice(0, batch_size)]
    step = max(1, CPU_COLS_BYTES_PER_SLICE // max(1, bytes_per_sample))
    return [slice(start, min(batch_size, start + step)) for start in range(0, batch_size, step)]


class Scratch:
    """Flat scratch arrays that every batch slice of one forward or backward reuses.

    ``get(name, shape)`` is a view of the first prod(shape) elements of the array ``name``
    (allocated on first use; the first slice is the largest). Reusing the memory spares each
    slice a fresh multi-megabyte allocation, which costs page faults every time.
    """

    def __init__(self, xp: Any, dtype: Any) -> None:
        self.xp, self.dtype, self.arrays = xp, dtype, {}

    def get(self, name: str, shape: tuple[int, ...]) -> Any:
        size = math.prod(shape)
        if name not in self.arrays or self.arrays[name].size < size:
            self.arrays[name] = self.xp.empty(size, dtype=self.dtype)
        return self.arrays[name][:size].reshape(shape)
