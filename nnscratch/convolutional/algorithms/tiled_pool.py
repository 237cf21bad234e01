"""Pooling by reshape: the ``"tiled"`` route of ``MaxPool2D`` and ``AvgPool2D``.

The reference (``pooling.py``, route ``"windows"``) loops over the kh*kw kernel positions,
each a strided slice of the batch. When the windows tile the image exactly (stride = kernel, no
padding, sizes divisible, as in every ``MaxPool2D(2)`` of the gallery), x is reshaped instead:

    (N, C, H, W) -> (N, C, H/kh, kh, W/kw, kw)      window (h, w) is [:, :, h, :, w, :]

a view in which each window is two axes: the same positions, without the bookkeeping of
overlapping windows, and each window's rows contiguous in memory, which is faster
(docs/performance.md, "Pooling by reshape"). Each pixel lies in exactly one window, so the
backward writes every input gradient once instead of adding into a zeroed array.

The interface is the convolution routes' (``route.py``): ``applies``, ``forward(pool, x) ->
(y, saved)``, ``backward(pool, saved, grad_y) -> grad_x``, one pair for each pool.
"""

from __future__ import annotations

from typing import Any

from ...common.backend import get_array_module
from ...vectorized.grad_mode import grad_enabled
from ..windows import kernel_positions

NAME = "tiled"


def applies(pool: Any, input_shape: tuple[int, ...]) -> bool:
    """Whether the windows tile an (N, C, H, W) input exactly: side by side, no padding, nothing left over."""
    (kh, kw), height, width = pool.kernel_size, input_shape[2], input_shape[3]
    return pool.stride == pool.kernel_size and pool.padding == (0, 0) and height % kh == 0 and width % kw == 0


NEEDS = "windows that tile the image: stride equal to kernel_size, no padding, and sizes the kernel divides"


def window_view(x: Any, kernel_size: tuple[int, int]) -> Any:
    """x (N, C, H, W) -> (N, C, H/kh, kh, W/kw, kw), a view: window (h, w) is [:, :, h, :, w, :]."""
    n, c, height, width = x.shape
    kh, kw = kernel_size
    return x.reshape(n, c, height // kh, kh, width // kw, kw)


def fold_windows(x: Any, kernel_size: tuple[int, int], combine: Any) -> Any:
    """combine (``xp.maximum``, ``xp.add``) folded over each window of a tiled x: (N, C, H', W').

    Over the kh rows of each window first, whole image rows at a time (contiguous memory), then
    over its kw columns. (A reduction over both window axes at once is many times slower.)
    """
    windows = window_view(x, kernel_size)
    kh, kw = kernel_size
    rows = windows[:, :, :, 0]  # (N, C, H', W', kw): the windows' columns, folded over their rows so far
    for i in range(1, kh):
        rows = combine(rows, windows[:, :, :, i])
    columns = [rows[..., j] for j in range(kw)]
    folded = combine(columns[0], columns[1]) if kw > 1 else columns[0].copy()
    for column in columns[2:]:
        combine(folded, column, out=folded)
    return folded


def max_forward(pool: Any, x: Any) -> tuple[Any, Any]:
    """The maxima of the reshaped windows, and (only when a backward may follow) each one's position.

    The winning position is found by counting positions rather than by tracking a running
    maximum; the positions are copied out one after the other first, so that each comparison
    reads contiguous memory.
    """
    xp = get_array_module(x)
    (kh, kw), windows = pool.kernel_size, window_view(x, pool.kernel_size)
    best = fold_windows(x, pool.kernel_size, xp.maximum)
    if not grad_enabled():
        return best, None
    positions = xp.empty((kh, kw, *best.shape), dtype=x.dtype)
    positions[...] = windows.transpose(3, 5, 0, 1, 2, 4)
    positions = positions.reshape(kh * kw, *best.shape)
    # The winner is the first position equal to the maximum, or, in a window holding a NaN,
    # the last NaN (the reference's rule, and PyTorch's). Its index is a count: of the
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
    return best, (argmax, x.shape)


def max_backward(pool: Any, saved: Any, grad_out: Any) -> Any:
    """Each window's gradient to its winner; every pixel is in one window, so each is written once."""
    argmax, shape = saved
    xp = get_array_module(grad_out)
    grad_x = xp.empty(shape, dtype=grad_out.dtype)
    windows = window_view(grad_x, pool.kernel_size)
    for index, (i, j) in enumerate(kernel_positions(pool.kernel_size)):
        xp.multiply(grad_out, argmax == index, out=windows[:, :, :, i, :, j])
    return grad_x


def avg_forward(pool: Any, x: Any) -> tuple[Any, Any]:
    """The sums of the reshaped windows (``AvgPool2D.forward`` divides them by kh*kw)."""
    return fold_windows(x, pool.kernel_size, get_array_module(x).add), x.shape


def avg_backward(pool: Any, saved: Any, share: Any) -> Any:
    """``share`` = dL/dy / (kh*kw) to every pixel of its one window."""
    grad_x = get_array_module(share).empty(saved, dtype=share.dtype)
    windows = window_view(grad_x, pool.kernel_size)
    for i, j in kernel_positions(pool.kernel_size):
        windows[:, :, :, i, :, j] = share
    return grad_x
