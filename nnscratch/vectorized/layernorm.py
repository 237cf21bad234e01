"""Standardising over some axes of each sample, and ``LayerNorm`` (Ba et al. 2016) over the last one.

Every normalisation layer standardises a group of values with their own mean and biased
variance, then applies a learned affine map:

    x_hat = (x - mean) / sqrt(var + eps)          y = weight * x_hat + bias

``standardize`` and ``standardize_backward`` are that step and its gradient over any axes;
LayerNorm (here), ``LayerNorm2D`` and ``GroupNorm`` (convolutional tier) differ only in which
axes make a group. The mean and the variance depend on every x of the group, so dL/dx has
three paths (through x_hat directly, through the mean, through the variance); with
g = dL/dx_hat and both means over the group they collapse to

    dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)

(``BatchNorm`` in ``batchnorm.py`` is the same formula over the batch axis, with running
statistics on top.)
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module, xp
from ..common.checks import check_int, check_number
from .module import Module, Parameter


def affine_parameters(size: int) -> tuple[Parameter, Parameter]:
    """(weight, bias) of a normalisation's affine map, float32 (size,): 1s and 0s, so it starts as the identity."""
    return Parameter(xp.ones(size, dtype=xp.float32)), Parameter(xp.zeros(size, dtype=xp.float32))


def standardize(x: Any, axes: int | tuple[int, ...], eps: float) -> tuple[Any, Any]:
    """(x_hat, 1 / sqrt(var + eps)): x standardised over ``axes``, and the scale backward needs.

    x_hat has x's shape; the scale has x's shape with ``axes`` kept as size 1.
    """
    centered = x - x.mean(axis=axes, keepdims=True)
    var = (centered * centered).mean(axis=axes, keepdims=True)  # biased, as every normalisation paper
    inv_std = 1.0 / get_array_module(x).sqrt(var + eps)
    return centered * inv_std, inv_std


def standardize_backward(grad_x_hat: Any, x_hat: Any, inv_std: Any, axes: int | tuple[int, ...]) -> Any:
    """dL/dx from dL/dx_hat (the module docstring's formula), means over ``axes``; x's shape."""
    mean_grad = grad_x_hat.mean(axis=axes, keepdims=True)
    mean_grad_x_hat = (grad_x_hat * x_hat).mean(axis=axes, keepdims=True)
    return inv_std * (grad_x_hat - mean_grad - x_hat * mean_grad_x_hat)


class LayerNorm(Module):
    """LayerNorm over the last dimension, as ``torch.nn.LayerNorm(normalized_shape)`` with an int.

    x: (..., D) -> y: (..., D), e.g. (N, D) in an MLP. Each row of D features is standardised
    with its own mean and variance (no batch statistics: training and evaluation compute the
    same, any batch size, even 1), then y = weight_d * x_hat + bias_d; weight starts at 1, bias
    at 0, both (D,).

    Backward, with g = dL/dy * weight_d (weight varies inside the group, so it goes into g):

        dL/dx = standardize_backward(g) over the last axis
        dL/dweight = sum of dL/dy * x_hat over every axis but the last      dL/dbias = sum of dL/dy
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        self.normalized_shape = check_int("LayerNorm", "normalized_shape", normalized_shape)
        self.eps = check_number("LayerNorm", "eps", eps, 0.0)
        self.weight, self.bias = affine_parameters(normalized_shape)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 per value, as the other normalisations: a scale and a shift, the statistics folded in."""
        return 2 * math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "LayerNorm", {"normalized_shape": self.normalized_shape, "eps": self.eps}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """ONNX's LayerNormalization over the last axis: the same statistics, weight and bias."""
        return graph.node("LayerNormalization", [x, *graph.weight_and_bias(self)], axis=-1, epsilon=self.eps)

    def forward(self, x: Any) -> Any:
        if x.ndim < 1 or x.shape[-1] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm(normalized_shape={self.normalized_shape}) expects input of shape (..., "
                f"{self.normalized_shape}), got shape {tuple(x.shape)}"
            )
        x_hat, inv_std = standardize(x, -1, self.eps)
        self._save_for_backward(x_hat, inv_std)
        return x_hat * self.weight.data + self.bias.data

    def backward(self, grad_out: Any) -> Any:
        x_hat, inv_std = self._saved()
        batch_axes = tuple(range(grad_out.ndim - 1))
        self.weight.grad += (grad_out * x_hat).sum(axis=batch_axes)
        self.bias.grad += grad_out.sum(axis=batch_axes)
        return standardize_backward(grad_out * self.weight.data, x_hat, inv_std, -1)
