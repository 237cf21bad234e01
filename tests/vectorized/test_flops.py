"""Every layer counts its own forward FLOPs; a model sums its layers' at the shapes that reach them."""

from __future__ import annotations

import math

import pytest

from nnscratch.convolutional import ConvTranspose2D
from nnscratch.convolutional.blocks import ResidualBlock
from nnscratch.convolutional.modules import (
    GELU,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    GroupNorm,
    Identity,
    LayerNorm2D,
    MaxPool2D,
    ReLU,
    Sequential,
)
from nnscratch.vectorized.leaves import trace_layers
from nnscratch.vectorized.module import Module
from nnscratch.vectorized.modules import LayerNorm, Linear


@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    [
        (Conv2D(3, 4, 3, padding=1), (3, 5, 6), (2 * 3 * 9 + 1) * 4 * 5 * 6),  # a multiply-add per weight, the bias
        (Conv2D(3, 4, (3, 1), stride=2, bias=False), (3, 5, 6), 2 * 3 * 3 * 4 * 2 * 3),
        (DepthwiseConv2D(3, 3, stride=2, padding=1), (3, 5, 5), (2 * 9 + 1) * 3 * 3 * 3),
        (Conv2D(4, 6, 3, dilation=2, groups=2), (4, 7, 7), (2 * 2 * 9 + 1) * 6 * 3 * 3),  # C/g per filter
        (ConvTranspose2D(3, 4, 3, stride=2), (3, 2, 2), 2 * 3 * 4 * 9 * 2 * 2 + 4 * 5 * 5),  # per input, + bias
        (Linear(8, 5), (8,), 2 * 8 * 5 + 5),
        (Linear(8, 5, bias=False), (8,), 2 * 8 * 5),
        (MaxPool2D(2), (3, 4, 6), 4 * 3 * 2 * 3),  # kh * kw comparisons per output
        (AvgPool2D(3, stride=1, padding=1), (2, 4, 4), 9 * 2 * 4 * 4),
        (GlobalAvgPool2D(), (3, 4, 4), 3 * 4 * 4),  # one addition per input
        (GlobalAvgPool2D(keepdims=True), (3, 4, 4), 3 * 4 * 4),
        (BatchNorm2D(3), (3, 4, 4), 2 * 3 * 4 * 4),  # a scale and a shift per value
        (LayerNorm2D(3), (3, 4, 4), 2 * 3 * 4 * 4),
        (GroupNorm(3, 3), (3, 4, 4), 2 * 3 * 4 * 4),
        (LayerNorm(5), (7, 5), 2 * 7 * 5),
        (ReLU(), (3, 4, 4), 3 * 4 * 4),
        (GELU(), (7,), 7),
        (Dropout(0.5), (3, 4, 4), 3 * 4 * 4),
        (Flatten(), (3, 4, 4), 0),
        (Identity(), (3, 4, 4), 0),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Module) else None,
)
def test_each_layer_counts_its_forward_flops_for_one_sample(layer, input_shape, expected):
    assert layer.flops(input_shape) == expected


def test_a_model_sums_its_layers_at_the_shape_that_reaches_each():
    model = Sequential(Conv2D(1, 2, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Linear(2 * 2 * 2, 3))
    conv, relu, pool, linear = (2 * 9 + 1) * 2 * 4 * 4, 2 * 4 * 4, 4 * 2 * 2 * 2, 2 * 8 * 3 + 3
    assert model.flops((1, 4, 4)) == conv + relu + pool + linear


def test_a_block_counts_its_shortcut_at_the_blocks_input():
    block = ResidualBlock(2, 4, stride=2)  # the shortcut is a strided 1x1 convolution of the block's input
    calls = {call.name: call for call in trace_layers(block, (2, 6, 6))}
    assert calls["shortcut.0"].input_shape == (2, 6, 6) and calls["conv2"].input_shape == (4, 3, 3)
    assert block.flops((2, 6, 6)) == sum(call.module.flops(call.input_shape) for call in calls.values())
    assert calls["shortcut.0"].module.flops((2, 6, 6)) == 2 * 2 * 4 * math.prod((3, 3))


class Doubling(Module):
    """A layer written without a flops(): it must not be counted as some guess."""

    def forward(self, x):
        return 2 * x

    def backward(self, grad_out):
        return 2 * grad_out


def test_a_layer_that_does_not_count_its_flops_is_an_error_not_a_guess():
    with pytest.raises(NotImplementedError, match=r"^Doubling does not define flops\(input_shape\)$"):
        Doubling().flops((3,))
    with pytest.raises(NotImplementedError, match=r"Doubling does not define flops"):
        Sequential(Linear(3, 3), Doubling()).flops((3,))


def test_tracing_leaves_the_model_as_it_was():
    model = Sequential(Conv2D(1, 2, 3), BatchNorm2D(2), ReLU())
    before = {name: value.copy() for name, value in model.state_dict().items()}
    model.flops((1, 5, 5))
    assert model.training and all(model.training for model in model.modules())
    assert all("forward" not in vars(module) for module in model.modules())
    for name, value in model.state_dict().items():
        assert (value == before[name]).all(), name  # running statistics untouched: eval mode
