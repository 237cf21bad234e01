"""The layers of tier 3, each a forward and its hand-written backward side by side.

Where each concept lives:

- here: ``Conv2D`` with ``im2col`` and ``col2im`` (convolution as one matrix product),
  ``DepthwiseConv2D`` (one filter per channel) and ``SqueezeExcite`` (channel attention);
- ``windows.py``: padding, output sizes and the sliding-window views all of them share;
- ``pooling.py``: ``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool2D``;
- ``normalization.py``: ``BatchNorm2D`` (the batch-norm of ``vectorized/batchnorm.py`` for
  images) and ``LayerNorm2D`` (ConvNeXt's channel LayerNorm);
- ``blocks.py``: the residual, MBConv and ConvNeXt blocks built from these;
- the vectorized tier: the module protocol (``Module``, ``Parameter``, ``Sequential``,
  ``no_grad``), the activations (ReLU, LeakyReLU, ReLU6, Tanh, Sigmoid, SiLU, GELU, Softmax),
  ``Dropout``, ``Flatten`` and ``Identity``. They are re-exported here, one implementation
  each, so ``from nnscratch.convolutional.modules import Conv2D, ReLU, Sequential`` finds all.

Images are NCHW: x (N, C, H, W), batch first, then channels, then rows and columns; weights
are shaped as PyTorch's, so they can be copied across.

The convolution (cross-correlation, as every deep-learning library computes it) of x with
F filters W (F, C, kh, kw), stride (sh, sw) and zero padding (ph, pw) is

    y[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, sh*h + i, sw*w + j]

``conv2d_naive`` in ``tests/convolutional/test_naive_conv.py`` is exactly this formula as six
nested loops; ``Conv2D`` computes the same numbers as one matrix product:

1. pad x with zeros;
2. ``im2col``: lay every kh x kw patch out as a column of a matrix ``cols`` (C*kh*kw rows,
   one column per output pixel of every sample);
3. multiply: W reshaped to (F, C*kh*kw) times ``cols`` is every output at once;
4. reshape the (F, N*H'*W') product back to (N, F, H', W').

Backward reverses it: dW = dY @ cols^T and dcols = W^T @ dY are two more matrix products,
and ``col2im`` adds each column of dcols back onto the pixels its patch came from.

3x3 stride-1 layers with enough channels take a faster road to the same numbers, Winograd's
minimal filtering (``winograd.py``, chosen by ``Conv2D._uses_winograd``); stride-1 layers
with few channels and a wide kernel another, one banded matrix per band of image rows
(``banded.py``, chosen by ``Conv2D._uses_banded``).
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import current_device, get_array_module, to_device
from ..common.seed import new_generator
from ..vectorized.modules import (
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Module,
    Parameter,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    grad_enabled,
    make_activation,
    no_grad,
)
from ..vectorized.per_channel import per_channel
from .banded import banded_backward, banded_forward
from .normalization import BatchNorm2D, LayerNorm2D
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .windows import (
    check_images,
    check_positive_int,
    kernel_offset,
    kernel_positions,
    output_size,
    pad_images,
    sliding_windows,
    unpad_images,
    wide_length,
    wide_to_images,
    wide_windows,
    window_geometry,
)
from .winograd import choose_variant, winograd_backward, winograd_forward

# ----------------------------------------------------------------------------- im2col / col2im


def im2col(
    padded: Any, kernel_size: tuple[int, int], stride: tuple[int, int], out: Any = None, wide: bool = False
) -> Any:
    """Every kh x kw patch of a padded batch, as the columns of one matrix.

    padded: (N, C, Hp, Wp) -> cols: (C*kh*kw, N*H'*W'), where

        cols[(c, i, j), (n, h, w)] = padded[n, c, sh*h + i, sw*w + j]

    Row (c, i, j) lines up with ``weight.reshape(F, C*kh*kw)``, so ``weight_matrix @ cols`` is
    the convolution for every sample and pixel at once, shaped (F, N, H', W').

    The patches come from ``sliding_windows`` (a strided view, no copy); the one copy is the
    assignment that lays them out as a matrix. Columns are ordered (n, h, w) so that each run
    it copies is a row of an image, the longest contiguous stretch there is.
    ``out``: a contiguous array of the shape of cols to fill (a new one when None).

    ``wide=True`` (stride 1 only) numbers the columns of each sample along the padded width
    instead: cols: (C*kh*kw, N*L), column (n, h*Wp + w), L = (H' - 1)*Wp + W' (``wide_windows``).
    The kw - 1 extra columns after each output row are junk, which the matrix product computes
    and the caller drops; in exchange every row of cols is a copy of whole images, one
    contiguous stretch per sample, instead of H' runs of W' pixels. Copying is what im2col
    spends its time on, and short runs are what make copying slow: at 28x28 with a 3x3 kernel
    the product does 7% more work and the copy gets several times faster.
    """
    xp = get_array_module(padded)
    if wide:
        if tuple(stride) != (1, 1):
            raise ValueError(f"im2col: the wide layout needs stride (1, 1), got {tuple(stride)}")
        windows = wide_windows(padded, kernel_size)  # (C, kh, kw, N, L)
    else:
        windows = sliding_windows(padded, kernel_size, stride).transpose(1, 4, 5, 0, 2, 3)  # (C, kh, kw, N, H', W')
    c, kh, kw = windows.shape[:3]
    if out is None:
        out = xp.empty((c * kh * kw, math.prod(windows.shape[3:])), dtype=padded.dtype)
    out.reshape(windows.shape)[...] = windows
    return out


def col2im(
    cols: Any,
    padded_shape: tuple[int, ...],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    out: Any = None,
    wide: bool = False,
) -> Any:
    """The adjoint of ``im2col``: add every column back onto the pixels its patch came from.

    cols: (C*kh*kw, N*H'*W'), laid out as ``im2col`` makes it -> (N, C, Hp, Wp) = ``padded_shape``.

        out[n, c, sh*h + i, sw*w + j] += cols[(c, i, j), (n, h, w)]   for every c, i, j, n, h, w

    Patches overlap when the stride is smaller than the kernel, so one pixel collects several
    terms: they are added, one kernel position (i, j) at a time, each a strided slice of all
    samples and pixels (kh*kw vectorised steps, no per-pixel loop, no ``add.at``). Within one
    position (i, j) no two terms land on the same pixel, so each step is a plain ``+=``.
    ``out``: a C-contiguous array of ``padded_shape`` to add into (a new zero array when None).

    ``wide=True``: cols in the wide layout of ``im2col(..., wide=True)``; each step then adds
    whole images at once. Its junk columns must hold zeros (they land on real pixels).
    """
    n, c, height, width = padded_shape
    kh, kw = kernel_size
    if out is None:
        out = get_array_module(cols).zeros(padded_shape, dtype=cols.dtype)
    if wide:
        blocks = cols.reshape(c, kh, kw, n, -1)
        windows = wide_windows(out, kernel_size)  # a view into out: adding to it adds to out
    else:
        out_size = ((height - kh) // stride[0] + 1, (width - kw) // stride[1] + 1)
        blocks = cols.reshape(c, kh, kw, n, *out_size)
    for i, j in kernel_positions(kernel_size):
        if wide:
            windows[:, i, j] += blocks[:, i, j]
        else:
            out[kernel_offset(i, j, stride, out_size)] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return out


# The batch goes through im2col a slice at a time, each slice's ``cols`` about this size, so
# that the copy and the matrix products that read it stay in the CPU's last-level cache
# instead of streaming a matrix kh*kw times the size of the input through memory (it also
# bounds the extra memory a layer needs). The numbers do not depend on it. Of 1, 2, 4, 8 and
# 16 MiB, 8 was fastest overall for the shapes of benchmarks/conv_modules.py (2 cores, 32 MiB L3).
# On a GPU the whole batch goes at once: there, fewer and larger products are what is fast.
CPU_COLS_BYTES_PER_SLICE = 8 * 2**20


# The input gradient of a stride-1 convolution is a convolution itself (see
# ``Conv2D._input_gradient_by_flipped_convolution``): one product (C, F*kh*kw) @ (F*kh*kw, ...)
# whose C rows are too few for BLAS to run fast on small layers, where col2im wins.
FLIPPED_CONVOLUTION_MIN_CHANNELS = 16


# 3x3 stride-1 convolutions with at least this many input channels go through Winograd's
# algorithm (``winograd.py``): 2.25x (F(2x2, 3x3)) to 4x (F(4x4, 3x3)) fewer multiplications,
# for transforms whose cost does not grow with the channels. Measured (interleaved with
# im2col): a training step of a layer was faster from 32 channels up (32->32 at 28x28: 28
# against 33 ms), and whole models were too, in training and in inference (a ResNet18 training
# step 1.19x faster than with Winograd from 128 channels only). With fewer channels the
# transforms outweigh the savings.
WINOGRAD_MIN_CHANNELS = 32


# Stride-1 convolutions with at most this many input channels, whose padded width is at most
# BANDED_MAX_WASTE kernel widths, go through row bands (``banded.py``): kw times less copying
# than im2col for Wp/kw times more multiplications, most of them by zeros. Measured by
# alternating single training steps: LeNet-5 (1->6 and 6->16 5x5 layers, Wp/kw = 6.4 and 2.8)
# 15.8 -> 13.3 ms with row bands; the baseline with its 1->32 3x3 layer at 28x28 (Wp/kw = 10)
# also by row bands, 198 -> 215 ms: slower, so that layer stays with im2col.
BANDED_MAX_CHANNELS = 8
BANDED_MAX_WASTE = 7


def batch_slices(batch_size: int, cols_bytes_per_sample: int) -> list[slice]:
    """Consecutive slices of the batch whose ``cols`` take about ``CPU_COLS_BYTES_PER_SLICE`` each."""
    if current_device() != "cpu":
        return [slice(0, batch_size)]
    step = max(1, CPU_COLS_BYTES_PER_SLICE // max(1, cols_bytes_per_sample))
    return [slice(start, min(batch_size, start + step)) for start in range(0, batch_size, step)]


class Scratch:
    """Flat scratch arrays that every batch slice of one forward or backward reuses.

    ``get(name, shape)`` is a view of the first prod(shape) elements of the array ``name``
    (allocated on first use; the first slice is the largest). Reusing the memory spares each
    slice a fresh multi-megabyte allocation, which costs page faults every time.
    """

    def __init__(self, xp: Any, dtype: Any) -> None:
        self.xp, self.dtype, self.arrays = xp, dtype, {}

    def get(self, name: str, shape: tuple[int, ...]) -> Any:
        size = math.prod(shape)
        if name not in self.arrays or self.arrays[name].size < size:
            self.arrays[name] = self.xp.empty(size, dtype=self.dtype)
        return self.arrays[name][:size].reshape(shape)


def _init_weight_and_bias(weight_shape: tuple[int, ...], bias: bool, seed: int | None) -> tuple:
    """(weight, bias or None) of a convolution, PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32.

    weight_shape: (F, C_per_filter, kh, kw); fan_in = C_per_filter * kh * kw, the inputs one
    output sums over; the bias is (F,). (Kaiming-uniform with a = sqrt(5), He et al. 2015, works
    out to exactly this bound.) Drawn on the CPU from a generator seeded by ``seed``, weight
    first, and moved to the device, so a seed gives the same layer on NumPy and CuPy.
    """
    rng = new_generator(seed)
    bound = 1.0 / math.sqrt(math.prod(weight_shape[1:]))

    def draw(shape: tuple[int, ...]) -> Parameter:
        return Parameter(to_device(rng.uniform(-bound, bound, shape), "float32"))

    weight = draw(weight_shape)
    return weight, (draw(weight_shape[:1]) if bias else None)


# ----------------------------------------------------------------------------- Conv2D


class Conv2D(Module):
    """2-D convolution by im2col and one matrix product (see the module docstring).

    x: (N, C, H, W) -> y: (N, F, H', W'), H' = (H + 2ph - kh) // sh + 1 (likewise W').
    weight: (F, C, kh, kw), bias: (F,), both drawn as in ``torch.nn.Conv2d``:
    U(-1/sqrt(C*kh*kw), 1/sqrt(C*kh*kw)), from ``new_generator(seed)``.
    ``kernel_size``, ``stride`` and ``padding``: an int or an (height, width) pair.

    Backward, with dY = dL/dy reshaped to (F, N*H'*W') and cols = im2col(x_pad):

        dL/dW = dY @ cols^T        dL/db = dY summed over n, h, w
        dL/dx = col2im(W^T @ dY), cropped back from the padded size

    On the CPU the batch goes through these steps a slice at a time (``batch_slices``), so
    cols never has to exist for the whole batch. Forward keeps the padded input, kh*kw times
    smaller than cols, and backward runs im2col again, one slice at a time; only a cols that
    fits in a single slice is kept as it is. ``needs_input_grad = False`` skips dL/dx (backward
    returns None): a network's first layer, whose input is the data, saves its col2im that way.

    3x3 stride-1 layers with at least ``WINOGRAD_MIN_CHANNELS`` input channels compute the same
    forward and backward with Winograd's algorithm instead (``winograd.py``), and stride-1 layers
    with few input channels and a wide kernel by row bands (``banded.py``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        seed: int | None = None,
    ) -> None:
        self.in_channels = check_positive_int(in_channels, "in_channels", "Conv2D")
        self.out_channels = check_positive_int(out_channels, "out_channels", "Conv2D")
        self.kernel_size, self.stride, self.padding = window_geometry("Conv2D", kernel_size, stride, padding)
        self.weight, self.bias = _init_weight_and_bias((out_channels, in_channels, *self.kernel_size), bias, seed)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}"
        )

    def _owner(self) -> str:
        return f"Conv2D(in_channels={self.in_channels})"

    def forward(self, x: Any) -> Any:
        check_images(self._owner(), x, self.in_channels)
        out_size = output_size(self._owner(), x.shape, self.kernel_size, self.stride, self.padding)
        if self._uses_winograd():
            variant = choose_variant(out_size)
            y, saved = winograd_forward(x, self.weight.data, self.padding, batch_slices, variant, grad_enabled())
            if self.bias is not None:
                y += per_channel(self.bias.data, y.shape)
            self._save_for_backward("winograd", saved)
            return y
        padded = pad_images(x, self.padding)
        bias = None if self.bias is None else self.bias.data
        if self._uses_banded(padded.shape[3]):
            y, saved = banded_forward(padded, self.weight.data, bias)
            self._save_for_backward("banded", saved)
            return y
        weight_matrix = self.weight.data.reshape(self.out_channels, -1)  # (F, C*kh*kw), a view
        y, kept_cols = self._convolve(padded, weight_matrix, out_size, bias)
        self._save_for_backward("im2col", padded, kept_cols)
        return y

    def backward(self, grad_out: Any) -> Any:
        method, *saved = self._saved()  # the path forward took, and what it kept
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        if method == "winograd":
            grad_weight, grad_x = winograd_backward(grad_out, saved[0], self.needs_input_grad)
            self.weight.grad += grad_weight
            return grad_x
        if method == "banded":
            grad_weight, grad_padded = banded_backward(grad_out, saved[0], self.needs_input_grad)
            self.weight.grad += grad_weight
            return None if grad_padded is None else unpad_images(grad_padded, self.padding)
        padded, kept_cols = saved
        grad_rows = self._gradient_rows(grad_out, padded.shape[3])
        self.weight.grad += self._weight_gradient(padded, kept_cols, grad_rows)
        if not self.needs_input_grad:
            return None
        if self._wide() and self.in_channels >= FLIPPED_CONVOLUTION_MIN_CHANNELS:
            return self._input_gradient_by_flipped_convolution(grad_out, padded.shape)
        return self._input_gradient_by_col2im(grad_rows, padded.shape)

    def _uses_winograd(self) -> bool:
        """3x3 stride-1 convolutions with enough input channels: see ``WINOGRAD_MIN_CHANNELS``."""
        return self.kernel_size == (3, 3) and self.stride == (1, 1) and self.in_channels >= WINOGRAD_MIN_CHANNELS

    def _uses_banded(self, padded_width: int) -> bool:
        """Few input channels and a kernel wide enough against the image: see ``BANDED_MAX_CHANNELS``."""
        return (
            self.stride == (1, 1)
            and self.in_channels <= BANDED_MAX_CHANNELS
            and padded_width <= BANDED_MAX_WASTE * self.kernel_size[1]
        )

    def _wide(self) -> bool:
        """Stride-1 convolutions use the wide im2col layout (see ``im2col``); strided ones the compact one."""
        return self.stride == (1, 1)

    def _columns_per_sample(self, out_size: tuple[int, int], pitch: int) -> int:
        """Columns of cols per sample: H'*W', or the wide layout's L = (H' - 1)*Wp + W'."""
        return wide_length(out_size, pitch) if self._wide() else out_size[0] * out_size[1]

    def _convolve(self, padded: Any, weight_matrix: Any, out_size: tuple[int, int], bias: Any = None) -> tuple:
        """weight_matrix (F, C*kh*kw) applied to every window of padded (N, C, Hp, Wp): y (N, F, H', W').

        One batch slice at a time: im2col, one matrix product, then (F, n, H', W') -> (n, F, H', W')
        with the bias added, in one pass that also drops the wide layout's junk columns. Returns
        (y, cols), cols only when the whole batch fit in one slice (backward reuses it), else None.
        """
        xp = get_array_module(padded)
        n, filters, pitch = padded.shape[0], weight_matrix.shape[0], padded.shape[3]
        per_sample = self._columns_per_sample(out_size, pitch)
        y = xp.empty((n, filters, *out_size), dtype=padded.dtype)
        scratch = Scratch(xp, padded.dtype)
        slices = batch_slices(n, weight_matrix.shape[1] * per_sample * padded.itemsize)
        for batch in slices:
            count = batch.stop - batch.start
            cols = scratch.get("cols", (weight_matrix.shape[1], count * per_sample))
            im2col(padded[batch], self.kernel_size, self.stride, cols, wide=self._wide())
            product = xp.matmul(weight_matrix, cols, out=scratch.get("product", (filters, count * per_sample)))
            product = product.reshape(filters, count, per_sample)
            if self._wide():
                images = wide_to_images(product, out_size, pitch)
            else:
                images = product.reshape(filters, count, *out_size)
            if bias is None:
                y[batch] = images.transpose(1, 0, 2, 3)
            else:
                xp.add(images.transpose(1, 0, 2, 3), bias.reshape(1, -1, 1, 1), out=y[batch])
        return y, (cols if len(slices) == 1 else None)

    def _gradient_rows(self, grad_out: Any, pitch: int) -> Any:
        """dY (N, F, H', W') laid out like the product: (F, N, columns per sample).

        In the wide layout the junk columns get zeros, so they add nothing to dL/dW.
        """
        xp = get_array_module(grad_out)
        n, filters, out_h, out_w = grad_out.shape
        grad_rows = xp.empty((filters, n, self._columns_per_sample((out_h, out_w), pitch)), dtype=grad_out.dtype)
        if not self._wide():
            grad_rows.reshape(filters, n, out_h, out_w)[...] = grad_out.transpose(1, 0, 2, 3)
            return grad_rows
        if out_h > 1 and pitch > out_w:
            wide_to_images(grad_rows[:, :, out_w:], (out_h - 1, pitch - out_w), pitch)[...] = 0
        wide_to_images(grad_rows, (out_h, out_w), pitch)[...] = grad_out.transpose(1, 0, 2, 3)
        return grad_rows

    def _weight_gradient(self, padded: Any, kept_cols: Any, grad_rows: Any) -> Any:
        """dL/dW = dY @ cols^T (F, C, kh, kw), summed over the batch slices (cols rebuilt unless kept)."""
        xp = get_array_module(grad_rows)
        filters, n, per_sample = grad_rows.shape
        inputs = self.weight.data[0].size  # C*kh*kw
        grad_weight_t = xp.zeros((inputs, filters), dtype=grad_rows.dtype)
        scratch = Scratch(xp, grad_rows.dtype)
        for batch in batch_slices(n, inputs * per_sample * grad_rows.itemsize):
            cols = kept_cols
            if cols is None:
                cols = scratch.get("cols", (inputs, (batch.stop - batch.start) * per_sample))
                im2col(padded[batch], self.kernel_size, self.stride, cols, wide=self._wide())
            # dW^T = cols @ dY^T: the same product as dY @ cols^T, in the operand order BLAS runs fastest
            grad_weight_t += cols @ grad_rows[:, batch].reshape(filters, -1).T
        return grad_weight_t.T.reshape(self.weight.shape)

    def _input_gradient_by_flipped_convolution(self, grad_out: Any, padded_shape: tuple[int, ...]) -> Any:
        """dL/dx for stride 1: itself a convolution, of dY with the kernel flipped.

        x[n, c, h + i - p, ...] meets W[f, c, i, j] in output (h, w), so each input pixel collects
        W[f, c, i, j] * dY[n, f, h - i + p, ...]: a convolution of dY, zero-padded by k - 1 - p, with
        the kernel turned by 180 degrees and its two channel axes swapped, (F, C, kh, kw) -> (C, F, kh, kw).
        It goes through the same im2col and one product as the forward, so no col2im is needed.
        (A padding above k - 1 crops dY instead of padding it.)
        """
        xp = get_array_module(grad_out)
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        grow = (kh - 1 - ph, kw - 1 - pw)
        grad_padded = pad_images(grad_out, (max(0, grow[0]), max(0, grow[1])))
        grad_padded = unpad_images(grad_padded, (max(0, -grow[0]), max(0, -grow[1])))
        flipped = xp.ascontiguousarray(self.weight.data[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        in_size = (padded_shape[2] - 2 * ph, padded_shape[3] - 2 * pw)
        grad_x, _ = self._convolve(grad_padded, flipped.reshape(self.in_channels, -1), in_size)
        return grad_x

    def _input_gradient_by_col2im(self, grad_rows: Any, padded_shape: tuple[int, ...]) -> Any:
        """dL/dx for any stride: dcols = W^T @ dY, then col2im adds each column back onto its patch."""
        xp = get_array_module(grad_rows)
        filters, n, per_sample = grad_rows.shape
        weight_matrix = self.weight.data.reshape(filters, -1)
        grad_padded = xp.zeros(padded_shape, dtype=grad_rows.dtype)
        scratch = Scratch(xp, grad_rows.dtype)
        for batch in batch_slices(n, weight_matrix.shape[1] * per_sample * grad_rows.itemsize):
            grad_slice = grad_rows[:, batch].reshape(filters, -1)
            grad_cols = scratch.get("grad_cols", (weight_matrix.shape[1], grad_slice.shape[1]))
            xp.matmul(weight_matrix.T, grad_slice, out=grad_cols)
            col2im(grad_cols, grad_padded[batch].shape, self.kernel_size, self.stride, grad_padded[batch], self._wide())
        return unpad_images(grad_padded, self.padding)


# ----------------------------------------------------------------------------- DepthwiseConv2D


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
        self.channels = check_positive_int(channels, "channels", "DepthwiseConv2D")
        self.kernel_size, self.stride, self.padding = window_geometry("DepthwiseConv2D", kernel_size, stride, padding)
        self.weight, self.bias = _init_weight_and_bias((channels, 1, *self.kernel_size), bias, seed)

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"bias={self.bias is not None}"
        )

    def _owner(self) -> str:
        return f"DepthwiseConv2D(channels={self.channels})"

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


# ----------------------------------------------------------------------------- SqueezeExcite


class SqueezeExcite(Module):
    """Squeeze-and-excitation (Hu et al. 2018): rescale each channel by a gate computed from all of them.

    x: (N, C, H, W) -> y: (N, C, H, W), y = x * s with the gate s: (N, C, 1, 1) from

        squeeze  z = mean over (H, W) of x                        (N, C)
        excite   s = sigmoid(expand(silu(reduce(z))))            reduce, expand: 1x1 convs with bias

    ``reduce`` maps C -> ``reduced_channels`` and ``expand`` maps back; SiLU between them as in
    EfficientNet. Its four parameters are the two convs', found by ``parameters()`` and saved in
    ``state_dict`` as ``reduce.weight``, ``reduce.bias``, ``expand.weight``, ``expand.bias``.

    Backward: x reaches y twice, directly and through the gate, and the two gradients add:

        dL/dx = dY * s  +  pool.backward(gate path backward(sum over (H, W) of dY * x))
    """

    def __init__(self, channels: int, reduced_channels: int) -> None:
        self.channels = check_positive_int(channels, "channels", "SqueezeExcite")
        self.reduced_channels = check_positive_int(reduced_channels, "reduced_channels", "SqueezeExcite")
        self.pool = GlobalAvgPool2D()
        self.reduce = Conv2D(channels, reduced_channels, 1)
        self.activation = SiLU()
        self.expand = Conv2D(reduced_channels, channels, 1)
        self.gate = Sigmoid()

    def extra_repr(self) -> str:
        return f"{self.channels}, reduced_channels={self.reduced_channels}"

    def forward(self, x: Any) -> Any:
        check_images(f"SqueezeExcite(channels={self.channels})", x, self.channels)
        squeezed = self.pool.forward(x).reshape(x.shape[0], self.channels, 1, 1)
        scale = self.gate.forward(self.expand.forward(self.activation.forward(self.reduce.forward(squeezed))))
        self._save_for_backward(x, scale)
        return x * scale

    def backward(self, grad_out: Any) -> Any:
        x, scale = self._saved()
        grad_scale = (grad_out * x).sum(axis=(2, 3), keepdims=True)  # (N, C, 1, 1)
        grad_squeezed = self.reduce.backward(
            self.activation.backward(self.expand.backward(self.gate.backward(grad_scale)))
        )
        grad_through_gate = self.pool.backward(grad_squeezed.reshape(x.shape[0], self.channels))
        return grad_out * scale + grad_through_gate


__all__ = [
    "GELU",
    "AvgPool2D",
    "BatchNorm2D",
    "Conv2D",
    "DepthwiseConv2D",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "Identity",
    "LayerNorm2D",
    "LeakyReLU",
    "MaxPool2D",
    "Module",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "SqueezeExcite",
    "Tanh",
    "col2im",
    "grad_enabled",
    "im2col",
    "make_activation",
    "no_grad",
]
