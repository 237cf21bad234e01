"""Sliding windows over images: the bookkeeping every convolution and pooling layer shares.

A layer with a kh x kw kernel, stride (sh, sw) and zero padding (ph, pw) looks at an image
x of shape (N, C, H, W) through windows. After padding to (N, C, Hp, Wp) = (N, C, H + 2ph,
W + 2pw), output pixel (h, w) sees the window whose top-left corner is (sh*h, sw*w), and

    H' = (H + 2ph - kh) // sh + 1          W' = (W + 2pw - kw) // sw + 1

windows fit (the last partial ones are dropped, as in PyTorch).

A dilated kernel (dilation (dh, dw), convolutions only) spreads its taps dh rows and dw
columns apart: kernel position (i, j) reads pixel (sh*h + dh*i, sw*w + dw*j). The window then
spans dh*(kh - 1) + 1 rows (``kernel_extent``), which takes kh's place in the sizes above.
Dilation (1, 1), the default everywhere, is the plain window.

Two views of the same windows are used in tier 3:

- ``sliding_windows``: all windows at once, shape (N, C, H', W', kh, kw), a view that copies
  nothing (``sliding_window_view`` plus a stride). ``im2col`` turns it into a matrix.
- ``kernel_offset``: for one kernel position (i, j), the (H', W') grid of pixels that sits
  under it in every window, ``padded[:, :, i : i + sh*H' : sh, j : j + sw*W' : sw]``. A loop
  over the kh*kw kernel positions with these slices is how gradients are scattered back
  (``col2im``, pooling) and how the depthwise convolution is computed: kh*kw vectorised
  steps, never a loop over samples or pixels.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import get_array_module


def as_pair(value: Any, name: str, owner: str, minimum: int) -> tuple[int, int]:
    """``value`` (an int or a pair of ints, each >= ``minimum``) as a (height, width) pair.

    ``owner`` names the layer in the error, e.g. ``Conv2D: stride must be ...``.
    """
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    valid = (
        isinstance(pair, (tuple, list))
        and len(pair) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in pair)
    )
    if not valid:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{owner}: {name} must be a {kind} int or a pair of {kind} ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def window_geometry(
    owner: str, kernel_size: Any, stride: Any, padding: Any
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(kernel_size, stride, padding) of a layer that slides a window, each as a (height, width) pair.

    Each is an int or a pair (``as_pair``): kernel and stride positive, padding non-negative.
    ``stride=None`` means the kernel size: windows side by side (pooling's default).
    """
    kernel = as_pair(kernel_size, "kernel_size", owner, minimum=1)
    steps = kernel if stride is None else as_pair(stride, "stride", owner, minimum=1)
    return kernel, steps, as_pair(padding, "padding", owner, minimum=0)


def check_images(owner: str, x: Any, channels: int | None = None) -> None:
    """Raise a ValueError unless x is (N, C, H, W) with C == ``channels`` (when given).

    ``owner`` is how the layer introduces itself, e.g. ``Conv2D(in_channels=3)``.
    """
    if x.ndim != 4:
        raise ValueError(f"{owner} expects input of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{owner} got input with {x.shape[1]} channel(s): shape {tuple(x.shape)}")


def kernel_extent(kernel: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """How many rows and columns a (dilated) kernel spans: d*(k - 1) + 1 each, k itself for dilation 1."""
    return dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1


def output_size(
    owner: str,
    x_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> tuple[int, int]:
    """(H', W') for an (N, C, H, W) input; a ValueError when the kernel spans more than the padded input."""
    height, width = x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1]
    extent = kernel_extent(kernel, dilation)
    if extent[0] > height or extent[1] > width:
        spans = "" if dilation == (1, 1) else f" with dilation {dilation} (spanning {extent})"
        raise ValueError(
            f"{owner} got input of spatial size {tuple(x_shape[2:])}: kernel_size {kernel}{spans} is larger than "
            f"the padded input ({height}, {width}) (padding {padding})"
        )
    return (height - extent[0]) // stride[0] + 1, (width - extent[1]) // stride[1] + 1


def pad_images(x: Any, padding: tuple[int, int], value: float = 0.0) -> Any:
    """x (N, C, H, W) -> (N, C, H + 2ph, W + 2pw), surrounded by ``value``; x itself when no padding."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    xp = get_array_module(x)
    n, c, h, w = x.shape
    padded = xp.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = x
    return padded


def unpad_images(padded: Any, padding: tuple[int, int]) -> Any:
    """The inverse of ``pad_images``: the (N, C, H, W) interior of a padded array (a view)."""
    ph, pw = padding
    return padded[:, :, ph : padded.shape[2] - ph, pw : padded.shape[3] - pw]


def sliding_windows(
    padded: Any, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int] = (1, 1)
) -> Any:
    """Every kh x kw window of ``padded`` (N, C, Hp, Wp), as a read-only view (N, C, H', W', kh, kw).

    ``windows[n, c, h, w, i, j]`` is ``padded[n, c, sh*h + dh*i, sw*w + dw*j]``: for dilation 1 the
    patch ``padded[n, c, sh*h : sh*h + kh, sw*w : sw*w + kw]``. No data is copied: the view reuses
    the image's memory with extra strides (a dilated window is the full span, every d-th tap kept).
    """
    xp = get_array_module(padded)
    windows = xp.lib.stride_tricks.sliding_window_view(padded, kernel_extent(kernel, dilation), axis=(2, 3))
    return windows[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def wide_length(out_size: tuple[int, int], pitch: int) -> int:
    """How many positions q = h * pitch + w a wide layout has per image: (H' - 1) * pitch + W'.

    Every output row but the last is followed by ``pitch - W'`` junk positions (see ``wide_windows``).
    """
    return (out_size[0] - 1) * pitch + out_size[1]


def wide_windows(padded: Any, kernel: tuple[int, int]) -> Any:
    """The windows of a stride-1 convolution as whole stretches of image: a view (C, kh, kw, N, L).

    padded: (N, C, Hp, Wp). With H' = Hp - kh + 1, W' = Wp - kw + 1 and L = ``wide_length``,

        view[c, i, j, n, h * Wp + w] = padded[n, c, h + i, w + j]      for h < H', w < W'

    Positions are numbered along the *padded* width Wp: q = h * Wp + w. The W' positions of
    each row where a window fits are followed by Wp - W' = kw - 1 junk ones (w >= W', where the
    window would wrap into the next row). In exchange, ``view[c, i, j, n]`` is one contiguous
    stretch of ``padded[n, c]``, starting at row i, column j, so copying these windows moves
    whole images instead of rows of W' pixels. No data is copied by this function.
    """
    xp = get_array_module(padded)
    padded = xp.ascontiguousarray(padded)
    n, c, height, width = padded.shape
    kh, kw = kernel
    length = wide_length((height - kh + 1, width - kw + 1), width)
    item = padded.itemsize
    strides = (height * width * item, width * item, item, c * height * width * item, item)
    # the last window of the last image ends exactly at the array's last element: no read is out of bounds
    return xp.lib.stride_tricks.as_strided(padded, shape=(c, kh, kw, n, length), strides=strides)


def wide_to_images(wide: Any, out_size: tuple[int, int], pitch: int) -> Any:
    """A (..., L) array in the wide layout of ``wide_windows`` as the images it holds: a view (..., H', W').

    ``images[..., h, w] = wide[..., h * pitch + w]``; the junk positions are skipped. The view can
    be written to, e.g. to fill a wide array from images.
    """
    xp = get_array_module(wide)
    item = wide.itemsize
    strides = (*wide.strides[:-1], pitch * item, item)
    return xp.lib.stride_tricks.as_strided(wide, shape=(*wide.shape[:-1], *out_size), strides=strides)


def kernel_positions(kernel: tuple[int, int]) -> list[tuple[int, int]]:
    """Every (i, j) position in a kh x kw kernel, row by row: what the kernel-offset loops walk."""
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def kernel_offset(
    i: int, j: int, stride: tuple[int, int], out_size: tuple[int, int], dilation: tuple[int, int] = (1, 1)
) -> tuple[slice, ...]:
    """Index of the pixels under kernel position (i, j) in every window: ``padded[kernel_offset(...)]``.

    The result has shape (N, C, H', W'): element (n, c, h, w) is ``padded[n, c, sh*h + dh*i, sw*w + dw*j]``,
    the same number as ``sliding_windows(padded, ...)[n, c, h, w, i, j]``, but as a plain strided
    slice, which can also be written to (``grad[kernel_offset(...)] += ...``).
    """
    (sh, sw), (out_h, out_w), (top, left) = stride, out_size, (dilation[0] * i, dilation[1] * j)
    return (
        slice(None),
        slice(None),
        slice(top, top + sh * (out_h - 1) + 1, sh),
        slice(left, left + sw * (out_w - 1) + 1, sw),
    )
