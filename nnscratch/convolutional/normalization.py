"""Normalisation of images: over the batch per channel (BatchNorm2D), over the channels per pixel
(LayerNorm2D), or over groups of channels per sample (GroupNorm).

All standardise a group of values, x_hat = (x - mean) / sqrt(var + eps) with the biased
variance, then apply a per-channel affine map y = weight_c * x_hat + bias_c. They differ in
the group:

- ``BatchNorm2D`` (Ioffe & Szegedy 2015): for each channel, the N*H*W values of the batch;
  running statistics stand in for the batch ones in eval mode. The implementation is the
  vectorized tier's ``BatchNorm``, which is written for any input rank.
- ``LayerNorm2D`` (Ba et al. 2016, as ConvNeXt applies it, Liu et al. 2022): for each
  sample and pixel, the C channel values. No batch statistics, so training and evaluation
  compute the same thing and the batch size does not matter.
- ``GroupNorm`` (Wu & He 2018): for each sample, the (C/G)*H*W values of one group of C/G
  channels. G = 1 is LayerNorm over (C, H, W); G = C is InstanceNorm (each channel of each
  sample alone); and BatchNorm is the one that pools over the batch instead.

LayerNorm2D and GroupNorm standardise with the vectorized tier's ``standardize`` (and its
backward), over their own axes: one implementation of the formula.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..common.checks import check_int, check_number
from ..vectorized.batchnorm import BatchNorm
from ..vectorized.layernorm import affine_parameters, standardize, standardize_backward
from ..vectorized.module import Module
from ..vectorized.per_channel import per_channel
from .windows import check_images


class BatchNorm2D(BatchNorm):
    """Batch normalisation of images: x (N, C, H, W), statistics per channel over (N, H, W).

    ``BatchNorm2D(num_features, eps=1e-5, momentum=0.1)`` as ``torch.nn.BatchNorm2d``; the
    math (and its backward) is ``nnscratch.vectorized.batchnorm.BatchNorm``.
    """

    input_ranks = (4,)
    input_layout = "(N, C, H, W)"
    torch_name = "BatchNorm2d"


class LayerNorm2D(Module):
    """LayerNorm over the channels of each pixel ("channels_first" LayerNorm of ConvNeXt).

    x: (N, C, H, W) -> y: (N, C, H, W). For every (n, h, w), over the C values of x[n, :, h, w]:

        mean = sum_c x / C      var = sum_c (x - mean)^2 / C
        x_hat = (x - mean) / sqrt(var + eps)          y[n, c, h, w] = weight_c * x_hat + bias_c

    the same numbers as ``torch.nn.functional.layer_norm`` over the channel axis of the NHWC
    image. Backward, with g = dL/dy * weight_c and means over the C channels of one pixel:

        dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)

    (``standardize_backward``: the three paths of BatchNorm's backward, over the channels;
    weight_c varies inside this group, so it goes into g rather than in front as BatchNorm's
    does). weight starts at 1, bias at 0.
    """

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        self.num_channels = check_int("LayerNorm2D", "num_channels", num_channels)
        self.eps = check_number("LayerNorm2D", "eps", eps, 0.0)
        self.weight, self.bias = affine_parameters(num_channels)

    def extra_repr(self) -> str:
        return f"{self.num_channels}, eps={self.eps}"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 per value, as BatchNorm: a scale and a shift, the statistics folded in."""
        return 2 * math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        """torch.nn has no channels-first LayerNorm: ``interop.torch`` writes one."""
        return "LayerNorm2d", {"channels": self.num_channels, "eps": self.eps}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """ONNX's LayerNormalization normalises the last axes: the channels are moved last (NHWC)
        for it and back after, as the torch twin does."""
        channels_last = graph.node("Transpose", [x], perm=[0, 2, 3, 1])
        affine = graph.weight_and_bias(self)
        normed = graph.node("LayerNormalization", [channels_last, *affine], axis=-1, epsilon=self.eps)
        return graph.node("Transpose", [normed], perm=[0, 3, 1, 2])

    def forward(self, x: Any) -> Any:
        check_images(f"LayerNorm2D(num_channels={self.num_channels})", x, self.num_channels)
        x_hat, inv_std = standardize(x, 1, self.eps)
        self._save_for_backward(x_hat, inv_std)
        y = x_hat * per_channel(self.weight.data, x.shape)
        y += per_channel(self.bias.data, x.shape)
        return y

    def backward(self, grad_out: Any) -> Any:
        x_hat, inv_std = self._saved()
        self.weight.grad += (grad_out * x_hat).sum(axis=(0, 2, 3))
        self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        grad_x_hat = grad_out * per_channel(self.weight.data, grad_out.shape)
        return standardize_backward(grad_x_hat, x_hat, inv_std, 1)


class GroupNorm(Module):
    """Group normalisation (Wu & He 2018), as ``torch.nn.GroupNorm(num_groups, num_channels, eps)``.

    x: (N, C, H, W) -> y: (N, C, H, W). The C channels fall into G = ``num_groups`` groups of C/G
    consecutive channels; each sample's group is standardised over its (C/G)*H*W values:

        x viewed as (N, G, C/G, H, W), mean and var over the last three axes
        x_hat = (x - mean) / sqrt(var + eps)          y[n, c, h, w] = weight_c * x_hat + bias_c

    G = 1 is LayerNorm over (C, H, W) and G = C is InstanceNorm; no batch statistics, so the
    batch size does not matter (Wu & He's point: it trains with batches of 1 or 2, where
    BatchNorm's estimates fall apart). Backward, with g = dL/dy * weight_c viewed the same way:

        dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)    (``standardize_backward``)
        dL/dweight_c = sum over n, h, w of dL/dy * x_hat         dL/dbias_c = sum over n, h, w of dL/dy

    weight starts at 1, bias at 0, both (C,).
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5) -> None:
        self.num_groups = check_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = check_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}")
        self.eps = check_number("GroupNorm", "eps", eps, 0.0)
        self.weight, self.bias = affine_parameters(num_channels)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 per value, as the other normalisations: a scale and a shift, the statistics folded in."""
        return 2 * math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "GroupNorm", {"num_groups": self.num_groups, "num_channels": self.num_channels, "eps": self.eps}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """Group statistics by InstanceNormalization, then the per-channel affine map.

        Opset 17 has no GroupNormalization, and the one opset 18 added took its scale and bias per
        group, a meaning opset 21 changed to per channel; so this is written with operators whose
        meaning never moved. InstanceNormalization standardises each (sample, channel) over the
        axes after the channel: on x reshaped to (N, G, C/G*H*W) that is each sample's group over
        its (C/G)*H*W values, the statistics of ``forward``. Its own affine map is per "channel",
        here per group, so it is left the identity (ones, zeros) and the layer's (C,) weight and
        bias are applied after the reshape back to (N, C, H, W), as ``forward`` applies them.
        """
        grouped = graph.node("Reshape", [x, graph.integers("group_shape", [0, self.num_groups, -1])])
        identity = [
            graph.parameter("group_scale", np.ones(self.num_groups)),
            graph.parameter("group_bias", np.zeros(self.num_groups)),
        ]
        standardized = graph.node("InstanceNormalization", [grouped, *identity], epsilon=self.eps)
        x_hat = graph.node("Reshape", [standardized, graph.node("Shape", [x])])
        scaled = graph.node("Mul", [x_hat, graph.per_channel("weight", self.weight.data)])
        return graph.node("Add", [scaled, graph.per_channel("bias", self.bias.data)])

    def grouped(self, x: Any) -> Any:
        """x (N, C, H, W) as (N, G, C/G, H, W), a view: the axes 2-4 of one (n, g) are one group."""
        n, _, height, width = x.shape
        return x.reshape(n, self.num_groups, -1, height, width)

    def forward(self, x: Any) -> Any:
        check_images(f"GroupNorm(num_groups={self.num_groups}, num_channels={self.num_channels})", x, self.num_channels)
        x_hat, inv_std = standardize(self.grouped(x), (2, 3, 4), self.eps)
        x_hat = x_hat.reshape(x.shape)
        self._save_for_backward(x_hat, inv_std)
        y = x_hat * per_channel(self.weight.data, x.shape)
        y += per_channel(self.bias.data, x.shape)
        return y

    def backward(self, grad_out: Any) -> Any:
        x_hat, inv_std = self._saved()
        self.weight.grad += (grad_out * x_hat).sum(axis=(0, 2, 3))
        self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        grad_x_hat = self.grouped(grad_out * per_channel(self.weight.data, grad_out.shape))
        return standardize_backward(grad_x_hat, self.grouped(x_hat), inv_std, (2, 3, 4)).reshape(grad_out.shape)
