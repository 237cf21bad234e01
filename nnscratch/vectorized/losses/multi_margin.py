"""The multiclass hinge loss (the multiclass SVM of Weston & Watkins 1999; CS231n's SVM loss).

For one sample with scores x (C classes) and target class y, every other class i is asked to
score at least ``margin`` below the target; each class that does not pays for the shortfall::

    h_i = max(0, margin - x_y + x_i)                       for i != y
    l   = w_y / C * sum_{i != y} h_i^p                     (p = 1 or 2; w: class weights, or 1)

    d l / d x_i = w_y / C * p h_i^(p-1)   for i != y with h_i > 0, else 0
    d l / d x_y = -sum_{i != y} d l / d x_i

Unlike cross-entropy, a sample stops contributing once every margin is met: the hinge is
satisfied, not merely improved. The division by C is PyTorch's (``torch.nn.MultiMarginLoss``);
CS231n's ``svm_loss`` leaves it out, so its numbers are C times these. With p = 1 the gradient
jumps at h_i = 0; there it is taken as 0, as PyTorch takes it. Reductions: the mean is over N.
"""

from __future__ import annotations

import math
from typing import Any

from ...common.backend import get_array_module
from ...common.checks import check_number
from .class_scores import checked_class_indices, class_weights
from .loss import Loss


class MultiMarginLoss(Loss):
    """Multiclass hinge per sample (see the module docstring); input: (N, C) scores, target: (N,) class indices.

    p: 1 or 2. margin: a number (usually > 0). weight: (C,) class weights, or None for 1 each.
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self.p = p
        # any margin, as PyTorch: a negative one forgives a target that scores up to -margin below another
        self.margin = check_number("MultiMarginLoss", "margin", margin, -math.inf)
        self.weight = weight

    def _forward(self, input: Any, target: Any) -> Any:
        xp = get_array_module(input)
        class_index = checked_class_indices("MultiMarginLoss", input, target)
        num_samples, num_classes = input.shape
        rows = xp.arange(num_samples)
        hinge = xp.maximum(self.margin - input[rows, class_index][:, None] + input, 0)
        hinge[rows, class_index] = 0  # the target class is not compared with itself
        scale = class_weights("MultiMarginLoss", self.weight, num_classes, input.dtype)
        scale = 1.0 / num_classes if scale is None else scale[class_index][:, None] / num_classes
        self._cache = (hinge, rows, class_index, scale)
        terms = hinge if self.p == 1 else hinge * hinge
        return (scale * terms).sum(axis=1)

    def _backward(self, grad_losses: Any) -> Any:
        hinge, rows, class_index, scale = self._cache
        # d h_i^p / d h_i: 1 where the margin is violated (p = 1), 2 h_i (p = 2); 0 where it is met
        slope = (hinge > 0).astype(hinge.dtype) if self.p == 1 else 2.0 * hinge
        grad = slope * scale * grad_losses[:, None]
        # each h_i holds -x_y: the target's score collects minus every other column's gradient
        grad[rows, class_index] -= grad.sum(axis=1)  # (that entry is 0 so far: h_y is not a term)
        return grad


def multi_margin_loss(
    input: Any, target: Any, p: int = 1, margin: float = 1.0, weight: Any = None, reduction: str = "mean"
) -> Any:
    """The multiclass hinge loss of scores ``input`` (N, C) for ``target`` (N,); see :class:`MultiMarginLoss`."""
    return MultiMarginLoss(p, margin, weight, reduction).forward(input, target)
