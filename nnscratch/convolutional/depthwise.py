"""``DepthwiseConv2D``: each channel convolved with its own filter, no channel mixing (groups = C)."""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module
from ..common.checks import check_int
from ..vectorized.initialization import default_parameters
from ..vectorized.module import Module
from ..vectorized.per_channel import per_channel
from .windows import (
    check_images,
    kernel_offset,
    kernel_positions,
    output_size,
    pad_images,
    unpad_images,
    window_geometry,
)


class DepthwiseConv2D(Module):
    """Depthwise convolution: each channel convolved with its own kh x kw filter (groups = C).

    x: (N, C, H, W) -> y: (N, C, H', W'); weight: (C, 1, kh, kw) and bias: (C,), shaped and
    drawn as ``torch.nn.Conv2d(C, C, k, groups=C)`` (fan-in kh*kw). The building block of
    depthwise-separable convolutions (MobileNet, Howard et al. 2017; EfficientNet; ConvNeXt):

        y[n, c, h, w] = b[c] + sum_{i, j} W[c, 0, i, j] * x_pad[n, c, sh*h + i, sw*w + j]

    No channel mixing means no matrix product: it is a product-sum over the kh*kw kernel
    positions, each one a strided slice of the whole batch (``kernel_offset``). Backward
    walks the same positions:

        dL/dW[c, 0, i, j] = sum_{n,h,w} dY[n, c, h, w] * x_pad[n, c, sh*h + i, sw*w + j]
        dL/dx_pad[n, c, sh*h + i, sw*w + j] += dY[n, c, h, w] * W[c, 0, i, j]
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        seed: int | None = None,
    ) -> None:
        self.channels = check_int("DepthwiseConv2D", "channels", channels)
        self.kernel_size, self.stride, self.padding = window_geometry("DepthwiseConv2D", kernel_size, stride, padding)
        self.weight, self.bias = default_parameters((channels, 1, *self.kernel_size), bias, seed)

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"bias={self.bias is not None}"
        )

    def _owner(self) -> str:
        return f"DepthwiseConv2D(channels={self.channels})"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 * kh * kw per output value, plus 1 for the bias."""
        out_size = output_size(self._owner(), (1, *input_shape), self.kernel_size, self.stride, self.padding)
        (kh, kw), bias = self.kernel_size, 1 if self.bias is not None else 0
        return (2 * kh * kw + bias) * self.channels * math.prod(out_size)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        """A grouped convolution, one group per channel."""
        return "Conv2d", {
            "in_channels": self.channels,
            "out_channels": self.channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "groups": self.channels,
            "bias": self.bias is not None,
        }

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """A Conv with one group per channel, as in PyTorch."""
        return graph.node("Conv", [x, *graph.weight_and_bias(self)], group=self.channels, **graph.window(self))

    def forward(self, x: Any) -> Any:
        check_images(self._owner(), x, self.channels)
        out_size = output_size(self._owner(), x.shape, self.kernel_size, self.stride, self.padding)
        xp = get_array_module(x)
        padded = pad_images(x, self.padding)
        weight = self.weight.data
        y = xp.zeros((x.shape[0], self.channels, *out_size), dtype=x.dtype)
        term = xp.empty_like(y)
        for i, j in kernel_positions(self.kernel_size):
            xp.multiply(
                padded[kernel_offset(i, j, self.stride, out_size)], per_channel(weight[:, 0, i, j], y.shape), out=term
            )
            y += term
        if self.bias is not None:
            y += per_channel(self.bias.data, y.shape)
        self._save_for_backward(padded)
        return y

    def backward(self, grad_out: Any) -> Any:
        (padded,) = self._saved()
        xp = get_array_module(grad_out)
        out_size = grad_out.shape[2:]
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        grad_padded = xp.zeros(padded.shape, dtype=padded.dtype) if self.needs_input_grad else None
        weight = self.weight.data
        term = xp.empty_like(grad_out)
        for i, j in kernel_positions(self.kernel_size):
            under_kernel = kernel_offset(i, j, self.stride, out_size)
            self.weight.grad[:, 0, i, j] += xp.einsum("nchw,nchw->c", grad_out, padded[under_kernel])
            if grad_padded is not None:
                grad_padded[under_kernel] += xp.multiply(
                    grad_out, per_channel(weight[:, 0, i, j], term.shape), out=term
                )
        return None if grad_padded is None else unpad_images(grad_padded, self.padding)
