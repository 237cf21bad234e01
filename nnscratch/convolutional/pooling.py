"""Pooling: summarise each window of every channel by one number (its maximum or its mean).

x: (N, C, H, W) -> y: (N, C, H', W'), windows and output sizes as in ``windows.py``; the
stride defaults to the kernel size (windows side by side). The reference, route ``"windows"``,
is a loop over the kh*kw kernel positions, every step one strided slice of the whole batch
(``kernel_offset``): the forward folds the slices into a running max or sum, and the backward
sends the gradient back through the same slices.

When the windows tile the image exactly (as in every ``MaxPool2D(2)`` of the gallery), the
faster route ``"tiled"`` (``algorithms/tiled_pool.py``) reshapes x instead. ``algorithm="auto"``
takes it where it applies; ``"windows"`` forces the reference, ``"tiled"`` the reshape (an
error where the windows do not tile); ``last_algorithm`` says which ran.

``GlobalAvgPool2D`` averages each channel over the whole image: (N, C, H, W) -> (N, C), or
(N, C, 1, 1) with ``keepdims=True`` (PyTorch's ``AdaptiveAvgPool2d(1)``).
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module
from ..vectorized.module import Module
from .algorithms import tiled_pool
from .windows import (
    check_images,
    kernel_offset,
    kernel_positions,
    output_size,
    pad_images,
    unpad_images,
    window_geometry,
)

POOL_ALGORITHMS = ("auto", "windows", tiled_pool.NAME)


class _Pool2D(Module):
    """What max and average pooling share: their hyperparameters and the checks on them."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        algorithm: str = "auto",
    ) -> None:
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding = window_geometry(name, kernel_size, stride, padding)
        if algorithm not in POOL_ALGORITHMS:
            raise ValueError(f"{name}: algorithm must be one of {', '.join(POOL_ALGORITHMS)}, got {algorithm!r}")
        self.algorithm = algorithm
        self.last_algorithm: str | None = None  # the route the last forward took
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

    def _route(self, shape: tuple[int, ...]) -> str:
        """The route this forward takes ("windows" or "tiled"), as ``algorithm`` asks; recorded in
        ``last_algorithm``. A forced "tiled" where the windows do not tile is a ValueError saying why."""
        tiles = tiled_pool.applies(self, shape)
        if self.algorithm == "tiled" and not tiles:
            raise ValueError(
                f"{self._owner()}: algorithm 'tiled' needs {tiled_pool.NEEDS}; this one has stride {self.stride}, "
                f"padding {self.padding} and input {tuple(shape[2:])}; use 'auto' or the reference 'windows'"
            )
        self.last_algorithm = "tiled" if tiles and self.algorithm != "windows" else "windows"
        return self.last_algorithm


class MaxPool2D(_Pool2D):
    """The largest value of each window (padding counts as -inf, so it never wins).

    x: (N, C, H, W) -> y: (N, C, H', W'). The gradient of a maximum goes to the one input that
    was the maximum, all of it: dL/dx = dY at that position, 0 elsewhere. Ties go to the first
    maximum in the window (row by row), as in PyTorch, so exactly one input gets the gradient.
    A NaN counts as the largest value, so it propagates (also as PyTorch).
    """

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node("MaxPool", [x], **graph.window(self))

    def forward(self, x: Any) -> Any:
        check_images(self._owner(), x)
        out_size = output_size(self._owner(), x.shape, self.kernel_size, self.stride, self.padding)
        if self._route(x.shape) == "tiled":
            y, saved = tiled_pool.max_forward(self, x)
            if saved is None:
                self._save_for_backward()  # inside no_grad: keeps nothing
            else:
                self._save_for_backward("tiled", saved)
            return y
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
        self._save_for_backward("windows", (argmax, padded.shape, out_size))
        return best

    def backward(self, grad_out: Any) -> Any:
        route, saved = self._saved()
        if route == "tiled":
            return tiled_pool.max_backward(self, saved, grad_out)
        argmax, shape, out_size = saved
        xp = get_array_module(grad_out)
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

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node("AveragePool", [x], count_include_pad=1, **graph.window(self))

    def forward(self, x: Any) -> Any:
        check_images(self._owner(), x)
        out_size = output_size(self._owner(), x.shape, self.kernel_size, self.stride, self.padding)
        xp = get_array_module(x)
        if self._route(x.shape) == "tiled":
            total, saved = tiled_pool.avg_forward(self, x)
            self._save_for_backward("tiled", saved)
        else:
            padded = pad_images(x, self.padding)
            total = xp.zeros((*x.shape[:2], *out_size), dtype=x.dtype)
            for i, j in kernel_positions(self.kernel_size):
                total += padded[kernel_offset(i, j, self.stride, out_size)]
            self._save_for_backward("windows", (padded.shape, out_size))
        total /= self.kernel_size[0] * self.kernel_size[1]
        return total

    def backward(self, grad_out: Any) -> Any:
        route, saved = self._saved()
        share = grad_out / (self.kernel_size[0] * self.kernel_size[1])
        if route == "tiled":
            return tiled_pool.avg_backward(self, saved, share)
        padded_shape, out_size = saved
        xp = get_array_module(grad_out)
        grad_padded = xp.zeros(padded_shape, dtype=grad_out.dtype)
        for i, j in kernel_positions(self.kernel_size):
            grad_padded[kernel_offset(i, j, self.stride, out_size)] += share
        return unpad_images(grad_padded, self.padding)


class GlobalAvgPool2D(Module):
    """The mean of each channel over the whole image (Lin et al. 2014, "Network in Network").

    x: (N, C, H, W) -> y: (N, C), or (N, C, 1, 1) with ``keepdims=True``; y[n, c] = mean over
    (h, w) of x[n, c, h, w]. Every pixel gets an equal share of the gradient:
    dL/dx[n, c, h, w] = dY[n, c] / (H*W).

    keepdims: keep the two axes of size 1, as torch.nn's ``AdaptiveAvgPool2d(1)`` does. A model
    written in PyTorch (torchvision's ResNet) ends with that pool, then ``Flatten``; keeping the
    axes lets ``from_torch`` convert it layer for layer, so every converted model keeps the
    PyTorch model's layers and parameter names. Built here, the default (N, C) saves the Flatten.
    """

    def __init__(self, keepdims: bool = False) -> None:
        if not isinstance(keepdims, bool):
            raise ValueError(f"GlobalAvgPool2D: keepdims must be True or False, got {keepdims!r}")
        self.keepdims = keepdims

    def extra_repr(self) -> str:
        return "keepdims=True" if self.keepdims else ""

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """One addition per input value."""
        return math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        """torch.nn's AdaptiveAvgPool2d(1) keeps two axes of size 1: ``interop.torch`` writes a twin without."""
        return ("AdaptiveAvgPool2d", {"output_size": 1}) if self.keepdims else ("GlobalAvgPool2d", {})

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """GlobalAveragePool keeps (N, C, 1, 1); without ``keepdims``, Flatten drops the two axes."""
        pooled = graph.node("GlobalAveragePool", [x])
        return pooled if self.keepdims else graph.node("Flatten", [pooled], axis=1)

    def forward(self, x: Any) -> Any:
        check_images("GlobalAvgPool2D()", x)
        self._save_for_backward(x.shape)
        return x.mean(axis=(2, 3), keepdims=self.keepdims)

    def backward(self, grad_out: Any) -> Any:
        (shape,) = self._saved()
        xp = get_array_module(grad_out)
        grad_x = xp.empty(shape, dtype=grad_out.dtype)
        # (N, C) or (N, C, 1, 1) alike: one value per channel, spread over its H*W pixels
        grad_x[...] = grad_out.reshape(shape[0], shape[1], 1, 1) / (shape[2] * shape[3])
        return grad_x
