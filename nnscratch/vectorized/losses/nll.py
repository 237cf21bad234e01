"""Negative log-likelihood: the loss of a classifier whose outputs are already log-probabilities.

For one sample with log-probabilities a (C classes, e.g. ``LogSoftmax`` of the logits), target
class y and class weights w (1 each unless given)::

    l = -w_y a_y                 d l / d a_j = -w_y if j = y, else 0

NLL only picks an entry: the work of turning scores into probabilities is the layer before it.
``LogSoftmax`` followed by ``NLLLoss`` is cross-entropy, computed in two steps; its gradient
through both is softmax(z) - onehot(y), the one ``CrossEntropyLoss`` computes in one. Keeping
them apart teaches the parts (and lets a model output log-probabilities for sampling);
fusing them is cheaper.

Class weights make a rare class count more. A target equal to ``ignore_index`` (-100 by
default, a value no class has; e.g. the padding of a sequence) counts for nothing: its loss
is 0 and so is its gradient. Both change the mean, as in ``torch.nn.NLLLoss``: it is a weighted
average, divided by the weights of the targets that count, not by N::

    "mean": L = sum_n l_n / sum_{n not ignored} w_{y_n}

so a batch of one class scores the same whatever that class's weight. When no target counts,
the mean is 0/0: NaN, as in PyTorch (and NumPy warns of it); the gradient is then 0 at the
ignored targets, as PyTorch's.
"""

from __future__ import annotations

import numbers
from typing import Any

from ...common.backend import get_array_module
from .class_scores import checked_class_indices, class_weights
from .loss import Loss


class NLLLoss(Loss):
    """-weight[y_n] * log_probs[n, y_n] per sample, 0 where y_n == ignore_index;
    log_probs: (N, C) floats, target: (N,) class indices.

    weight: (C,) class weights, or None for 1 each. ignore_index: the target value that counts
    for nothing (an integer; a class index ignores that class).
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
            raise ValueError(f"NLLLoss: ignore_index must be an integer, got {ignore_index!r}")
        self.weight = weight
        self.ignore_index = int(ignore_index)

    def _forward(self, input: Any, target: Any) -> Any:
        xp = get_array_module(input)
        target = xp.asarray(target)
        counted = target != self.ignore_index
        # an ignored target may be no class at all (-100): class 0 stands in, and its weight is zeroed
        class_index = checked_class_indices("NLLLoss", input, xp.where(counted, target, 0))
        weight = class_weights("NLLLoss", self.weight, input.shape[1], input.dtype)
        sample_weight = counted.astype(input.dtype) if weight is None else xp.where(counted, weight[class_index], 0)
        rows = xp.arange(len(input))
        self._cache = (input.shape, input.dtype, rows, class_index, counted, sample_weight)
        return -sample_weight * input[rows, class_index]

    def _mean_over(self) -> Any:
        """The weights of the targets that count: N without class weights and ignored targets."""
        *_, sample_weight = self._cache
        return sample_weight.sum()

    def _backward(self, grad_losses: Any) -> Any:
        shape, dtype, rows, class_index, counted, sample_weight = self._cache
        xp = get_array_module(grad_losses)
        grad = xp.zeros(shape, dtype=dtype)
        # zeroed before the product: with nothing counted, the mean's 1/0 would make 0 * inf = NaN there;
        # subtracted from the zeros (not assigned negated), so an ignored target's entry is 0, never -0
        grad[rows, class_index] -= sample_weight * xp.where(counted, grad_losses, 0)
        return grad


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> Any:
    """The negative log-likelihood of log-probabilities ``input`` (N, C) for ``target`` (N,); see :class:`NLLLoss`."""
    return NLLLoss(weight, ignore_index, reduction).forward(input, target)
