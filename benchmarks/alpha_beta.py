"""The alpha-beta cost of a ring allreduce, and its two parameters fitted to measured times.

Sending a message of n bytes costs ``alpha + n * beta``: alpha is the latency (seconds per
message, whatever its size), beta the inverse bandwidth (seconds per byte). A ring allreduce
of n bytes over p processes cuts the buffer into p chunks and runs two phases of p - 1 steps:
a reduce-scatter (each step, every process sends one chunk to its right neighbour and adds
the chunk coming from its left one), then an allgather (the finished chunks go round the
ring). Every step moves n / p bytes per process, all links at once, so

    T(n, p) = 2 (p - 1) alpha + 2 (p - 1) / p * n * beta.

The bandwidth term hardly grows with p (it tends to 2 n beta), which is why the ring is the
algorithm of choice for large gradients; the latency term grows linearly. The time to add the
chunks is proportional to n too, so a fitted beta includes it. MPI libraries pick other
algorithms for small messages (recursive doubling), so the fitted alpha is an effective
latency per ring step, not the time of one bare message.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ring_allreduce_seconds(nbytes: float, processes: int, alpha: float, beta: float) -> float:
    """T(n, p) of the module docstring: seconds for a ring allreduce of ``nbytes`` over ``processes``.

    One process has nobody to talk to: 0 seconds.
    """
    if processes < 1:
        raise ValueError(f"ring_allreduce_seconds: processes must be >= 1, got {processes}")
    steps = processes - 1
    return 2 * steps * alpha + 2 * steps / processes * nbytes * beta


def fit_alpha_beta(nbytes: Sequence[float], seconds: Sequence[float], processes: int) -> tuple[float, float]:
    """(alpha, beta) of ``ring_allreduce_seconds`` that best fit measured (bytes, seconds) pairs.

    Least squares on the *relative* error (every equation divided by its measured time): the
    times span four orders of magnitude, and a plain fit would spend all its effort on the
    largest buffers and leave alpha to chance (it can even come out negative). Needs at
    least two distinct sizes and ``processes`` >= 2 (one process measures nothing).
    """
    if processes < 2:
        raise ValueError(f"fit_alpha_beta: need at least 2 processes, got {processes}")
    sizes, times = np.asarray(nbytes, dtype=float), np.asarray(seconds, dtype=float)
    if sizes.shape != times.shape or len(np.unique(sizes)) < 2:
        raise ValueError(f"fit_alpha_beta: need matching sizes and times with >= 2 distinct sizes, got {sizes.shape}")
    if np.any(times <= 0):
        raise ValueError("fit_alpha_beta: every time must be positive")
    steps = processes - 1
    design = np.column_stack([np.full_like(sizes, 2.0 * steps), 2.0 * steps / processes * sizes])
    (alpha, beta), *_ = np.linalg.lstsq(design / times[:, None], np.ones_like(times), rcond=None)
    return float(alpha), float(beta)
