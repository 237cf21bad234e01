"""Convolution by image rows: each band of kh input rows times one banded matrix.

im2col copies every kh x kw patch: for a layer with few input channels and a large kernel
(LeNet-5's 5x5 convolutions over 1 or 6 channels) that copy, kh*kw times the size of the
input, is most of the work, and the matrix product after it is small. This path copies kw
times less, and pays with a larger product.

Take one output row h of one image. It reads the kh input rows h .. h + kh - 1 of every
channel: a band of C*kh rows of Wp pixels, which we flatten into one vector r (C*kh*Wp).
Output pixel (f, w) is a weighted sum of that band, with weight W[f, c, i, u - w] on pixel
(c, i, u) when 0 <= u - w < kw, and 0 elsewhere. So the whole output row, all filters, is

    y[h] (F*W') = r (C*kh*Wp) @ T (C*kh*Wp, F*W'),     T[(c, i, u), (f, w)] = W[f, c, i, u - w]

T is banded (a Toeplitz block for each channel, kernel row and filter: the kernel row slides
one column per output column). Stacking the bands of every image and output row gives one
matrix product for the layer:

    rows (N*H', C*kh*Wp) @ T -> (N*H', F*W'),  then (N, H', F, W') -> (N, F, H', W')

rows repeats each input row kh times (im2col repeats each pixel kh*kw times), and the product
does Wp/kw times more multiplications than im2col's, most of them by T's zeros. That is the
trade: it wins when copying costs more than multiplying (few channels, a wide kernel, a
narrow image) and loses otherwise, so ``algorithm="auto"`` takes it only there
(``BANDED_MAX_CHANNELS`` and ``BANDED_MAX_WASTE`` below).

Backward is the same two products transposed, and the two copies undone:

    dT = rows^T @ dY_rows                 dL/dW[f, c, i, j] = sum over w of dT[(c, i, w + j), (f, w)]
    d_rows = dY_rows @ T^T                dL/dx_pad[n, c, h + i, :] += d_rows[n, h, (c, i, :)]

Stride 1 only (each output row moves the band down by one row). The route ``"banded"``.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from ..windows import pad_images, unpad_images
from .route import STRIDE_ONE, Route, stride_one

# Auto takes row bands for at most this many input channels, where the padded width is at most
# BANDED_MAX_WASTE kernel widths: there copying costs more than the extra products (LeNet-5's
# 5x5 layers gain, the baseline's 3x3 layer over 28x28 loses; docs/performance.md).
BANDED_MAX_CHANNELS = 8
BANDED_MAX_WASTE = 7


def band_diagonal(banded: Any, j: int, out_width: int) -> Any:
    """The entries of T that hold kernel column j, as a view (C, kh, F, W'): T[(c, i, w + j), (f, w)].

    banded: T shaped (C, kh, Wp, F, W'). Walking w moves one column along the band and one
    output column, so the view steps by both strides at once, like a matrix diagonal.
    """
    xp = get_array_module(banded)
    c, kh, _, f, _ = banded.shape
    s = banded.strides
    return xp.lib.stride_tricks.as_strided(
        banded[:, :, j:], shape=(c, kh, f, out_width), strides=(s[0], s[1], s[3], s[2] + s[4])
    )


def banded_weight(weight: Any, padded_width: int) -> Any:
    """T for ``weight`` (F, C, kh, kw) and images Wp pixels wide: (C*kh*Wp, F*W'), W' = Wp - kw + 1."""
    xp = get_array_module(weight)
    filters, channels, kh, kw = weight.shape
    out_width = padded_width - kw + 1
    banded = xp.zeros((channels, kh, padded_width, filters, out_width), dtype=weight.dtype)
    for j in range(kw):
        # every output column w gets kernel column j at band column w + j
        band_diagonal(banded, j, out_width)[...] = weight[:, :, :, j].transpose(1, 2, 0)[..., None]
    return banded.reshape(channels * kh * padded_width, filters * out_width)


def weight_gradient_from_banded(grad_banded: Any, weight_shape: tuple[int, ...], padded_width: int) -> Any:
    """The adjoint of ``banded_weight``: dL/dW[f, c, i, j] = sum over w of dT[(c, i, w + j), (f, w)].

    Every weight appears W' times in T, once per output column, so its gradient is the sum of
    those W' entries: the diagonal of kernel column j, summed along w.
    """
    xp = get_array_module(grad_banded)
    filters, channels, kh, kw = weight_shape
    out_width = padded_width - kw + 1
    grad_banded = grad_banded.reshape(channels, kh, padded_width, filters, out_width)
    grad_weight = xp.empty(weight_shape, dtype=grad_banded.dtype)
    for j in range(kw):
        grad_weight[:, :, :, j] = band_diagonal(grad_banded, j, out_width).sum(axis=3).transpose(2, 0, 1)
    return grad_weight


def row_bands(padded: Any, kernel_height: int) -> Any:
    """Every band of ``kernel_height`` rows of a padded batch (N, C, Hp, Wp), copied out: (N*H', C*kh*Wp).

    Row (n, h) holds rows h .. h + kh - 1 of every channel of image n, channel by channel.
    """
    xp = get_array_module(padded)
    n, channels, height, width = padded.shape
    out_height = height - kernel_height + 1
    s = padded.strides
    view = xp.lib.stride_tricks.as_strided(
        padded, shape=(n, out_height, channels, kernel_height, width), strides=(s[0], s[2], s[1], s[2], s[3])
    )
    bands = xp.empty(view.shape, dtype=padded.dtype)
    bands[...] = view  # the one copy: each input row, kh times
    return bands.reshape(n * out_height, channels * kernel_height * width)


def banded_forward(padded: Any, weight: Any, bias: Any = None) -> tuple[Any, tuple]:
    """y = conv2d(padded, weight) + bias, stride 1, by row bands: padded (N, C, Hp, Wp) -> y (N, F, H', W').

    Returns y and what ``banded_backward`` needs: the bands and T.
    """
    xp = get_array_module(padded)
    n, _, height, width = padded.shape
    filters, _, kh, kw = weight.shape
    out_size = (height - kh + 1, width - kw + 1)
    bands = row_bands(padded, kh)
    banded = banded_weight(weight, width)
    product = (bands @ banded).reshape(n, out_size[0], filters, out_size[1])
    y = xp.empty((n, filters, *out_size), dtype=padded.dtype)
    if bias is None:
        y[...] = product.transpose(0, 2, 1, 3)
    else:
        xp.add(product.transpose(0, 2, 1, 3), bias.reshape(1, -1, 1, 1), out=y)
    return y, (bands, banded, padded.shape, weight.shape)


def banded_backward(grad_out: Any, saved: tuple, needs_input_grad: bool = True) -> tuple[Any, Any]:
    """(dL/dweight (F, C, kh, kw), dL/dpadded (N, C, Hp, Wp) or None) from dY (N, F, H', W')."""
    xp = get_array_module(grad_out)
    bands, banded, padded_shape, weight_shape = saved
    n, channels, height, width = padded_shape
    filters, _, kh, _ = weight_shape
    out_height = grad_out.shape[2]
    grad_rows = xp.empty((n, out_height, filters, grad_out.shape[3]), dtype=grad_out.dtype)
    grad_rows[...] = grad_out.transpose(0, 2, 1, 3)  # laid out like the product: (N*H', F*W')
    grad_rows = grad_rows.reshape(n * out_height, -1)
    grad_weight = weight_gradient_from_banded(bands.T @ grad_rows, weight_shape, width)
    if not needs_input_grad:
        return grad_weight, None
    grad_bands = (grad_rows @ banded.T).reshape(n, out_height, channels, kh, width)
    grad_padded = xp.zeros(padded_shape, dtype=grad_out.dtype)
    for i in range(kh):  # band row i of output row h is input row h + i
        grad_padded[:, :, i : i + out_height, :] += grad_bands[:, :, :, i, :].transpose(0, 2, 1, 3)
    return grad_weight, grad_padded


# ----------------------------------------------------------------------------- the route


def pays_off(layer: Any, input_shape: tuple[int, ...]) -> bool:
    """Few input channels and a kernel wide against the padded image: see ``BANDED_MAX_CHANNELS``."""
    padded_width = input_shape[3] + 2 * layer.padding[1]
    return layer.in_channels <= BANDED_MAX_CHANNELS and padded_width <= BANDED_MAX_WASTE * layer.kernel_size[1]


def forward(layer: Any, x: Any) -> tuple[Any, Any]:
    """The layer's convolution of x (N, C, H, W) by row bands: (y, what ``backward`` needs)."""
    bias = None if layer.bias is None else layer.bias.data
    return banded_forward(pad_images(x, layer.padding), layer.weight.data, bias)


def backward(layer: Any, saved: Any, grad_out: Any) -> Any:
    """Adds dL/dW into ``layer.weight.grad``; returns dL/dx (None when the layer needs none)."""
    grad_weight, grad_padded = banded_backward(grad_out, saved, layer.needs_input_grad)
    layer.weight.grad += grad_weight
    return None if grad_padded is None else unpad_images(grad_padded, layer.padding)


ROUTE = Route("banded", STRIDE_ONE, stride_one, pays_off, forward, backward)
