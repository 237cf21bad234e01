"""Batch normalisation (Ioffe & Szegedy 2015): normalise each channel over the batch.

For every channel c, over all the values of that channel in the batch (the N axis, and the
spatial axes H, W for images), with m values in all:

    mean_c = sum(x) / m          var_c = sum((x - mean_c)^2) / m      (biased, as the paper)
    x_hat  = (x - mean_c) / sqrt(var_c + eps)
    y      = weight_c * x_hat + bias_c

In training the batch statistics are used and running estimates are kept for inference:

    running_mean = (1 - momentum) * running_mean + momentum * mean_c
    running_var  = (1 - momentum) * running_var  + momentum * var_c * m / (m - 1)

(the running variance uses the unbiased estimate, as PyTorch does). In eval mode the running
statistics replace the batch ones, and the layer is a fixed per-channel affine map.

Backward in training mode has to account for mean_c and var_c depending on every x in the
channel. Writing g = dL/dy, the three paths through x_hat, mean and var collapse to

    dL/dx = weight_c / sqrt(var_c + eps) * (g - mean(g) - x_hat * mean(g * x_hat))

with both means taken over the channel's m values. In eval mode it is just
``g * weight_c / sqrt(running_var_c + eps)``.

``BatchNorm1D`` ((N, C) or (N, C, L)) lives here and ``BatchNorm2D`` ((N, C, H, W)) in the
convolutional tier; both are this one implementation with a different input rank.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import xp
from .module import Module, Parameter


class BatchNorm(Module):
    """Batch normalisation over every axis except the channel axis 1. See the module docstring.

    Subclasses fix which input ranks are accepted (``input_ranks``).
    """

    input_ranks: tuple[int, ...] = (2, 3, 4)
    input_layout = "(N, C, ...)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        if num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be positive, got {num_features}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1], got {momentum}")
        self.num_features = num_features
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.weight = Parameter(xp.ones(num_features, dtype=xp.float32))
        self.bias = Parameter(xp.zeros(num_features, dtype=xp.float32))
        self.register_buffer("running_mean", xp.zeros(num_features, dtype=xp.float32))
        self.register_buffer("running_var", xp.ones(num_features, dtype=xp.float32))
        self.register_buffer("num_batches_tracked", xp.zeros((), dtype=xp.int64))

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"

    def _check_input(self, x: Any) -> None:
        name = type(self).__name__
        if x.ndim not in self.input_ranks or x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}(num_features={self.num_features}) expects input {self.input_layout} with "
                f"C={self.num_features}, got shape {tuple(x.shape)}"
            )

    def _per_channel(self, values: Any, ndim: int) -> Any:
        """(C,) -> (1, C, 1, ...) so it broadcasts against an input of rank ``ndim``."""
        return values.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x: Any) -> Any:
        self._check_input(x)
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // x.shape[1]
        if self.training:
            if count < 2:
                raise ValueError(
                    f"{type(self).__name__} needs more than 1 value per channel in training mode, "
                    f"got input of shape {tuple(x.shape)}"
                )
            mean = x.mean(axis=axes)
            centered = x - self._per_channel(mean, x.ndim)
            var = (centered * centered).mean(axis=axes)
            self._update_running_stats(mean, var, count)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
            centered = x - self._per_channel(mean, x.ndim)
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        x_hat = centered * self._per_channel(inv_std, x.ndim)
        self._save_for_backward(x_hat, inv_std, self.training)
        return x_hat * self._per_channel(self.weight.data, x.ndim) + self._per_channel(self.bias.data, x.ndim)

    def _update_running_stats(self, mean: Any, var: Any, count: int) -> None:
        # in place, so arrays handed out by state_dict() stay the live buffers
        unbiased_var = var * (count / (count - 1))
        self.running_mean *= 1.0 - self.momentum
        self.running_mean += self.momentum * mean.astype(self.running_mean.dtype)
        self.running_var *= 1.0 - self.momentum
        self.running_var += self.momentum * unbiased_var.astype(self.running_var.dtype)
        self.num_batches_tracked += 1

    def backward(self, grad_out: Any) -> Any:
        x_hat, inv_std, used_batch_stats = self._saved()
        ndim = grad_out.ndim
        axes = (0,) + tuple(range(2, ndim))
        grad_sum = grad_out.sum(axis=axes)
        grad_x_hat_sum = (grad_out * x_hat).sum(axis=axes)
        self.bias.grad += grad_sum
        self.weight.grad += grad_x_hat_sum
        scale = self._per_channel(self.weight.data * inv_std, ndim)
        if not used_batch_stats:
            return grad_out * scale
        count = grad_out.size // grad_out.shape[1]
        mean_grad = self._per_channel(grad_sum / count, ndim)
        mean_grad_x_hat = self._per_channel(grad_x_hat_sum / count, ndim)
        return scale * (grad_out - mean_grad - x_hat * mean_grad_x_hat)


class BatchNorm1D(BatchNorm):
    """Batch normalisation of features: x (N, C) or (N, C, L), statistics per feature C."""

    input_ranks = (2, 3)
    input_layout = "(N, C) or (N, C, L)"
