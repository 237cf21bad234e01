"""The inputs of the losses that score classes: scores (N, C), class-index targets (N,), class weights (C,).

``NLLLoss`` and ``MultiMarginLoss`` both take one row of C scores per sample, one class
index per sample, and optionally one weight per class. The checks are the ones cross-entropy
makes (``common/cross_entropy.py``), named after the loss that makes them. As there, the values
themselves (finite scores, indices in range) are read only where the arrays are in the
computer's memory: on a GPU each check would make the host wait for the device at every batch.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module, on_cpu, to_device
from ...common.cross_entropy import check_logits, class_indices


def checked_class_indices(owner: str, scores: Any, target: Any) -> Any:
    """The targets of scores (N, C) as int64 class indices (N,), or a ValueError naming ``owner``."""
    check = on_cpu(scores)
    check_logits(scores, check, owner)
    target = get_array_module(scores).asarray(target)
    if target.ndim != 1:
        raise ValueError(
            f"{owner}: targets must be class indices of shape (N,) = ({len(scores)},), got shape {tuple(target.shape)}"
        )
    return class_indices(target, *scores.shape, check, owner)


def class_weights(owner: str, weight: Any, num_classes: int, dtype: Any) -> Any:
    """``weight`` as a (C,) array in ``dtype`` on the scores' device (None stays None: 1 each),
    or a ValueError naming ``owner``."""
    if weight is None:
        return None
    weight = to_device(weight, dtype)
    if weight.shape != (num_classes,):
        raise ValueError(f"{owner}: weight must have shape (C,) = ({num_classes},), got shape {tuple(weight.shape)}")
    return weight
