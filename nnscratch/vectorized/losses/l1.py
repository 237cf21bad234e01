"""Absolute error (L1) and its smoothed form, the robust losses of regression.

For output x and target t of the same shape, with d = x - t, element by element::

    L1:        l = |d|                                   d l / d x = sign(d)
    SmoothL1:  l = d^2 / (2 beta)    where |d| < beta    d l / d x = d / beta
               l = |d| - beta / 2    elsewhere           d l / d x = sign(d)

The L1 gradient has the same size for every mistake, so one outlier cannot dominate a batch as
it does under MSE; but it does not shrink near the answer, where it jumps between -1 and +1.
Smooth L1 (Girshick 2015, "Fast R-CNN") is the parabola inside |d| < beta and L1 outside:
the two pieces meet with the same value and slope at |d| = beta, so its gradient is simply
d / beta clipped to [-1, 1]. beta = 0 leaves no parabola: Smooth L1 is then L1, as in PyTorch.
At d = 0 the L1 gradient is taken as 0, as ``torch.sign`` takes it.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from ...common.checks import check_number
from .loss import Loss, check_same_shape


class L1Loss(Loss):
    """|x - t| per element, reduced; input and target: the same shape, any shape."""

    def _forward(self, input: Any, target: Any) -> Any:
        self._difference = input - check_same_shape(type(self).__name__, input, target)
        return get_array_module(input).abs(self._difference)

    def _backward(self, grad_losses: Any) -> Any:
        return get_array_module(grad_losses).sign(self._difference) * grad_losses


class SmoothL1Loss(L1Loss):
    """Smooth L1 per element (see the module docstring), reduced; beta >= 0 (0: plain L1)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = check_number("SmoothL1Loss", "beta", beta, 0.0)

    def _forward(self, input: Any, target: Any) -> Any:
        absolute = super()._forward(input, target)
        if self.beta == 0:
            return absolute
        xp = get_array_module(input)
        # inside: the parabola; outside: L1 lowered by beta / 2 so that the two pieces meet
        return xp.where(absolute < self.beta, 0.5 * absolute * absolute / self.beta, absolute - 0.5 * self.beta)

    def _backward(self, grad_losses: Any) -> Any:
        if self.beta == 0:
            return super()._backward(grad_losses)
        xp = get_array_module(grad_losses)
        return xp.clip(self._difference / self.beta, -1.0, 1.0) * grad_losses


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """The absolute error of ``input`` against ``target`` (same shape); see :class:`L1Loss`."""
    return L1Loss(reduction).forward(input, target)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
    """The smooth L1 loss of ``input`` against ``target`` (same shape); see :class:`SmoothL1Loss`."""
    return SmoothL1Loss(reduction, beta).forward(input, target)
