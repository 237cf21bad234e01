"""Every layer's declared PyTorch equivalent computes what the layer computes, with the same parameter names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnscratch.convolutional import ConvTranspose2D
from nnscratch.convolutional.blocks import ConvNeXtBlock, MBConvBlock, ResidualBlock
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
    LeakyReLU,
    MaxPool2D,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    SqueezeExcite,
    Tanh,
)
from nnscratch.convolutional.skip import ConcatSkip
from nnscratch.interop import torch as interop_torch
from nnscratch.vectorized.batchnorm import BatchNorm1D
from nnscratch.vectorized.module import Module
from nnscratch.vectorized.modules import LayerNorm, Linear
from tests.support import assert_close

IMAGES = (2, 4, 6, 6)
LAYERS = [
    (Conv2D(4, 3, 3, stride=2, padding=1, seed=0), IMAGES),
    (Conv2D(4, 3, (1, 3), bias=False, seed=0), IMAGES),
    (Conv2D(4, 6, 3, padding=2, dilation=2, groups=2, seed=0), IMAGES),
    (DepthwiseConv2D(4, 3, padding=1, seed=0), IMAGES),
    (ConvTranspose2D(4, 2, 3, stride=2, padding=1, output_padding=1, dilation=(1, 2), groups=2, seed=0), IMAGES),
    (Linear(5, 3, seed=0), (2, 5)),
    (BatchNorm1D(5), (3, 5)),
    (BatchNorm2D(4, eps=1e-3, momentum=0.2), IMAGES),
    (LayerNorm2D(4), IMAGES),
    (GroupNorm(2, 4, eps=1e-3), IMAGES),
    (LayerNorm(5, eps=1e-4), (2, 3, 5)),
    (MaxPool2D(3, stride=2, padding=1), IMAGES),
    (AvgPool2D(2), IMAGES),
    (GlobalAvgPool2D(), IMAGES),
    (GlobalAvgPool2D(keepdims=True), IMAGES),
    (SqueezeExcite(4, 2), IMAGES),
    (ResidualBlock(4, 8, stride=2), IMAGES),
    (MBConvBlock(4, 4, 3, expand_ratio=2, use_se=True), IMAGES),
    (MBConvBlock(4, 6, 3, stride=2, expand_ratio=1), IMAGES),
    (ConvNeXtBlock(4, kernel_size=3), IMAGES),
    (ConvNeXtBlock(4, kernel_size=3, layer_scale_init=None), IMAGES),
    (ConcatSkip(4, Sequential(Conv2D(4, 2, 3, padding=1, seed=0), ReLU())), IMAGES),
    (Sequential(Flatten(), Dropout(0.3), Identity(), Linear(144, 2, seed=1)), IMAGES),
    (Sequential(ReLU(), ReLU6(), LeakyReLU(0.2), Tanh(), Sigmoid(), SiLU(), GELU("tanh"), Softmax(axis=1)), IMAGES),
]


@pytest.mark.parametrize(("layer", "input_shape"), LAYERS, ids=lambda value: type(value).__name__)
def test_the_twin_computes_the_layers_forward_in_float64(layer, input_shape):
    layer.to(np.float64).eval()  # eval: dropout off and BatchNorm on running statistics, on both sides
    rng = np.random.default_rng(0)
    for name, buffer in layer.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            buffer[...] = rng.uniform(0.5, 1.5, buffer.shape)
    twin = interop_torch.to_torch(layer).eval()
    assert sorted(twin.state_dict()) == sorted(layer.state_dict())
    x = rng.standard_normal(input_shape)
    with torch.no_grad():
        expected = twin(torch.from_numpy(x))
    assert expected.dtype == torch.float64
    assert_close(layer.forward(x), expected, rtol=1e-7, atol=1e-10, name=type(layer).__name__)


def test_the_twin_has_the_dtype_of_the_model_and_a_copy_of_its_weights():
    model = Sequential(Conv2D(1, 2, 3, seed=0), BatchNorm2D(2))
    twin = interop_torch.to_torch(model)
    assert twin[0].weight.dtype == torch.float32
    np.testing.assert_array_equal(twin[0].weight.detach().numpy(), model[0].weight.data)
    model[0].weight.data[...] = 0  # a copy: the twin keeps its own
    assert twin[0].weight.abs().sum() > 0
    interop_torch.copy_weights(model, twin)
    assert twin[0].weight.abs().sum() == 0


class Doubling(Module):
    def forward(self, x):
        return 2 * x


def test_a_module_that_declares_no_equivalent_is_refused_by_name():
    with pytest.raises(TypeError, match=r"^to_torch: Doubling declares no torch_equivalent\(\)"):
        interop_torch.to_torch(Sequential(Linear(2, 2), Doubling()))
