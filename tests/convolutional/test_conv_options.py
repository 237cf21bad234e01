"""Conv2D's dilation and groups: PyTorch parity, gradcheck, the route table, DepthwiseConv2D as groups=C.

Random geometries (dilation and groups included) of every route are in ``test_algorithms.py``;
this file holds the parity table of the options and what the table of routes does with them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional import use_algorithm
from nnscratch.convolutional.algorithms import ROUTES
from nnscratch.convolutional.modules import Conv2D, DepthwiseConv2D
from nnscratch.testing import gradcheck_module
from tests.parity import assert_matches_torch
from tests.support import assert_close

# id: (in_channels, out_channels, kernel_size, options, input (N, C, H, W))
PARITY = {
    "dilation-2": (2, 3, 3, {"dilation": 2}, (2, 2, 7, 7)),
    "dilation-2x1-stride-2-padding-2": (2, 3, 3, {"dilation": (2, 1), "stride": 2, "padding": 2}, (2, 2, 6, 7)),
    "dilation-3-kernel-2x3": (3, 2, (2, 3), {"dilation": 3, "padding": (1, 0)}, (1, 3, 6, 8)),
    "groups-2": (4, 6, 3, {"groups": 2, "padding": 1}, (2, 4, 5, 5)),
    "groups-3-stride-2": (6, 3, (3, 2), {"groups": 3, "stride": 2}, (2, 6, 7, 6)),
    "groups-C-depthwise": (4, 4, 3, {"groups": 4, "padding": 1}, (2, 4, 5, 5)),
    "groups-C-multiplier-2": (3, 6, 3, {"groups": 3, "padding": 1}, (2, 3, 5, 5)),
    "groups-2-dilation-2-no-bias": (4, 2, 3, {"groups": 2, "dilation": 2, "padding": 2, "bias": False}, (2, 4, 5, 6)),
}

FAST = [name for name in ROUTES if name not in ("im2col", "depthwise")]


def layer(case, algorithm="auto", seed=0):
    in_channels, out_channels, kernel, options, _ = PARITY[case]
    return Conv2D(in_channels, out_channels, kernel, seed=seed, algorithm=algorithm, **options).to(np.float64)


def random_input(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("algorithm", ["auto", "im2col"])
@pytest.mark.parametrize("case", PARITY)
def test_conv2d_with_dilation_and_groups_matches_torch_forward_and_every_gradient(backend, case, algorithm):
    assert_matches_torch(layer(case, algorithm), random_input(0, PARITY[case][-1]))


@pytest.mark.parametrize("case", ["dilation-2x1-stride-2-padding-2", "groups-3-stride-2", "groups-C-depthwise"])
def test_conv2d_with_dilation_and_groups_passes_gradcheck(case):
    gradcheck_module(layer(case), random_input(1, PARITY[case][-1]))


# ----------------------------------------------------------------------------- the table of routes


@pytest.mark.parametrize(
    ("make", "route"),
    [
        (lambda: Conv2D(32, 32, 3, padding=1), "winograd"),  # the plain layers, to compare
        (lambda: Conv2D(1, 6, 5), "banded"),
        (lambda: Conv2D(16, 16, 2), "wide"),
        (lambda: Conv2D(32, 32, 3, padding=2, dilation=2), "im2col"),  # the same, dilated or grouped: the reference
        (lambda: Conv2D(32, 32, 3, padding=1, groups=2), "im2col"),
        (lambda: Conv2D(1, 6, 5, dilation=(1, 2)), "im2col"),
        (lambda: Conv2D(16, 16, 2, groups=16), "depthwise"),
        (lambda: Conv2D(8, 16, 2, groups=8), "im2col"),  # two filters per channel: not depthwise's case
        (lambda: DepthwiseConv2D(8, 3, padding=2, dilation=2), "depthwise"),
    ],
    ids=["plain-winograd", "plain-banded", "plain-wide", "dilated-3x3", "grouped-3x3", "dilated-5x5",
         "groups-C", "groups-C-times-2", "depthwise-dilated"],
)  # fmt: skip
def test_auto_takes_the_reference_for_dilation_and_groups_where_no_fast_route_applies(make, route):
    conv = make()
    conv.forward(np.zeros((2, conv.in_channels, 12, 12), np.float32))
    assert conv.last_algorithm == route


@pytest.mark.parametrize("options", [{"dilation": 2}, {"dilation": (1, 2)}, {"groups": 2}, {"groups": 4}])
def test_every_fast_route_steps_aside_for_dilation_or_groups_and_says_so(options):
    conv = Conv2D(4, 4, 3, padding=2, **options)
    for name in FAST:
        assert ROUTES[name].applies(Conv2D(4, 4, 3, padding=2), (1, 4, 8, 8))  # plain: it would apply
        assert not ROUTES[name].applies(conv, (1, 4, 8, 8))
        assert "dilation 1 and groups 1" in ROUTES[name].needs
        with pytest.raises(ValueError, match=rf"algorithm '{name}' needs .*dilation 1 and groups 1"):
            with use_algorithm(name):
                conv.forward(np.zeros((1, 4, 8, 8), np.float32))


# ----------------------------------------------------------------------------- DepthwiseConv2D is groups=C


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(0, 2), st.integers(1, 2), st.integers())
def test_depthwise_conv2d_is_conv2d_with_groups_c_on_the_reference_route(channels, kernel, stride, padding, dilation,
                                                                         seed):  # fmt: skip
    seed %= 2**32
    options = {"stride": stride, "padding": padding, "dilation": dilation, "seed": seed}
    depthwise = DepthwiseConv2D(channels, kernel, **options).to(np.float64)
    reference = Conv2D(channels, channels, kernel, groups=channels, algorithm="im2col", **options).to(np.float64)
    assert_close(depthwise.weight.data, reference.weight.data, name="the same initial weight from the seed")
    size = dilation * (kernel - 1) + 1 + stride
    x = random_input(seed, (2, channels, size, size + 1))
    y = depthwise.forward(x)
    assert channels == 1 or depthwise.last_algorithm == "depthwise"  # one channel is a plain conv: any route
    assert_close(y, reference.forward(x), name="y")
    upstream = random_input(seed + 1, y.shape)
    assert_close(depthwise.backward(upstream), reference.backward(upstream), name="dL/dx")
    assert_close(depthwise.weight.grad, reference.weight.grad, name="dL/dW")
    assert_close(depthwise.bias.grad, reference.bias.grad, name="dL/db")


def test_depthwise_conv2d_keeps_its_state_dict_names_and_shapes():
    depthwise = DepthwiseConv2D(4, (3, 2), seed=0)
    assert {name: value.shape for name, value in depthwise.state_dict().items()} == {
        "weight": (4, 1, 3, 2),
        "bias": (4,),
    }
    assert isinstance(depthwise, Conv2D) and depthwise.groups == depthwise.channels == 4


# ----------------------------------------------------------------------------- bookkeeping and errors


def test_conv2d_with_groups_initialises_its_smaller_weight_like_torch():
    conv = Conv2D(8, 4, 3, groups=4, seed=0)
    bound = 1 / np.sqrt(2 * 3 * 3)  # fan-in C/g*kh*kw
    assert conv.weight.shape == (4, 2, 3, 3)
    assert bound * 0.5 < np.abs(conv.weight.data).max() <= bound


def test_conv2d_counts_flops_per_group_and_repr_shows_the_options():
    conv = Conv2D(8, 4, 3, padding=2, dilation=2, groups=4)
    assert conv.flops((8, 6, 6)) == (2 * 2 * 9 + 1) * 4 * 6 * 6
    assert repr(conv) == (
        "Conv2D(8, 4, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2), bias=True, dilation=(2, 2), groups=4)"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2D(3, 4, 3, groups=2), r"^Conv2D: groups=2 must divide in_channels=3 and out_channels=4$"),
        (lambda: Conv2D(4, 3, 3, groups=2), r"^Conv2D: groups=2 must divide in_channels=4 and out_channels=3$"),
        (lambda: Conv2D(2, 2, 3, groups=0), r"^Conv2D: groups must be a positive integer, got 0$"),
        (lambda: Conv2D(2, 2, 3, dilation=(1, 0)), r"^Conv2D: dilation must be a positive int or a pair"),
        (lambda: DepthwiseConv2D(2, 3, dilation=-1), r"^DepthwiseConv2D: dilation must be a positive int"),
    ],
    ids=["groups-in", "groups-out", "groups-0", "dilation-0", "depthwise-dilation"],
)  # fmt: skip
def test_bad_dilation_or_groups_is_refused_naming_the_layer_and_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_dilated_kernel_wider_than_the_input_is_refused_with_its_span():
    with pytest.raises(ValueError, match=r"kernel_size \(3, 3\) with dilation \(3, 3\) \(spanning \(7, 7\)\) is "
                                         r"larger than the padded input \(6, 6\)"):  # fmt: skip
        Conv2D(1, 1, 3, dilation=3).forward(np.zeros((1, 1, 6, 6)))
