"""Pooling: summarise each window of every channel by one number (its maximum or its mean).

x: (N, C, H, W) -> y: (N, C, H', W'), windows and output sizes as in ``windows.py``; the
stride defaults to the kernel size (windows side by side). Each pool is a loop over the kh*kw
kernel positions, every step one strided slice of the whole batch (``kernel_offset``): the
forward folds the slices into a running max or sum, and the backward sends the gradient back
through the same slices.

When the windows tile the image exactly (stride = kernel, no padding, sizes divisible, as in
every ``MaxPool2D(2)`` of the gallery), x is reshaped instead, (N, C, H, W) -> (N, C, H/kh, kh,
W/kw, kw), a view in which each window is two axes: the same positions, without the bookkeeping
of overlapping windows, and the rows of each window contiguous in memory, which is faster.

``GlobalAvgPool2D`` averages each channel over the whole image: (N, C, H, W) -> (N, C).
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module
from ..vectorized.module import Module, grad_enabled
from .windows import (
    check_images,
    kernel_offset,
    kernel_positions,
    output_size,
    pad_images,
    unpad_images,
    window_geometry,
)


class _Pool2D(Module):
    """What max and average pooling share: their hyperparameters and the checks on them."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding = window_geometry(name, kernel_size, stride, padding)
        # as PyTorch: more padding would allow windows that see nothing but padding
        if any(2 * pad > kernel for pad, kernel in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half of kernel_size {self.kernel_size}")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """kh * kw per output value (comparisons or additions)."""
        out_size = output_size(self._owner(), (1, *input_shape), self.kernel_size, self.stride, self.padding)
        return self.kernel_size[0] * self.kernel_size[1] * input_shape[0] * math.prod(out_size)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        name = type(self).__name__.replace("2D", "2d")  # MaxPool2d, AvgPool2d
        return name, {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}

    def _owner(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size})"

    def _tiles(self, shape: tuple[int, ...]) -> bool:
        """Whether the windows tile an (N, C, H, W) input exactly: side by side, no padding, nothing left over."""
        (kh, kw), height, width = self.kernel_size, shape[2], shape[3]
        return self.stride == self.kernel_size and self.padding == (0, 0) and height % kh == 0 and width % kw == 0

    def _window_view(self, x: Any) -> Any:
        """x (N, C, H, W) -> (N, C, H/kh, kh, W/kw, kw), a view: window (h, w) is [:, :, h, :, w, :]."""
        n, c, height, width = x.shape
        (kh, kw) = self.kernel_size
        return x.reshape(n, c, height // kh, kh, width // kw, kw)

    def _fold_tiles(self, x: Any, combine: Any) -> Any:
        """combine (``xp.maximum``, ``xp.add``) folded over each window of a tiled x: (N, C, H', W').

        Over the kh rows of each window first, whole image rows at a time (contiguous memory),
        then over its kw columns. (A reduction over both window axes at once is many times slower.)
        """
        windows = self._window_view(x)
        (kh, kw) = self.kernel_size
        rows = windows[:, :, :, 0]  # (N, C, H', W', kw): the windows' columns, folded over their rows so far
        for i in range(1, kh):
            rows = combine(rows, windows[:, :, :, i])
        columns = [rows[..., j] for j in range(kw)]
        folded = combine(columns[0], columns[1]) if kw > 1 else columns[0].copy()
        for column in columns[2:]:
            combine(folded, column, out=folded)
        return folded


class MaxPool2D(_Pool2D):
    """The largest value of each window (padding counts as -inf, so it never wins).

    x: (N, C, H, W) -> y: (N, C, H', W'). The gradient of a maximum goes to the one input that
    was the maximum, all of it: dL/dx = dY at that position, 0 elsewhere. Ties go to the first
    maximum in the window (row by row), as in PyTorch, so exactly one input gets the gradient.
    A NaN counts as the largest value, so it propagates (also as PyTorch).
    """

    def forward(self, x: Any) -> Any:
        check_images(self._owner(), x)
        out_size = output_size(self._owner(), x.shape, self.kernel_size, self.stride, self.padding)
        if self._tiles(x.shape):
            return self._forward_tiled(x)
        xp = get_array_module(x)
        padded = pad_images(x, self.padding, value=-xp.inf)
        positions = kernel_positions(self.kernel_size)
        best = padded[kernel_offset(*positions[0], self.stride, out_size)].copy()
        # which kernel position (0 .. kh*kw - 1) holds each window's maximum
        argmax = xp.zeros(best.shape, dtype=xp.min_scalar_type(len(positions) - 1))
        for index, (i, j) in enumerate(positions[1:], start=1):
            candidate = padded[kernel_offset(i, j, self.stride, out_size)]
            # strictly greater: on a tie the earlier position keeps the maximum
            wins = (candidate > best) | xp.isnan(candidate)
            xp.copyto(best, candidate, where=wins)
            xp.copyto(argmax, index, where=wins)
        self._save_for_backward(argmax, padded.shape, out_size)
        return best

    def _forward_tiled(self, x: Any) -> Any:
        """The forward when the windows tile x (``_tiles``): maxima of the reshaped windows.

        The maximum is ``_fold_tiles`` of ``maximum``. Only when a backward may follow is the
        winning position found, by counting positions rather than tracking a running maximum;
        the positions are copied out one after the other first, so that each comparison reads
        contiguous memory.
        """
        xp = get_array_module(x)
        (kh, kw), windows = self.kernel_size, self._window_view(x)
        best = self._fold_tiles(x, xp.maximum)
        if not grad_enabled():
            self._save_for_backward()  # keeps nothing: no backward follows
            return best
        positions = xp.empty((kh, kw, *best.shape), dtype=x.dtype)
        positions[...] = windows.transpose(3, 5, 0, 1, 2, 4)
        positions = positions.reshape(kh * kw, *best.shape)
        # The winner is the first position equal to the maximum, or, in a window holding a NaN,
        # the last NaN (the general path's rule, and PyTorch's). Its index is a count: of the
        # positions before the first maximum, or kh*kw - 1 minus the non-NaNs after the last NaN.
        index_type = xp.min_scalar_type(kh * kw - 1)
        before_first, looking = xp.zeros(best.shape, dtype=index_type), xp.ones(best.shape, dtype=bool)
        for candidate in positions[:-1]:
            looking &= candidate != best
            before_first += looking
        after_last_nan, looking = xp.zeros(best.shape, dtype=index_type), xp.ones(best.shape, dtype=bool)
        for candidate in positions[:0:-1]:
            looking &= candidate == candidate  # False from the last NaN on
            after_last_nan += looking
        argmax = xp.where(xp.isnan(best), kh * kw - 1 - after_last_nan, before_first).astype(index_type)
        self._save_for_backward(argmax, x.shape, None)
        return best

    def backward(self, grad_out: Any) -> Any:
        argmax, shape, out_size = self._saved()
        xp = get_array_module(grad_out)
        if out_size is None:  # the windows tiled x: every input pixel is in exactly one window
            grad_x = xp.empty(shape, dtype=grad_out.dtype)
            windows = self._window_view(grad_x)
            for index, (i, j) in enumerate(kernel_positions(self.kernel_size)):
                xp.multiply(grad_out, argmax == index, out=windows[:, :, :, i, :, j])
            return grad_x
        grad_padded = xp.zeros(shape, dtype=grad_out.dtype)
        for index, (i, j) in enumerate(kernel_positions(self.kernel_size)):
            grad_padded[kernel_offset(i, j, self.stride, out_size)] += xp.where(argmax == index, grad_out, 0)
        return unpad_images(grad_padded, self.padding)


class AvgPool2D(_Pool2D):
    """The mean of each window: y = (sum of the kh*kw values) / (kh*kw).

    x: (N, C, H, W) -> y: (N, C, H', W'). Padding counts as zeros in the mean
    (``count_include_pad=True``, PyTorch's default). Every input in a window gets an equal
    share: dL/dx += dY / (kh*kw) for each window it is in.
    """

    def forward(self, x: Any) -> Any:
        check_images(self._owner(), x)
        out_size = output_size(self._owner(), x.shape, self.kernel_size, self.stride, self.padding)
        xp = get_array_module(x)
        if self._tiles(x.shape):
            self._save_for_backward(x.shape, None)
            total = self._fold_tiles(x, xp.add)
        else:
            padded = pad_images(x, self.padding)
            total = xp.zeros((*x.shape[:2], *out_size), dtype=x.dtype)
            for i, j in kernel_positions(self.kernel_size):
                total += padded[kernel_offset(i, j, self.stride, out_size)]
            self._save_for_backward(padded.shape, out_size)
        total /= self.kernel_size[0] * self.kernel_size[1]
        return total

    def backward(self, grad_out: Any) -> Any:
        padded_shape, out_size = self._saved()
        xp = get_array_module(grad_out)
        share = grad_out / (self.kernel_size[0] * self.kernel_size[1])
        if out_size is None:  # the windows tiled x: each pixel gets the share of its one window
            grad_x = xp.empty(padded_shape, dtype=grad_out.dtype)
            windows = self._window_view(grad_x)
            for i, j in kernel_positions(self.kernel_size):
                windows[:, :, :, i, :, j] = share
            return grad_x
        grad_padded = xp.zeros(padded_shape, dtype=grad_out.dtype)
        for i, j in kernel_positions(self.kernel_size):
            grad_padded[kernel_offset(i, j, self.stride, out_size)] += share
        return unpad_images(grad_padded, self.padding)


class GlobalAvgPool2D(Module):
    """The mean of each channel over the whole image (Lin et al. 2014, "Network in Network").

    x: (N, C, H, W) -> y: (N, C), y[n, c] = mean over (h, w) of x[n, c, h, w]; every pixel
    gets an equal share of the gradient: dL/dx[n, c, h, w] = dY[n, c] / (H*W).
    """

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """One addition per input value."""
        return math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        """torch.nn's AdaptiveAvgPool2d(1) keeps two axes of size 1: ``interop.torch`` writes one without."""
        return "GlobalAvgPool2d", {}

    def forward(self, x: Any) -> Any:
        check_images("GlobalAvgPool2D()", x)
        self._save_for_backward(x.shape)
        return x.mean(axis=(2, 3))

    def backward(self, grad_out: Any) -> Any:
        (shape,) = self._saved()
        xp = get_array_module(grad_out)
        grad_x = xp.empty(shape, dtype=grad_out.dtype)
        grad_x[...] = (grad_out / (shape[2] * shape[3]))[:, :, None, None]
        return grad_x
