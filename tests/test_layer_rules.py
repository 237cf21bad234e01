"""Rules every layer of tiers 2 and 3 follows, written once in ``Module`` (``vectorized/module.py``):

- one backward per forward: a second backward without a new forward is a RuntimeError naming the
  layer (PyTorch: "Trying to backward through the graph a second time");
- dL/dy must have the output's shape: otherwise a ValueError naming the layer and both shapes;
- integer and boolean input is cast to the layer's float dtype; complex or text input is refused.

Each rule is checked on every kind of layer, including each path Conv2D can take.
"""

import re

import numpy as np
import pytest

from nnscratch.common.seed import manual_seed
from nnscratch.convolutional import ConvTranspose2D
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.blocks import ConvNeXtBlock, MBConvBlock, ResidualBlock
from nnscratch.convolutional.modules import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    DepthwiseConv2D,
    GlobalAvgPool2D,
    GroupNorm,
    LayerNorm2D,
    MaxPool2D,
    SqueezeExcite,
)
from nnscratch.vectorized.modules import (
    GELU,
    BatchNorm1D,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)

IMAGES = (2, 2, 4, 4)

# id: (a factory, the input shape, the layer a second backward names: the first to run backward
# that keeps something from its forward)
LAYERS = {
    "Linear": (lambda: Linear(3, 2, seed=0), (4, 3), "Linear"),
    "BatchNorm1D": (lambda: BatchNorm1D(3), (4, 3), "BatchNorm1D"),
    "Dropout": (lambda: Dropout(0.5, seed=0), (4, 3), "Dropout"),
    "Flatten": (Flatten, (4, 3, 2), "Flatten"),
    "ReLU": (ReLU, (4, 3), "ReLU"),
    "LeakyReLU": (LeakyReLU, (4, 3), "LeakyReLU"),
    "ReLU6": (ReLU6, (4, 3), "ReLU6"),
    "Tanh": (Tanh, (4, 3), "Tanh"),
    "Sigmoid": (Sigmoid, (4, 3), "Sigmoid"),
    "SiLU": (SiLU, (4, 3), "SiLU"),
    "GELU": (GELU, (4, 3), "GELU"),
    "Softmax": (Softmax, (4, 3), "Softmax"),
    "LogSoftmax": (LogSoftmax, (4, 3), "LogSoftmax"),
    "Sequential": (lambda: Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1)), (4, 3), "Linear"),
    "Conv2D-row-bands": (lambda: Conv2D(2, 3, 3, padding=1, seed=0), IMAGES, "Conv2D"),
    "Conv2D-im2col": (lambda: Conv2D(2, 3, 3, stride=2, padding=1, seed=0), IMAGES, "Conv2D"),
    "Conv2D-winograd": (lambda: Conv2D(32, 4, 3, padding=1, seed=0), (2, 32, 4, 4), "Conv2D"),
    "DepthwiseConv2D": (lambda: DepthwiseConv2D(2, 3, padding=1, seed=0), IMAGES, "DepthwiseConv2D"),
    "Conv2D-dilated-grouped": (lambda: Conv2D(2, 4, 3, padding=2, dilation=2, groups=2, seed=0), IMAGES, "Conv2D"),
    "ConvTranspose2D": (
        lambda: ConvTranspose2D(2, 3, 3, stride=2, output_padding=1, seed=0),
        IMAGES,
        "ConvTranspose2D",
    ),
    "MaxPool2D-tiled": (lambda: MaxPool2D(2), IMAGES, "MaxPool2D"),
    "MaxPool2D-overlapping": (lambda: MaxPool2D(3, stride=1, padding=1), IMAGES, "MaxPool2D"),
    "AvgPool2D": (lambda: AvgPool2D(3, stride=1, padding=1), IMAGES, "AvgPool2D"),
    "GlobalAvgPool2D": (GlobalAvgPool2D, IMAGES, "GlobalAvgPool2D"),
    "GlobalAvgPool2D-keepdims": (lambda: GlobalAvgPool2D(keepdims=True), IMAGES, "GlobalAvgPool2D"),
    "BatchNorm2D": (lambda: BatchNorm2D(2), IMAGES, "BatchNorm2D"),
    "LayerNorm2D": (lambda: LayerNorm2D(2), IMAGES, "LayerNorm2D"),
    "GroupNorm": (lambda: GroupNorm(2, 2), IMAGES, "GroupNorm"),
    "LayerNorm": (lambda: LayerNorm(3), (4, 3), "LayerNorm"),
    "SqueezeExcite": (lambda: SqueezeExcite(2, 1), IMAGES, "SqueezeExcite"),
    "ResidualBlock": (lambda: ResidualBlock(2, 2), IMAGES, "ReLU"),
    "MBConvBlock": (lambda: MBConvBlock(2, 2), IMAGES, "BatchNorm2D"),
    "ConvNeXtBlock": (lambda: ConvNeXtBlock(2), IMAGES, "ConvNeXtBlock"),
    "lenet": (lambda: build("lenet"), (2, 1, 28, 28), "Linear"),
}


def data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("layer_id", LAYERS)
def test_a_second_backward_without_a_new_forward_is_an_error_naming_the_layer(layer_id):
    make, shape, name = LAYERS[layer_id]
    layer = make()
    y = layer.forward(data(shape))
    upstream = data(y.shape, seed=1)
    layer.backward(upstream)
    with pytest.raises(RuntimeError, match=rf"^{name}\.backward\(\) called a second time after one forward\(\)"):
        layer.backward(upstream)
    layer.forward(data(shape))  # a new forward allows the next backward
    layer.backward(upstream)


def test_a_layer_that_keeps_nothing_may_run_backward_again_as_in_torch():
    identity = Identity()
    identity.forward(np.ones(3))
    np.testing.assert_array_equal(identity.backward(np.ones(3)), identity.backward(np.ones(3)))


@pytest.mark.parametrize("layer_id", LAYERS)
def test_a_gradient_of_the_wrong_shape_is_an_error_naming_the_layer_and_both_shapes(layer_id):
    make, shape, _ = LAYERS[layer_id]
    layer, x = make(), data(shape)
    y = layer.forward(x)
    wrong = data((*y.shape[:-1], y.shape[-1] + 1))
    shapes = f"gradient of shape {tuple(wrong.shape)}, but its forward returned shape {tuple(y.shape)}"
    with pytest.raises(ValueError, match=rf"^{type(layer).__name__}\(.*\)\.backward got a {re.escape(shapes)}"):
        layer.backward(wrong)
    grad_x = layer.backward(data(y.shape))  # the refusal used nothing up
    assert grad_x is None or grad_x.shape == x.shape


def test_a_gradient_with_the_right_size_but_another_shape_is_refused_too():
    linear = Linear(3, 2, seed=0)
    linear.forward(data((4, 3)))
    with pytest.raises(ValueError, match=r"gradient of shape \(2, 4\), but its forward returned shape \(4, 2\)"):
        linear.backward(data((2, 4)))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("layer_id", LAYERS)
def test_integer_input_is_cast_to_float32_and_gives_what_the_cast_input_gives(layer_id, dtype):
    make, shape, _ = LAYERS[layer_id]
    integers = np.random.default_rng(0).integers(0, 3, shape).astype(dtype)
    manual_seed(0)  # the same initial weights for both layers
    y = make().forward(integers)
    assert y.dtype == np.float32
    manual_seed(0)
    np.testing.assert_array_equal(y, make().forward(integers.astype(np.float32)))


def test_integer_input_follows_a_float64_model():
    model = Sequential(Linear(3, 2, seed=0), ReLU()).to(np.float64)
    assert model.forward(np.arange(6).reshape(2, 3)).dtype == np.float64
    conv = Conv2D(1, 2, 3, seed=0).to(np.float64)
    assert conv.forward(np.ones((1, 1, 5, 5), dtype=np.int32)).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128, np.str_, object])
@pytest.mark.parametrize("layer_id", ["Linear", "ReLU", "Conv2D-im2col", "MaxPool2D-tiled", "lenet"])
def test_complex_or_non_numeric_input_is_refused_naming_the_layer_and_the_dtype(layer_id, dtype):
    make, shape, _ = LAYERS[layer_id]
    layer = make()
    x = np.ones(shape).astype(dtype)
    name = type(layer).__name__
    with pytest.raises(
        ValueError, match=rf"^{name} expects real numbers .* got input of dtype {re.escape(str(x.dtype))}"
    ):
        layer.forward(x)
