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

For speed, forward keeps ``centered = x - mean_c`` and ``1 / sqrt(var_c + eps)`` rather than
x_hat (x_hat is their product, so nothing is lost), the per-channel constants are folded
before they touch the big arrays (y = centered * (weight_c / sqrt(var_c + eps)) + bias_c is
two passes over x, not four), sums over the channel's m values go over the batch axis
first (``_channel_sum``), and the per-channel constants meet the big arrays written out over
one sample (``per_channel``: the same numbers as a (1, C, 1, 1) view, in less time).

Synchronised BatchNorm (data-parallel training with ``--sync-bn``, ``data_parallel.py``): each
process holds a K-th of the batch, and ``sync`` sums every per-channel sum above over the
processes, with the counts: in forward sum(x) and then sum((x - mean_c)^2) (two passes, as
above, rather than sums of squares, whose difference loses digits in float32), in backward
sum(g) and sum(g * x_hat). The statistics are then the global batch's, as one process would
compute them. The weight and bias gradients keep this process's own sums: the trainer averages
them over the processes with every other gradient.

``BatchNorm1D`` ((N, C) or (N, C, L)) lives here and ``BatchNorm2D`` ((N, C, H, W)) in the
convolutional tier; both are this one implementation with a different input rank.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..common.backend import get_array_module, xp
from ..common.checks import check_int, check_number
from .module import Module, Parameter
from .per_channel import per_channel


class BatchNorm(Module):
    """Batch normalisation over every axis except the channel axis 1. See the module docstring.

    Subclasses fix which input ranks are accepted (``input_ranks``).
    """

    input_ranks: tuple[int, ...] = (2, 3, 4)
    input_layout = "(N, C, ...)"
    torch_name: str | None = None  # the torch.nn class of each subclass
    # (C,) sums and a count over this process's batch -> over every process's (see the module docstring)
    sync: Callable[[Any, int], tuple[Any, int]] | None = None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        name = type(self).__name__
        self.num_features = check_int(name, "num_features", num_features)
        self.eps = check_number(name, "eps", eps, 0.0)
        self.momentum = check_number(name, "momentum", momentum, 0.0, 1.0)
        self.weight = Parameter(xp.ones(num_features, dtype=xp.float32))
        self.bias = Parameter(xp.zeros(num_features, dtype=xp.float32))
        self.register_buffer("running_mean", xp.zeros(num_features, dtype=xp.float32))
        self.register_buffer("running_var", xp.ones(num_features, dtype=xp.float32))
        self.register_buffer("num_batches_tracked", xp.zeros((), dtype=xp.int64))

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 per value: a scale and a shift, with the statistics folded into them."""
        return 2 * math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]] | None:
        if self.torch_name is None:
            return None
        return self.torch_name, {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """BatchNormalization in its inference form: the running statistics, as eval mode uses them."""
        statistics = [graph.parameter(name, getattr(self, name)) for name in ("running_mean", "running_var")]
        return graph.node("BatchNormalization", [x, *graph.weight_and_bias(self), *statistics], epsilon=self.eps)

    def _check_input(self, x: Any) -> None:
        name = type(self).__name__
        if x.ndim not in self.input_ranks or x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}(num_features={self.num_features}) expects input {self.input_layout} with "
                f"C={self.num_features}, got shape {tuple(x.shape)}"
            )

    @staticmethod
    def _channel_sum(values: Any) -> Any:
        """(N, C, ...) -> (C,): the sum over every axis but the channel axis.

        The batch axis goes first: that adds whole (C, ...) slabs element by element, which is
        several times faster than ``values.sum(axis=(0, 2, 3))`` on small images.
        """
        total = values.sum(axis=0)
        return total.reshape(total.shape[0], -1).sum(axis=1)

    @staticmethod
    def _channel_dot(a: Any, b: Any) -> Any:
        """(N, C, ...) twice -> (C,): sum over every axis but the channel axis of a * b, without storing a * b."""
        n, c = a.shape[:2]
        return get_array_module(a).einsum("ncp,ncp->c", a.reshape(n, c, -1), b.reshape(n, c, -1))

    def forward(self, x: Any) -> Any:
        self._check_input(x)
        local_count = x.size // x.shape[1]
        if self.training:
            x_sum, count = self._global_sums(self._channel_sum(x), local_count)
            if count < 2:
                raise ValueError(
                    f"{type(self).__name__} needs more than 1 value per channel in training mode, "
                    f"got input of shape {tuple(x.shape)}"
                )
            mean = x_sum / count
            centered = x - per_channel(mean, x.shape)
            var = self._global_sums(self._channel_dot(centered, centered), local_count)[0] / count
            self._update_running_stats(mean, var, count)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
            centered = None
        inv_std = 1.0 / get_array_module(x).sqrt(var + self.eps)
        scale = self.weight.data * inv_std  # y = x_hat * weight + bias = (x - mean) * scale + bias
        if centered is None:  # eval: one pass, y = x * scale + (bias - mean * scale)
            y = x * per_channel(scale, x.shape)
            y += per_channel(self.bias.data - mean * scale, x.shape)
            self._save_for_backward(x, inv_std, False)
            return y
        y = centered * per_channel(scale, x.shape)
        y += per_channel(self.bias.data, x.shape)
        self._save_for_backward(centered, inv_std, True)
        return y

    def _global_sums(self, sums: Any, count: int) -> tuple[Any, int]:
        """(C,) sums over ``count`` values per channel -> the same over every process's batch with
        ``sync`` (--sync-bn), else unchanged."""
        return (sums, count) if self.sync is None else self.sync(sums, count)

    def _update_running_stats(self, mean: Any, var: Any, count: int) -> None:
        # in place, so arrays handed out by state_dict() stay the live buffers
        unbiased_var = var * (count / (count - 1))
        self.running_mean *= 1.0 - self.momentum
        self.running_mean += self.momentum * mean.astype(self.running_mean.dtype)
        self.running_var *= 1.0 - self.momentum
        self.running_var += self.momentum * unbiased_var.astype(self.running_var.dtype)
        self.num_batches_tracked += 1

    def backward(self, grad_out: Any) -> Any:
        # centered: x - mean in training mode; x itself in eval mode (its mean is the running one)
        centered, inv_std, used_batch_stats = self._saved()
        shape = grad_out.shape
        grad_sum = self._channel_sum(grad_out)
        if not used_batch_stats:
            centered = centered - per_channel(self.running_mean.astype(centered.dtype), shape)
        grad_x_hat_sum = self._channel_dot(grad_out, centered) * inv_std  # sum of g * x_hat
        self.bias.grad += grad_sum
        self.weight.grad += grad_x_hat_sum
        scale = self.weight.data * inv_std
        grad_x = grad_out * per_channel(scale, shape)
        if not used_batch_stats:
            return grad_x
        # scale * (g - mean(g) - x_hat * mean(g * x_hat)), with x_hat = centered * inv_std
        count = grad_out.size // grad_out.shape[1]
        if self.sync is not None:  # --sync-bn: means over the global batch, as forward took them
            grad_sum, grad_x_hat_sum, count = self._synced_gradient_sums(grad_sum, grad_x_hat_sum, count)
        grad_x -= centered * per_channel(scale * inv_std * grad_x_hat_sum / count, shape)
        grad_x -= per_channel(scale * grad_sum / count, shape)
        return grad_x

    def _synced_gradient_sums(self, grad_sum: Any, grad_x_hat_sum: Any, count: int) -> tuple[Any, Any, int]:
        """--sync-bn: backward's two (C,) sums over ``count`` values per channel -> the same over every
        process's batch, in one call of ``sync`` (one Allreduce for both)."""
        both, count = self.sync(get_array_module(grad_sum).concatenate([grad_sum, grad_x_hat_sum]), count)
        return both[: self.num_features], both[self.num_features :], count


class BatchNorm1D(BatchNorm):
    """Batch normalisation of features: x (N, C) or (N, C, L), statistics per feature C."""

    input_ranks = (2, 3)
    input_layout = "(N, C) or (N, C, L)"
    torch_name = "BatchNorm1d"
