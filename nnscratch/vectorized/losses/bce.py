"""Binary cross-entropy from logits: one yes/no question per output, answered by a logit.

For a logit x, a target t in [0, 1] (the probability of "yes"), sigma = sigmoid and an
optional pos_weight p that counts the positive term p times (for rare positives)::

    l = -[ p t log sigma(x) + (1 - t) log(1 - sigma(x)) ]
      = p t softplus(-x) + (1 - t) softplus(x)              softplus(z) = log(1 + exp(z))
    d l / d x = (1 - t) sigma(x) - p t (1 - sigma(x))        (= sigma(x) - t when p = 1)

The second line is why the logits are taken rather than probabilities: log sigma(x) =
-softplus(-x), and softplus(z) = max(z, 0) + log(1 + exp(-|z|)) exponentiates only numbers
<= 0, so a logit of 1000 gives a finite loss where log(sigmoid(1000) - ...) would give
log(0) = -inf. The same reasoning as log-sum-exp for the softmax (``common/softmax.py``).

weight (optional) multiplies each element's loss. weight and pos_weight broadcast against the
input as NumPy broadcasts, e.g. pos_weight of shape (C,) for an input (N, C): one per class,
as in ``torch.nn.BCEWithLogitsLoss``.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module, to_device
from ..activations import sigmoid
from .loss import Loss, check_same_shape


def softplus(x: Any) -> Any:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). Any shape; keeps the dtype."""
    xp = get_array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy of logits against targets in [0, 1]; input and target: the same shape.

    weight, pos_weight: arrays (or numbers) that broadcast to the input's shape, or None.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def _forward(self, input: Any, target: Any) -> Any:
        target = check_same_shape("BCEWithLogitsLoss", input, target)
        weight = _broadcast("weight", self.weight, input)
        pos_weight = _broadcast("pos_weight", self.pos_weight, input)
        positive = target if pos_weight is None else pos_weight * target
        # softplus(-x) = softplus(x) - x: one softplus for both terms
        softplus_x = softplus(input)
        losses = positive * (softplus_x - input) + (1.0 - target) * softplus_x
        self._cache = (input, target, positive, weight)
        return losses if weight is None else weight * losses

    def _backward(self, grad_losses: Any) -> Any:
        input, target, positive, weight = self._cache
        probability = sigmoid(input)
        grad = (1.0 - target) * probability - positive * (1.0 - probability)
        if weight is not None:
            grad *= weight
        return grad * grad_losses


def _broadcast(name: str, value: Any, input: Any) -> Any:
    """``value`` (None, a number or an array) on the input's device and in its dtype, checked to
    broadcast to the input's shape without changing it."""
    if value is None:
        return None
    xp = get_array_module(input)
    array = to_device(value, input.dtype)
    try:
        xp.broadcast_to(array, input.shape)  # a view: only the shapes are compared
    except ValueError:
        raise ValueError(
            f"BCEWithLogitsLoss: {name} of shape {tuple(array.shape)} does not broadcast to the input's shape "
            f"{tuple(input.shape)}"
        ) from None
    return array


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Any:
    """Binary cross-entropy of logits ``input`` against ``target`` (same shape); see :class:`BCEWithLogitsLoss`."""
    return BCEWithLogitsLoss(weight, reduction, pos_weight).forward(input, target)
