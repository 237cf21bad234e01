"""Negative log-likelihood: the loss of a classifier whose outputs are already log-probabilities.

For one sample with log-probabilities a (C classes, e.g. ``LogSoftmax`` of the logits) and
target class y::

    l = -a_y                 d l / d a_j = -1 if j = y, else 0

NLL only picks an entry: the work of turning scores into probabilities is the layer before it.
``LogSoftmax`` followed by ``NLLLoss`` is cross-entropy, computed in two steps; its gradient
through both is softmax(z) - onehot(y), the one ``CrossEntropyLoss`` computes in one. Keeping
them apart teaches the parts (and lets a model output log-probabilities for sampling);
fusing them is cheaper. Reductions as ``torch.nn.NLLLoss`` without class weights: the mean
is over the N samples.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from .class_scores import checked_class_indices
from .loss import Loss


class NLLLoss(Loss):
    """-log_probs[n, y_n] per sample; log_probs: (N, C) floats, target: (N,) class indices."""

    def _forward(self, input: Any, target: Any) -> Any:
        class_index = checked_class_indices("NLLLoss", input, target)
        rows = get_array_module(input).arange(len(input))
        self._cache = (input.shape, input.dtype, rows, class_index)
        return -input[rows, class_index]

    def _backward(self, grad_losses: Any) -> Any:
        shape, dtype, rows, class_index = self._cache
        grad = get_array_module(grad_losses).zeros(shape, dtype=dtype)
        grad[rows, class_index] = -grad_losses  # only the picked entry moves the loss
        return grad


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """The negative log-likelihood of log-probabilities ``input`` (N, C) for ``target`` (N,); see :class:`NLLLoss`."""
    return NLLLoss(reduction).forward(input, target)
