"""The convolution formula as plain loops, and the proof that im2col computes the same numbers.

``conv2d_naive`` is the definition written out, one multiply-add at a time: the bridge from
the equation in ``nnscratch/convolutional/modules.py`` to its im2col form. It is far too slow
for real work (six nested loops in Python), so it only ever sees tiny inputs.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional.modules import Conv2D, im2col
from nnscratch.convolutional.windows import pad_images
from tests.support import RTOL_EXACT, assert_close


def conv2d_naive(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """y[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, sh*h + i, sw*w + j], by loops.

    x: (N, C, H, W), weight: (F, C, kh, kw), bias: (F,) or None -> y: (N, F, H', W').
    """
    n_samples, channels, height, width = x.shape
    filters, _, kh, kw = weight.shape
    (sh, sw), (ph, pw) = stride, padding
    x_pad = np.zeros((n_samples, channels, height + 2 * ph, width + 2 * pw))
    x_pad[:, :, ph : ph + height, pw : pw + width] = x
    out_h = (height + 2 * ph - kh) // sh + 1
    out_w = (width + 2 * pw - kw) // sw + 1
    y = np.zeros((n_samples, filters, out_h, out_w))
    for n in range(n_samples):
        for f in range(filters):
            for h in range(out_h):
                for w in range(out_w):
                    total = 0.0 if bias is None else bias[f]
                    for c in range(channels):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[f, c, i, j] * x_pad[n, c, sh * h + i, sw * w + j]
                    y[n, f, h, w] = total
    return y


@st.composite
def small_convolutions(draw):
    """(x, Conv2D in float64) with every kernel/stride/padding combination up to 3, tiny sizes."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = [max(1, k - 2 * p) + draw(st.integers(0, 3)) for k, p in zip(kernel, padding, strict=True)]
    n, channels, filters = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    conv = Conv2D(channels, filters, kernel, stride, padding, bias=draw(st.booleans()), seed=seed).to(np.float64)
    x = np.random.default_rng(seed).standard_normal((n, channels, *size))
    return x, conv


@given(small_convolutions())
def test_conv2d_computes_the_naive_loops(case):
    x, conv = case
    bias = None if conv.bias is None else conv.bias.data
    expected = conv2d_naive(x, conv.weight.data, bias, conv.stride, conv.padding)
    assert_close(conv.forward(x), expected, rtol=RTOL_EXACT, atol=1e-12, name="Conv2D vs loops")


@given(small_convolutions())
def test_im2col_columns_are_the_patches_the_loops_read(case):
    x, conv = case
    padded = pad_images(x, conv.padding)
    cols = im2col(padded, conv.kernel_size, conv.stride)
    (sh, sw), (kh, kw) = conv.stride, conv.kernel_size
    out_h = (padded.shape[2] - kh) // sh + 1
    out_w = (padded.shape[3] - kw) // sw + 1
    n_samples, channels = x.shape[:2]
    assert cols.shape == (channels * kh * kw, n_samples * out_h * out_w)
    for n in range(n_samples):
        for h in range(out_h):
            for w in range(out_w):
                patch = padded[n, :, sh * h : sh * h + kh, sw * w : sw * w + kw]
                column = cols[:, (n * out_h + h) * out_w + w]
                np.testing.assert_array_equal(column, patch.reshape(-1))
