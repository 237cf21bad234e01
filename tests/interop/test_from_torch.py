"""``from_torch``: PyTorch models become nnscratch models that compute the same logits and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnscratch.convolutional import blocks
from nnscratch.convolutional.architectures import ARCHITECTURES
from nnscratch.convolutional.modules import Dropout, GlobalAvgPool2D
from nnscratch.interop.torch import from_torch, to_torch
from tests.interop.gallery import INPUTS, images, small_model
from tests.support import RTOL_MODULE, assert_close

ATOL = 1e-4  # float32, max abs difference


def max_difference(ours, reference) -> float:
    return float(np.abs(np.asarray(ours) - np.asarray(reference)).max())


def assert_same_output_and_gradients(model, reference, x, upstream, output: str, torch_name=lambda name: name) -> None:
    """The converted ``model`` against its float64 PyTorch ``reference``: the output (called ``output``
    in errors), dL/dx and every parameter's gradient for the upstream gradient ``upstream``.
    ``torch_name`` maps a parameter's nnscratch name to PyTorch's."""
    x_torch = torch.from_numpy(x).requires_grad_()
    expected = reference(x_torch)
    expected.backward(torch.from_numpy(upstream))
    assert_close(model.forward(x), expected, RTOL_MODULE, atol=1e-10, name=output)
    assert_close(model.backward(upstream), x_torch.grad, RTOL_MODULE, atol=1e-10, name="dL/dx")
    theirs = dict(reference.named_parameters())
    for name, parameter in model.named_parameters():
        assert_close(parameter.grad, theirs[torch_name(name)].grad, RTOL_MODULE, atol=1e-10, name=name)


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_a_model_through_pytorch_and_back_has_the_same_logits_and_gradients(name, channels, size):
    model = small_model(name, channels, size)
    for module in model.modules():
        if isinstance(module, Dropout):
            module.p = 0.0  # masks come from different generators; everything else is compared
    model[0].needs_input_grad = True
    back = from_torch(to_torch(model))
    assert type(back[0]) is type(model[0]) and sorted(back.state_dict()) == sorted(model.state_dict())

    x, upstream = images(channels, size), np.random.default_rng(3).standard_normal((2, 10)).astype(np.float32)
    differences = {"logits": max_difference(back.forward(x), model.forward(x))}
    differences["dL/dx"] = max_difference(back.backward(upstream), model.backward(upstream))
    ours = dict(back.named_parameters())
    differences["dL/dparameters"] = max(max_difference(ours[key].grad, p.grad) for key, p in model.named_parameters())
    print(f"{name} {channels}x{size}x{size}: " + ", ".join(f"{key} {value:.1e}" for key, value in differences.items()))
    assert max(differences.values()) <= ATOL, differences


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock as torchvision writes it (torchvision is not a dependency)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


def pytorch_model() -> nn.Sequential:
    """A small network written in PyTorch from layers nnscratch has, float64 (tests.support's default)."""
    torch.manual_seed(0)
    downsample = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8, momentum=0.2),
        nn.LeakyReLU(0.1),
        nn.MaxPool2d(2),
        BasicBlock(8, 8),
        BasicBlock(8, 16, stride=2, downsample=downsample),
        nn.Conv2d(16, 16, 3, padding=1, groups=16),
        nn.GELU(approximate="tanh"),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.0),
        nn.Linear(64, 12),
        nn.SiLU(),
        nn.Linear(12, 5),
    )


def torchvision_name(name: str) -> str:
    """A parameter's name in torchvision: its residual blocks call the projection ``downsample``, not ``shortcut``."""
    return name.replace("shortcut", "downsample")


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_a_pytorch_model_with_resnet_basic_blocks_converts_with_its_weights_and_gradients(training):
    reference = pytorch_model().train(training)
    model = from_torch(reference)
    assert model.training is training and isinstance(model[4], blocks.ResidualBlock)
    assert model[0].weight.data.dtype == np.float64

    rng = np.random.default_rng(0)
    x, upstream = rng.standard_normal((4, 3, 16, 16)), rng.standard_normal((4, 5))
    assert_same_output_and_gradients(model, reference, x, upstream, "logits", torchvision_name)
    for name, buffer in reference.named_buffers():
        assert_close(model.state_dict()[name.replace("downsample", "shortcut")], buffer, RTOL_MODULE, name=name)


def resnet_like(output_size) -> nn.Sequential:
    """torchvision's ResNet in small: stem, BasicBlock stages, then its head AdaptiveAvgPool2d, Flatten, Linear."""
    torch.manual_seed(2)
    downsample = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8)),
        nn.Sequential(BasicBlock(8, 16, stride=2, downsample=downsample)),
        nn.AdaptiveAvgPool2d(output_size),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


@pytest.mark.parametrize("output_size", [1, (1, 1)])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_a_resnet_ending_in_adaptive_avg_pool_and_flatten_converts_with_its_logits_and_gradients(output_size, training):
    reference = resnet_like(output_size).train(training)
    model = from_torch(reference)
    assert isinstance(model[6], GlobalAvgPool2D) and model[6].keepdims
    assert sorted(torchvision_name(name) for name in model.state_dict()) == sorted(reference.state_dict())

    rng = np.random.default_rng(2)
    x, upstream = rng.standard_normal((3, 3, 20, 20)), rng.standard_normal((3, 10))
    assert_same_output_and_gradients(model, reference, x, upstream, "logits", torchvision_name)


class ResidualBlock(nn.Module):
    """A user's own block that happens to share the name of a twin of nnscratch.interop.torch."""

    def forward(self, x):
        return x


def test_unsupported_layers_are_all_listed_by_path_with_the_reason():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding_mode="reflect"),
        nn.ReLU(),
        nn.LSTM(2, 2),
        nn.Sequential(nn.Conv3d(1, 1, 3), nn.MaxPool2d(2, ceil_mode=True)),
        nn.LayerNorm((4, 3)),
        ResidualBlock(),
        nn.Linear(2, 2).to(torch.bfloat16),
        nn.Sequential(nn.Module()),
        nn.AdaptiveAvgPool2d((2, 1)),
    )
    with pytest.raises(TypeError) as refused:
        from_torch(model)
    message = str(refused.value)
    assert message.startswith(
        "from_torch: cannot convert 0 (Conv2d: padding_mode='reflect', nnscratch has only padding_mode='zeros')"
    )
    for expected in (
        "; 2 (LSTM: no nnscratch equivalent)",
        "; 3.0 (Conv3d: no nnscratch equivalent)",
        "; 3.1 (MaxPool2d: ceil_mode=True, nnscratch has only ceil_mode=False)",
        "; 4 (LayerNorm: normalized_shape=(4, 3): nnscratch normalises the last axis only)",
        "; 5 (ResidualBlock: a class of that name, but not the twin nnscratch.interop.torch writes)",
        "; 6 (Linear: weight is torch.bfloat16, which NumPy cannot hold: convert with .float() first)",
        "; 7.0 (Module: no nnscratch equivalent)",
        "; 8 (AdaptiveAvgPool2d: output_size=(2, 1), nnscratch has only output_size=1, a global average pool)",
        ". Supported: AdaptiveAvgPool2d, AvgPool2d, BasicBlock, BatchNorm1d",
    ):
        assert expected in message
    assert "\n" not in message


def test_a_convnext_layer_scale_numpy_cannot_hold_is_refused_like_any_other_weight():
    twin = to_torch(blocks.ConvNeXtBlock(4, kernel_size=3))
    twin.gamma.data = twin.gamma.data.to(torch.bfloat16)
    refused = r"cannot convert the model \(ConvNeXtBlock: gamma is torch.bfloat16, which NumPy cannot hold"
    with pytest.raises(TypeError, match=refused):
        from_torch(twin)


def test_dilated_grouped_and_transposed_convolutions_and_group_and_layer_norms_convert():
    torch.manual_seed(1)
    reference = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=2, dilation=2),
        nn.GroupNorm(2, 4),
        nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=False),
        nn.ConvTranspose2d(6, 3, 3, stride=2, padding=1, output_padding=1),
        nn.LayerNorm(16),
        nn.Flatten(),
        nn.Linear(3 * 16 * 16, 5),
        nn.LogSoftmax(dim=1),
    ).double()
    model = from_torch(reference)
    rng = np.random.default_rng(1)
    x, upstream = rng.standard_normal((3, 2, 8, 8)), rng.standard_normal((3, 5))
    assert_same_output_and_gradients(model, reference, x, upstream, "log-probabilities")
