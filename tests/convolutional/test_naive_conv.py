"""The convolution formula as plain loops, and the proof that im2col computes the same numbers.

``conv2d_naive`` (``nnscratch/convolutional/modules.py``) is the definition written out, one
multiply-add at a time: the bridge from the equation to its im2col form. It is far too slow
for real work (six nested loops in Python), so it only ever sees tiny inputs. Every route of
``Conv2D`` is checked against it in ``test_algorithms.py``; here, the layer as a user builds it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional.modules import Conv2D, conv2d_naive, im2col
from nnscratch.convolutional.windows import pad_images
from tests.support import RTOL_EXACT, assert_close


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


def test_conv2d_naive_gives_the_window_sums_worked_out_by_hand():
    # a 2x2 kernel of ones sums each 2x2 window: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9; then the bias, 10
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    y = conv2d_naive(x, np.ones((1, 1, 2, 2)), np.array([10.0]), stride=(1, 1), padding=(0, 0))
    np.testing.assert_array_equal(y, [[[[22.0, 26.0], [34.0, 38.0]]]])
    # stride 2 over the zero-padded 5x5: the top-left window sees only the 1, the bottom-right one 5, 6, 8, 9
    corners = conv2d_naive(x, np.ones((1, 1, 2, 2)), None, stride=(2, 2), padding=(1, 1))
    np.testing.assert_array_equal(corners, [[[[1.0, 5.0], [11.0, 28.0]]]])
