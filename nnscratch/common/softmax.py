"""Softmax: turn a vector of scores (logits) into probabilities.

    softmax(z)_i     = exp(z_i) / sum_j exp(z_j)
    log_softmax(z)_i = z_i - log(sum_j exp(z_j))

Both are unchanged when a constant is subtracted from every z_j, so we subtract the
largest one first. Then every exponent is <= 0: exp never overflows, and the largest
term is exactly exp(0) = 1, so the sum never underflows to zero (and log never sees 0).
That is why logits of magnitude 1e4 stay finite here.
"""

from __future__ import annotations

from typing import Any

from .backend import get_array_module


def softmax(x: Any, axis: int = -1) -> Any:
    """Probabilities along ``axis``: same shape and dtype as ``x``, entries in [0, 1] summing to 1.

    x: any shape, e.g. logits (N, C) with ``axis=-1``.
    """
    xp = get_array_module(x)
    exp = xp.exp(x - x.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """Log-probabilities along ``axis``: same shape and dtype as ``x``.

    Computed as ``shifted - log(sum(exp(shifted)))`` rather than ``log(softmax(x))``, which
    would give ``-inf`` wherever a probability underflows to 0.
    """
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
