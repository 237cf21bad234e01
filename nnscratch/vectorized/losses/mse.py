"""Mean squared error: the loss of regression, and of autoencoders that rebuild their input.

For output x and target t of the same shape (any shape), element by element::

    l_i = (x_i - t_i)^2                 d l_i / d x_i = 2 (x_i - t_i)

The gradient grows with the error: large mistakes are pulled back hard, which is what makes
MSE sensitive to outliers (``L1Loss`` and ``SmoothL1Loss`` are the robust alternatives).
Reductions as ``torch.nn.MSELoss``: the mean is over every element.
"""

from __future__ import annotations

from typing import Any

from .loss import Loss, check_same_shape


class MSELoss(Loss):
    """(x - t)^2 per element, reduced; input and target: the same shape, any shape."""

    def _forward(self, input: Any, target: Any) -> Any:
        difference = input - check_same_shape("MSELoss", input, target)
        self._difference = difference
        return difference * difference

    def _backward(self, grad_losses: Any) -> Any:
        return 2.0 * self._difference * grad_losses


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """The mean squared error of ``input`` against ``target`` (same shape); see :class:`MSELoss`."""
    return MSELoss(reduction).forward(input, target)
