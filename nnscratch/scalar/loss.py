"""Softmax and cross-entropy of one sample's logits, as loops over Python floats.

For logits z_1 .. z_C and target class y::

    p_j  = exp(z_j) / sum_k exp(z_k)                      (softmax)
    loss = -log p_y = logsumexp(z) - z_y                  (cross-entropy)
    d loss / d z_j = p_j - (1 if j == y else 0)           (softmax minus one-hot)

The same numbers as ``nnscratch.common.cross_entropy`` for a batch of one; a batch's mean
loss puts a 1/N on each sample's gradient (``Network.forward_backward`` does that).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence


def logsumexp(logits: Sequence[float]) -> float:
    """log(sum_k exp(z_k)), computed as m + log(sum_k exp(z_k - m)) with m = max(z).

    exp(1000) overflows (``math.exp`` raises), but after subtracting the largest logit every
    exponent is <= 0, so each exp lies in (0, 1] and the largest is exactly 1: the sum can
    neither overflow nor underflow to 0.
    """
    largest = max(logits)
    return largest + math.log(sum([math.exp(z - largest) for z in logits]))


def softmax(logits: Sequence[float]) -> list[float]:
    """p_j = exp(z_j - logsumexp(z)): probabilities (C,) summing to 1, from logits (C,)."""
    log_total = logsumexp(logits)
    return [math.exp(z - log_total) for z in logits]


def cross_entropy(logits: Sequence[float], target: int) -> tuple[float, list[float]]:
    """(loss, d loss / d logits) for one sample: logsumexp(z) - z_y, and softmax(z) - onehot(y)."""
    if not isinstance(target, numbers.Integral) or not 0 <= target < len(logits):
        raise ValueError(
            f"cross_entropy: target must be a class index in 0..{len(logits) - 1} for {len(logits)} logits, "
            f"got {target!r}"
        )
    loss = logsumexp(logits) - logits[target]
    grad_logits = softmax(logits)
    grad_logits[target] -= 1.0
    return loss, grad_logits
