"""Pooling: summarise each window of every channel by one number (its maximum or its mean).

x: (N, C, H, W) -> y: (N, C, H', W'), windows and output sizes as in ``windows.py``; the
stride defaults to the kernel size (windows side by side). Each pool is a loop over the kh*kw
kernel positions, every step one strided slice of the whole batch (``kernel_offset``): the
forward folds the slices into a running max or sum, and the backward sends the gradient back
through the same slices.

``GlobalAvgPool2D`` averages each channel over the whole image: (N, C, H, W) -> (N, C).
"""

from __future__ import annotations

from typing import Any

from ..common.backend import get_array_module
from ..vectorized.module import Module
from .windows import as_pair, check_images, kernel_offset, kernel_positions, output_size, pad_images, unpad_images


class _Pool2D(Module):
    """What max and average pooling share: their hyperparameters and the checks on them."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        name = type(self).__name__
        self.kernel_size = as_pair(kernel_size, "kernel_size", name, minimum=1)
        self.stride = self.kernel_size if stride is None else as_pair(stride, "stride", name, minimum=1)
        self.padding = as_pair(padding, "padding", name, minimum=0)
        # as PyTorch: more padding would allow windows that see nothing but padding
        if any(2 * pad > kernel for pad, kernel in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half of kernel_size {self.kernel_size}")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def _owner(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size})"


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

    def backward(self, grad_out: Any) -> Any:
        argmax, padded_shape, out_size = self._saved()
        xp = get_array_module(grad_out)
        grad_padded = xp.zeros(padded_shape, dtype=grad_out.dtype)
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
        padded = pad_images(x, self.padding)
        total = xp.zeros((*x.shape[:2], *out_size), dtype=x.dtype)
        for i, j in kernel_positions(self.kernel_size):
            total += padded[kernel_offset(i, j, self.stride, out_size)]
        self._save_for_backward(padded.shape, out_size)
        return total / (self.kernel_size[0] * self.kernel_size[1])

    def backward(self, grad_out: Any) -> Any:
        padded_shape, out_size = self._saved()
        xp = get_array_module(grad_out)
        share = grad_out / (self.kernel_size[0] * self.kernel_size[1])
        grad_padded = xp.zeros(padded_shape, dtype=grad_out.dtype)
        for i, j in kernel_positions(self.kernel_size):
            grad_padded[kernel_offset(i, j, self.stride, out_size)] += share
        return unpad_images(grad_padded, self.padding)


class GlobalAvgPool2D(Module):
    """The mean of each channel over the whole image (Lin et al. 2014, "Network in Network").

    x: (N, C, H, W) -> y: (N, C), y[n, c] = mean over (h, w) of x[n, c, h, w]; every pixel
    gets an equal share of the gradient: dL/dx[n, c, h, w] = dY[n, c] / (H*W).
    """

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
