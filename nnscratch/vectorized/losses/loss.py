"""What every loss here shares: per-element losses, a reduction, and the reduction's gradient.

A loss compares a model's output with its targets element by element (MSE, L1, BCE) or sample
by sample (NLL, multi-margin), giving losses l_i, then reduces them as PyTorch does::

    "mean": L = (1/M) sum_i l_i        "sum": L = sum_i l_i        "none": the l_i themselves

M is the number of losses: every element for the element-wise losses, N for the per-sample
ones (``NLLLoss`` with class weights or ignored targets divides by the weights of the targets
that count instead, as PyTorch does: its ``_mean_over``). The chain rule then splits backward in two halves::

    d L / d input = sum_i (d L / d l_i) * (d l_i / d input)
    d L / d l_i   = g / M  ("mean"),  g  ("sum"),  g_i  ("none")

where g is the upstream gradient of L (1 when the loss is the final objective). The first
half is written once, here (``Loss.backward``); each loss writes only its own l_i
(``_forward``) and d l_i / d input (``_backward``), side by side in its file.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from ...common.cross_entropy import REDUCTIONS, reduce_losses


class Loss:
    """A loss with ``forward(input, target)`` -> L and ``backward(grad_loss=None)`` -> d L / d input.

    Subclasses write ``_forward(input, target)`` -> the losses l_i (any shape; it keeps what
    ``_backward`` needs) and ``_backward(grad_losses)`` -> d L / d input, given d L / d l_i
    with the shape of the l_i. reduction: "mean" (default), "sum" or "none".
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self._losses: Any = None

    def forward(self, input: Any, target: Any) -> Any:
        """L: a 0-d array for "mean"/"sum", the losses l_i for "none"; in the dtype of ``input``."""
        self._losses = self._forward(input, target)
        if self.reduction == "mean":
            return self._losses.sum() / self._mean_over()
        return reduce_losses(self._losses, self.reduction)

    __call__ = forward

    def backward(self, grad_loss: Any = None) -> Any:
        """d L / d input, shaped like ``input``.

        grad_loss: the upstream gradient of L: a scalar for "mean"/"sum", an array shaped like
        the losses for "none"; 1 when omitted (L is the final objective).
        """
        name = type(self).__name__
        if self._losses is None:
            raise RuntimeError(f"{name}.backward() called before forward()")
        losses = self._losses
        xp = get_array_module(losses)
        grad = xp.ones((), dtype=losses.dtype) if grad_loss is None else xp.asarray(grad_loss, dtype=losses.dtype)
        expected = losses.shape if self.reduction == "none" else ()
        if grad_loss is not None and grad.shape != expected:
            raise ValueError(
                f"{name}.backward: grad_loss must have shape {expected} for reduction={self.reduction!r}, "
                f"got {tuple(grad.shape)}"
            )
        if self.reduction == "mean":
            grad = grad / self._mean_over()  # the 1/M of the mean: optimizers never divide by the batch again
        # a view, not a copy: every loss's _backward may then treat d L / d l_i as one value per l_i
        return self._backward(xp.broadcast_to(grad, losses.shape))

    def _mean_over(self) -> Any:
        """M, what "mean" divides the sum of the losses by: their number, unless a loss says otherwise."""
        return self._losses.size

    def _forward(self, input: Any, target: Any) -> Any:
        raise NotImplementedError

    def _backward(self, grad_losses: Any) -> Any:
        raise NotImplementedError


def check_same_shape(owner: str, input: Any, target: Any) -> Any:
    """For the element-wise losses: a floating-point ``input`` and a ``target`` of the same shape;
    returns the target as an array in the input's dtype."""
    xp = get_array_module(input)
    if not xp.issubdtype(input.dtype, xp.floating):
        raise ValueError(f"{owner}: input must be floating point, got dtype {input.dtype}")
    target = xp.asarray(target)
    if target.shape != input.shape:
        raise ValueError(
            f"{owner}: target must have the input's shape {tuple(input.shape)}, got shape {tuple(target.shape)}"
        )
    return target.astype(input.dtype, copy=False)
