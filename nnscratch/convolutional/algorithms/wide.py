"""im2col for stride 1, faster: whole images per copy, cache-sized slices, and dL/dx as a convolution.

The reference (``im2col`` and ``col2im`` in ``modules.py``) numbers the columns of ``cols`` by
output pixel, (n, h, w), so each row of ``cols`` is copied as H' runs of W' pixels. For stride
1 this route numbers them along the *padded* width instead (``windows.wide_windows``):

    cols: (C*kh*kw, N*L),   column (n, h*Wp + w),   L = (H' - 1)*Wp + W'

The kw - 1 extra columns after each output row are junk, which the matrix product computes
and the route drops; in exchange every row of cols is a copy of whole images, one contiguous
stretch per sample. Copying is what im2col spends its time on, and short runs are what make
copying slow: at 28x28 with a 3x3 kernel the product does 7% more work and the copy gets
several times faster.

Two more savings, same numbers:

- the batch goes through a slice at a time (``slices.batch_slices``), each slice's cols in the
  CPU's cache, into scratch arrays every slice reuses; forward keeps the padded input, and
  backward rebuilds cols slice by slice unless the whole batch fit in one slice;
- dL/dx of a stride-1 convolution is itself a convolution: of dY, padded by k - 1 - p, with
  the kernel turned by 180 degrees and its channel axes swapped. With enough channels it goes
  through this same im2col and one product (no col2im); with few, a product of C rows is too
  thin for BLAS, and the wide col2im is faster (``FLIPPED_CONVOLUTION_MIN_CHANNELS``).

The route ``"wide"``: stride 1, any kernel; ``algorithm="auto"`` takes it for every stride-1
layer that neither Winograd nor row bands take.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from ..windows import kernel_positions, pad_images, unpad_images, wide_length, wide_to_images, wide_windows
from .route import STRIDE_ONE, Route, stride_one
from .slices import Scratch, batch_slices

# The input gradient goes by the flipped convolution from this many input channels on: it is one
# product (C, F*kh*kw) @ (F*kh*kw, ...) whose C rows are too few for BLAS below (docs/performance.md).
FLIPPED_CONVOLUTION_MIN_CHANNELS = 16


def wide_im2col(padded: Any, kernel_size: tuple[int, int], out: Any) -> Any:
    """padded (N, C, Hp, Wp) -> out (C*kh*kw, N*L): out[(c, i, j), (n, q)] = padded[n, c, i + q // Wp, j + q % Wp]."""
    windows = wide_windows(padded, kernel_size)  # (C, kh, kw, N, L), a view
    out.reshape(windows.shape)[...] = windows
    return out


def wide_col2im(cols: Any, kernel_size: tuple[int, int], out: Any) -> Any:
    """The adjoint of ``wide_im2col``: adds each column of cols (C*kh*kw, N*L) back onto ``out`` (N, C, Hp, Wp).

    One kernel position at a time, each a whole-image addition. The junk columns must hold zeros
    (they land on real pixels).
    """
    n, c = out.shape[:2]
    kh, kw = kernel_size
    blocks = cols.reshape(c, kh, kw, n, -1)
    windows = wide_windows(out, kernel_size)  # a view into out: adding to it adds to out
    for i, j in kernel_positions(kernel_size):
        windows[:, i, j] += blocks[:, i, j]
    return out


def convolve(padded: Any, weight_matrix: Any, kernel_size: tuple[int, int], bias: Any = None) -> tuple:
    """weight_matrix (F, C*kh*kw) applied to every window of padded (N, C, Hp, Wp): y (N, F, H', W').

    One batch slice at a time: wide im2col, one matrix product, then (F, n, L) -> (n, F, H', W')
    with the bias added, in one pass that also drops the junk columns. Returns (y, cols), cols
    only when the whole batch fit in one slice (backward reuses it), else None.
    """
    xp = get_array_module(padded)
    n, pitch = padded.shape[0], padded.shape[3]
    filters, inputs = weight_matrix.shape
    out_size = (padded.shape[2] - kernel_size[0] + 1, pitch - kernel_size[1] + 1)
    per_sample = wide_length(out_size, pitch)
    y = xp.empty((n, filters, *out_size), dtype=padded.dtype)
    scratch = Scratch(xp, padded.dtype)
    slices = batch_slices(n, inputs * per_sample * padded.itemsize)
    for batch in slices:
        count = batch.stop - batch.start
        cols = wide_im2col(padded[batch], kernel_size, scratch.get("cols", (inputs, count * per_sample)))
        product = xp.matmul(weight_matrix, cols, out=scratch.get("product", (filters, count * per_sample)))
        images = wide_to_images(product.reshape(filters, count, per_sample), out_size, pitch)
        if bias is None:
            y[batch] = images.transpose(1, 0, 2, 3)
        else:
            xp.add(images.transpose(1, 0, 2, 3), bias.reshape(1, -1, 1, 1), out=y[batch])
    return y, (cols if len(slices) == 1 else None)


def gradient_rows(grad_out: Any, pitch: int) -> Any:
    """dY (N, F, H', W') laid out like the product: (F, N, L), with zeros in the junk columns (they add nothing)."""
    xp = get_array_module(grad_out)
    n, filters, out_h, out_w = grad_out.shape
    grad_rows = xp.empty((filters, n, wide_length((out_h, out_w), pitch)), dtype=grad_out.dtype)
    if out_h > 1 and pitch > out_w:
        wide_to_images(grad_rows[:, :, out_w:], (out_h - 1, pitch - out_w), pitch)[...] = 0
    wide_to_images(grad_rows, (out_h, out_w), pitch)[...] = grad_out.transpose(1, 0, 2, 3)
    return grad_rows


def weight_gradient(layer: Any, padded: Any, kept_cols: Any, grad_rows: Any) -> Any:
    """dL/dW = dY @ cols^T (F, C, kh, kw), summed over the batch slices (cols rebuilt unless kept)."""
    xp = get_array_module(grad_rows)
    filters, n, per_sample = grad_rows.shape
    inputs = layer.weight.data[0].size  # C*kh*kw
    grad_weight_t = xp.zeros((inputs, filters), dtype=grad_rows.dtype)
    scratch = Scratch(xp, grad_rows.dtype)
    for batch in batch_slices(n, inputs * per_sample * grad_rows.itemsize):
        cols = kept_cols
        if cols is None:
            cols = scratch.get("cols", (inputs, (batch.stop - batch.start) * per_sample))
            wide_im2col(padded[batch], layer.kernel_size, cols)
        # dW^T = cols @ dY^T: the same product as dY @ cols^T, in the operand order BLAS runs fastest
        grad_weight_t += cols @ grad_rows[:, batch].reshape(filters, -1).T
    return grad_weight_t.T.reshape(layer.weight.shape)


def input_gradient_by_flipped_convolution(layer: Any, grad_out: Any) -> Any:
    """dL/dx as a convolution of dY with the kernel flipped.

    x[n, c, h + i - p, ...] meets W[f, c, i, j] in output (h, w), so each input pixel collects
    W[f, c, i, j] * dY[n, f, h - i + p, ...]: a convolution of dY, zero-padded by k - 1 - p, with
    the kernel turned by 180 degrees and its two channel axes swapped, (F, C, kh, kw) -> (C, F, kh, kw).
    (A padding above k - 1 crops dY instead of padding it.)
    """
    xp = get_array_module(grad_out)
    (kh, kw), (ph, pw) = layer.kernel_size, layer.padding
    grow = (kh - 1 - ph, kw - 1 - pw)
    grad_padded = pad_images(grad_out, (max(0, grow[0]), max(0, grow[1])))
    grad_padded = unpad_images(grad_padded, (max(0, -grow[0]), max(0, -grow[1])))
    flipped = xp.ascontiguousarray(layer.weight.data[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    grad_x, _ = convolve(grad_padded, flipped.reshape(layer.in_channels, -1), layer.kernel_size)
    return grad_x


def input_gradient_by_col2im(layer: Any, grad_rows: Any, padded_shape: tuple[int, ...]) -> Any:
    """dL/dx: dcols = W^T @ dY, then the wide col2im adds each column back onto its patch; cropped."""
    xp = get_array_module(grad_rows)
    filters, n, per_sample = grad_rows.shape
    weight_matrix = layer.weight.data.reshape(filters, -1)
    grad_padded = xp.zeros(padded_shape, dtype=grad_rows.dtype)
    scratch = Scratch(xp, grad_rows.dtype)
    for batch in batch_slices(n, weight_matrix.shape[1] * per_sample * grad_rows.itemsize):
        grad_slice = grad_rows[:, batch].reshape(filters, -1)
        grad_cols = scratch.get("grad_cols", (weight_matrix.shape[1], grad_slice.shape[1]))
        xp.matmul(weight_matrix.T, grad_slice, out=grad_cols)
        wide_col2im(grad_cols, layer.kernel_size, grad_padded[batch])
    return unpad_images(grad_padded, layer.padding)


# ----------------------------------------------------------------------------- the route


def forward(layer: Any, x: Any) -> tuple[Any, Any]:
    """The layer's convolution of x (N, C, H, W): (y, (padded x, cols if the batch was one slice))."""
    padded = pad_images(x, layer.padding)
    bias = None if layer.bias is None else layer.bias.data
    y, kept_cols = convolve(padded, layer.weight.data.reshape(layer.out_channels, -1), layer.kernel_size, bias)
    return y, (padded, kept_cols)


def backward(layer: Any, saved: Any, grad_out: Any) -> Any:
    """Adds dL/dW into ``layer.weight.grad``; returns dL/dx (None when the layer needs none)."""
    padded, kept_cols = saved
    grad_rows = gradient_rows(grad_out, padded.shape[3])
    layer.weight.grad += weight_gradient(layer, padded, kept_cols, grad_rows)
    if not layer.needs_input_grad:
        return None
    if layer.in_channels >= FLIPPED_CONVOLUTION_MIN_CHANNELS:
        return input_gradient_by_flipped_convolution(layer, grad_out)
    return input_gradient_by_col2im(layer, grad_rows, padded.shape)


ROUTE = Route("wide", STRIDE_ONE, stride_one, lambda layer, input_shape: True, forward, backward)
