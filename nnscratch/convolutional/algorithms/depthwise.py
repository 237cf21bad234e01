"""The route ``"depthwise"``: a convolution with one filter per channel, without a matrix product.

When groups = C = F (``DepthwiseConv2D``) every group of the reference is a product of one
filter row with its kh*kw rows of ``cols``: g thin products and an im2col copy kh*kw times
the input, for 2*kh*kw flops per output. This route does the same sum directly, one kernel
position at a time, each a strided slice of the whole batch (``windows.kernel_offset``):

    y[n, c, h, w] = b[c] + sum_{i, j} W[c, 0, i, j] * x_pad[n, c, sh*h + dh*i, sw*w + dw*j]

Backward walks the same positions:

    dL/dW[c, 0, i, j] = sum_{n, h, w} dY[n, c, h, w] * x_pad[n, c, sh*h + dh*i, sw*w + dw*j]
    dL/dx_pad[n, c, sh*h + dh*i, sw*w + dw*j] += dY[n, c, h, w] * W[c, 0, i, j]

It applies to any kernel, stride and dilation, and ``algorithm="auto"`` always takes it there.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from ...vectorized.per_channel import per_channel
from ..windows import kernel_offset, kernel_positions, pad_images, unpad_images
from .route import Route


def one_filter_per_channel(layer: Any, input_shape: tuple[int, ...]) -> bool:
    """groups = in_channels = out_channels: each channel its own single filter."""
    return layer.groups == layer.in_channels == layer.out_channels


def forward(layer: Any, x: Any) -> tuple[Any, Any]:
    """x (N, C, H, W) -> y (N, C, H', W') with the bias added, and the padded input for backward."""
    xp = get_array_module(x)
    out_size = layer.output_size(x.shape)
    padded = pad_images(x, layer.padding)
    weight = layer.weight.data  # (C, 1, kh, kw)
    y = xp.zeros((x.shape[0], layer.out_channels, *out_size), dtype=x.dtype)
    term = xp.empty_like(y)  # one buffer for every position's product: no allocation per position
    for i, j in kernel_positions(layer.kernel_size):
        under_kernel = padded[kernel_offset(i, j, layer.stride, out_size, layer.dilation)]
        y += xp.multiply(under_kernel, per_channel(weight[:, 0, i, j], y.shape), out=term)
    if layer.bias is not None:
        y += per_channel(layer.bias.data, y.shape)
    return y, padded


def backward(layer: Any, padded: Any, grad_out: Any) -> Any:
    """Adds dL/dW into ``layer.weight.grad``; returns dL/dx (N, C, H, W), or None if not needed."""
    xp = get_array_module(grad_out)
    out_size = grad_out.shape[2:]
    grad_padded = xp.zeros(padded.shape, dtype=padded.dtype) if layer.needs_input_grad else None
    weight = layer.weight.data
    term = xp.empty_like(grad_out)
    for i, j in kernel_positions(layer.kernel_size):
        under_kernel = kernel_offset(i, j, layer.stride, out_size, layer.dilation)
        layer.weight.grad[:, 0, i, j] += xp.einsum("nchw,nchw->c", grad_out, padded[under_kernel])
        if grad_padded is not None:
            grad_padded[under_kernel] += xp.multiply(grad_out, per_channel(weight[:, 0, i, j], term.shape), out=term)
    return None if grad_padded is None else unpad_images(grad_padded, layer.padding)


ROUTE = Route("depthwise", "groups = in_channels = out_channels", one_filter_per_channel, one_filter_per_channel,
              forward, backward)  # fmt: skip
