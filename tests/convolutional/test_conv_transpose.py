"""ConvTranspose2D: PyTorch parity for every option, gradcheck, the adjoint of Conv2D, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional import ConvTranspose2D
from nnscratch.convolutional.modules import Conv2D
from nnscratch.testing import gradcheck_module
from tests.convolutional.test_modules import assert_input_gradient_can_be_skipped, random_input
from tests.parity import assert_matches_torch
from tests.support import assert_close, to_torch

# id: (in_channels, out_channels, kernel_size, options, input (N, C_in, H, W))
PARITY = {
    "plain": (3, 2, 3, {}, (2, 3, 4, 5)),
    "stride-2": (2, 3, 3, {"stride": 2}, (2, 2, 4, 4)),
    "stride-2-padding-1": (2, 3, 3, {"stride": 2, "padding": 1}, (2, 2, 4, 5)),
    "stride-2-output-padding-1": (2, 3, 3, {"stride": 2, "padding": 1, "output_padding": 1}, (2, 2, 4, 4)),
    "stride-3x2-output-padding-2x1": (2, 2, (2, 3), {"stride": (3, 2), "output_padding": (2, 1)}, (1, 2, 3, 4)),
    "dilation-2": (2, 3, 3, {"dilation": 2}, (2, 2, 4, 4)),
    "dilation-2-output-padding-1": (2, 2, 3, {"dilation": 2, "padding": 2, "output_padding": 1}, (1, 2, 5, 4)),
    "groups-2": (4, 6, 3, {"groups": 2, "padding": 1}, (2, 4, 4, 4)),
    "depthwise-groups-3": (3, 3, 2, {"groups": 3, "stride": 2}, (2, 3, 3, 4)),
    "no-bias": (2, 3, 3, {"stride": 2, "bias": False}, (2, 2, 3, 3)),
    "everything": (4, 2, (3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2),
                                  "dilation": (1, 2), "groups": 2}, (2, 4, 4, 3)),
}  # fmt: skip


def layer(case, seed=0):
    in_channels, out_channels, kernel, options, _ = PARITY[case]
    return ConvTranspose2D(in_channels, out_channels, kernel, seed=seed, **options).to(np.float64)


@pytest.mark.parametrize("case", PARITY)
def test_conv_transpose2d_matches_torch_forward_and_every_gradient(backend, case):
    assert_matches_torch(layer(case), random_input(0, PARITY[case][-1]))


@pytest.mark.parametrize("case", ["stride-2-output-padding-1", "everything"])
def test_conv_transpose2d_passes_gradcheck(case):
    gradcheck_module(layer(case), random_input(1, PARITY[case][-1]))


@st.composite
def transposed_cases(draw):
    """(ConvTranspose2D in float64, x) over random kernels, strides, paddings, output paddings, dilations, groups."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(size, stride, dilation, kernel, strict=True)]
    padding = tuple(draw(st.integers(0, (f + e - 1) // 2)) for f, e in zip(full, output_padding, strict=True))
    groups = draw(st.sampled_from([1, 2]))
    channels, filters = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    options = {"output_padding": output_padding, "dilation": dilation, "groups": groups}
    seed = draw(st.integers(0, 2**32 - 1))
    conv_t = ConvTranspose2D(channels, filters, kernel, stride, padding, bias=draw(st.booleans()), seed=seed, **options)
    return conv_t.to(np.float64), random_input(seed, (draw(st.integers(1, 2)), channels, *size))


@given(transposed_cases())
def test_conv_transpose2d_matches_torch_for_random_geometry(case):
    conv_t, x = case
    assert_matches_torch(conv_t, x)
    expected = [
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(
            x.shape[2:], conv_t.stride, conv_t.padding, conv_t.dilation, conv_t.kernel_size, conv_t.output_padding,
            strict=True,
        )
    ]  # fmt: skip
    assert list(conv_t.output_size(x.shape)) == expected


@st.composite
def adjoint_pairs(draw):
    """(Conv2D, ConvTranspose2D sharing its weight and geometry, x, y), float64, no bias: the
    transposed layer maps the conv's output size back to its input size (output_padding picks it)."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    size = [max(1, k - 2 * p) + draw(st.integers(0, 4)) for k, p in zip(span, padding, strict=True)]
    # the rows a strided conv leaves unread at the bottom (fewer than the stride): what the transpose adds back
    leftover = [(n + 2 * p - k) % s for n, p, k, s in zip(size, padding, span, stride, strict=True)]
    groups = draw(st.sampled_from([1, 2]))
    channels, filters = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**32 - 1))
    options = {"dilation": dilation, "groups": groups}
    conv = Conv2D(channels, filters, kernel, stride, padding, bias=False, seed=seed, **options).to(np.float64)
    conv_t = ConvTranspose2D(filters, channels, kernel, stride, padding, leftover, bias=False, **options)
    conv_t = conv_t.to(np.float64)
    conv_t.weight.data[...] = conv.weight.data  # (F, C/g, kh, kw): the same tensor in both layouts
    x = random_input(seed, (draw(st.integers(1, 2)), channels, *size))
    y = random_input(seed + 1, (x.shape[0], filters, *conv.output_size(x.shape)))
    return conv, conv_t, x, y


@given(adjoint_pairs())
def test_conv_transpose2d_is_the_adjoint_of_conv2d_with_the_same_geometry(pair):
    # <conv(x), y> = <x, conv_t(y)> for every x and y
    conv, conv_t, x, y = pair
    conv_of_x, conv_t_of_y = conv.forward(x), conv_t.forward(y)
    assert conv_t_of_y.shape == x.shape
    np.testing.assert_allclose(np.vdot(conv_of_x, y), np.vdot(x, conv_t_of_y), rtol=1e-10, atol=1e-10)


@given(adjoint_pairs())
def test_conv_transpose2d_forward_is_conv2d_backward_and_its_backward_is_conv2d_forward(pair):
    conv, conv_t, x, y = pair
    conv.forward(x)
    assert_close(conv_t.forward(y), conv.backward(y), name="conv_t(y) vs dL/dx of conv at dL/dy = y")
    assert_close(conv_t.backward(x), conv.forward(x), name="dL/dy of conv_t at dL/dout = x vs conv(x)")


def test_conv_transpose2d_initialises_like_torch_from_its_seed():
    conv_t = ConvTranspose2D(4, 6, (3, 2), groups=2, seed=3)
    bound = 1 / np.sqrt(3 * 3 * 2)  # fan-in from the weight (C_in, F/g, kh, kw): F/g*kh*kw
    assert conv_t.weight.shape == (4, 3, 3, 2) and conv_t.bias.shape == (6,)
    for parameter in (conv_t.weight, conv_t.bias):
        assert parameter.dtype == np.float32
        assert bound * 0.5 < np.abs(parameter.data).max() <= bound
    assert [name for name, _ in conv_t.named_parameters()] == ["weight", "bias"]
    assert_close(ConvTranspose2D(4, 6, (3, 2), groups=2, seed=3).weight.data, conv_t.weight.data)


def test_conv_transpose2d_without_input_gradient_returns_none_and_still_fills_the_weight_gradient():
    conv_t = layer("everything")
    x = random_input(0, PARITY["everything"][-1])
    upstream = random_input(1, conv_t.forward(x).shape)
    assert_input_gradient_can_be_skipped(conv_t, x, upstream)


def test_conv_transpose2d_keeps_float32_and_repr_shows_its_options():
    conv_t = ConvTranspose2D(2, 3, 3, stride=2, output_padding=1, seed=0)
    y = conv_t.forward(random_input(0, (1, 2, 3, 3)).astype(np.float32))
    assert y.dtype == conv_t.backward(np.ones_like(y)).dtype == np.float32
    assert repr(conv_t) == (
        "ConvTranspose2D(2, 3, kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), bias=True, output_padding=(1, 1))"
    )


def test_conv_transpose2d_counts_a_product_per_weight_and_input_value_plus_the_bias():
    conv_t = ConvTranspose2D(4, 6, 3, stride=2, groups=2)
    assert conv_t.flops((4, 5, 5)) == 2 * 4 * 3 * 9 * 25 + 6 * 11 * 11


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ConvTranspose2D(2, 2, 3, stride=2, output_padding=2),
         r"^ConvTranspose2D: output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the dilation"),
        (lambda: ConvTranspose2D(3, 4, 3, groups=2), r"^ConvTranspose2D: groups=2 must divide in_channels=3 and "),
        (lambda: ConvTranspose2D(2, 2, 3, dilation=0), r"^ConvTranspose2D: dilation must be a positive int"),
        (lambda: ConvTranspose2D(2, 2, 3, groups=0), r"^ConvTranspose2D: groups must be a positive integer, got 0"),
    ],
    ids=["output-padding-too-large", "groups-not-dividing", "dilation-0", "groups-0"],
)  # fmt: skip
def test_bad_arguments_are_refused_naming_the_layer_and_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_input_is_refused_naming_the_layer():
    with pytest.raises(ValueError, match=r"ConvTranspose2D\(in_channels=2\) got input with 3 channel\(s\)"):
        ConvTranspose2D(2, 2, 3).forward(np.zeros((1, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"ConvTranspose2D\(in_channels=2\) got input of spatial size \(1, 1\): "):
        ConvTranspose2D(2, 2, 1, padding=1).forward(np.zeros((1, 2, 1, 1)))


def test_torch_functional_agrees_with_the_twin_the_parity_table_uses():
    # the twin is built from torch_equivalent; the functional form is an independent spelling
    conv_t, x = layer("everything"), random_input(0, PARITY["everything"][-1])
    expected = F.conv_transpose2d(
        to_torch(x), to_torch(conv_t.weight.data), to_torch(conv_t.bias.data), conv_t.stride, conv_t.padding,
        conv_t.output_padding, conv_t.groups, conv_t.dilation,
    )  # fmt: skip
    assert_close(conv_t.forward(x), expected, rtol=1e-12, name="y")
