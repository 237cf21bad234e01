"""The blocks against the same composition built in PyTorch with the weights copied across."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from nnscratch.convolutional.blocks import ConvNeXtBlock, MBConvBlock, ResidualBlock
from nnscratch.convolutional.modules import no_grad
from nnscratch.testing import gradcheck_module
from tests.support import RTOL_MODULE, assert_close, to_torch

ATOL = 1e-9


def random_input(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def randomize(block, seed):
    """Random weights and running statistics (not the 1s and 0s norms start from): every term counts."""
    rng = np.random.default_rng(seed)
    for _, parameter in block.named_parameters():
        parameter.data[...] = rng.uniform(-1, 1, parameter.shape) / np.sqrt(max(1, parameter.data[0].size))
    for name, buffer in block.named_buffers():
        if name.endswith("running_mean"):
            buffer[...] = rng.uniform(-0.5, 0.5, buffer.shape)
        elif name.endswith("running_var"):
            buffer[...] = rng.uniform(0.5, 2, buffer.shape)


def check_against_torch(ours, reference, x, training, seed):
    """Copy our weights and buffers into ``reference``, run both forward and backward, compare everything."""
    ours.train(training)
    reference.train(training)
    reference.load_state_dict({name: to_torch(value) for name, value in ours.state_dict().items()})
    y = ours.forward(x)
    upstream = random_input(seed + 1, y.shape)
    grad_x = ours.backward(upstream)
    tx = to_torch(x, True)
    ty = reference(tx)
    ty.backward(to_torch(upstream))
    assert_close(y, ty, RTOL_MODULE, ATOL, "y")
    assert_close(grad_x, tx.grad, RTOL_MODULE, ATOL, "dL/dx")
    torch_parameters = dict(reference.named_parameters())
    assert sorted(torch_parameters) == sorted(name for name, _ in ours.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, torch_parameters[name].grad, RTOL_MODULE, ATOL, f"dL/d{name}")
    torch_buffers = dict(reference.named_buffers())
    for name, buffer in ours.named_buffers():
        assert_close(buffer, torch_buffers[name], RTOL_MODULE, ATOL, name)


# ----------------------------------------------------------------------------- the same blocks in torch


class TorchResidualBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        main = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(main + self.shortcut(x))


class TorchSqueezeExcite(nn.Module):
    def __init__(self, channels, reduced):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.expand(F.silu(self.reduce(F.adaptive_avg_pool2d(x, 1)))))


class TorchMBConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride, expand_ratio, use_se, activation):
        super().__init__()
        hidden = cin * expand_ratio
        act = {"silu": nn.SiLU, "relu6": nn.ReLU6}[activation]
        self.expand = None
        if expand_ratio != 1:
            self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), act())
        self.depthwise = nn.Sequential(
            nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            act(),
        )
        self.se = TorchSqueezeExcite(hidden, max(1, int(cin * 0.25))) if use_se else None
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = x if self.expand is None else self.expand(x)
        h = self.depthwise(h)
        if self.se is not None:
            h = self.se(h)
        h = self.project(h)
        return h + x if self.residual else h


class TorchLayerNorm2d(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        normalized = F.layer_norm(x.permute(0, 2, 3, 1), self.weight.shape, self.weight, self.bias, eps=1e-6)
        return normalized.permute(0, 3, 1, 2)


class TorchConvNeXtBlock(nn.Module):
    def __init__(self, channels, kernel, layer_scale):
        super().__init__()
        self.dwconv = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.norm = TorchLayerNorm2d(channels)
        self.pwconv1 = nn.Conv2d(channels, 4 * channels, 1)
        self.pwconv2 = nn.Conv2d(4 * channels, channels, 1)
        self.gamma = nn.Parameter(torch.ones(channels)) if layer_scale else None

    def forward(self, x):
        h = self.pwconv2(F.gelu(self.pwconv1(self.norm(self.dwconv(x)))))
        return x + (h if self.gamma is None else h * self.gamma.reshape(1, -1, 1, 1))


# ----------------------------------------------------------------------------- parity


@given(
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([1, 2]),
    st.integers(3, 6),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_residual_block_matches_torch(n, cin, cout, stride, size, training, seed):
    n = max(n, 2)  # BatchNorm in training needs more than one value per channel
    block = ResidualBlock(cin, cout, stride).to(np.float64)
    randomize(block, seed)
    check_against_torch(
        block, TorchResidualBlock(cin, cout, stride), random_input(seed, (n, cin, size, size)), training, seed
    )


@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([3, 5]),
    st.sampled_from([1, 2]),
    st.sampled_from([1, 3]),
    st.booleans(),
    st.sampled_from(["silu", "relu6"]),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_mbconv_block_matches_torch(cin, cout, kernel, stride, expand_ratio, use_se, activation, training, seed):
    if seed % 3 == 0:
        cout = cin  # exercise the residual path often
    block = MBConvBlock(cin, cout, kernel, stride, expand_ratio, use_se=use_se, activation=activation).to(np.float64)
    randomize(block, seed)
    reference = TorchMBConv(cin, cout, kernel, stride, expand_ratio, use_se, activation)
    check_against_torch(block, reference, 2 * random_input(seed, (2, cin, 5, 6)), training, seed)


@given(st.integers(1, 4), st.sampled_from([3, 7]), st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_convnext_block_matches_torch(channels, kernel, layer_scale, training, seed):
    block = ConvNeXtBlock(channels, kernel, layer_scale_init=0.5 if layer_scale else None).to(np.float64)
    randomize(block, seed)
    reference = TorchConvNeXtBlock(channels, kernel, layer_scale)
    check_against_torch(block, reference, random_input(seed, (2, channels, 5, 4)), training, seed)


def test_residual_block_projects_the_shortcut_only_when_the_shape_changes():
    assert type(ResidualBlock(4, 4).shortcut).__name__ == "Identity"
    assert len(ResidualBlock(4, 8).shortcut) == 2
    assert len(ResidualBlock(4, 4, stride=2).shortcut) == 2
    assert ResidualBlock(2, 3, stride=2).forward(np.zeros((2, 2, 7, 7), np.float32)).shape == (2, 3, 4, 4)


def test_mbconv_block_structure_follows_its_options():
    lite = MBConvBlock(4, 4, expand_ratio=1, use_se=False, activation="relu6")
    assert lite.expand is None and lite.se is None and lite.use_residual
    assert type(lite.depthwise[2]).__name__ == "ReLU6"
    b0 = MBConvBlock(8, 16, kernel_size=5, stride=2, expand_ratio=6)
    assert b0.se.reduced_channels == 2 and not b0.use_residual
    assert b0.depthwise[0].weight.shape == (48, 1, 5, 5)


def test_convnext_block_layer_scale_starts_at_its_configured_value():
    assert np.all(ConvNeXtBlock(4).gamma.data == np.float32(1e-6))
    assert np.all(ConvNeXtBlock(4, layer_scale_init=0.25).gamma.data == 0.25)
    assert ConvNeXtBlock(4, layer_scale_init=None).gamma is None
    assert ConvNeXtBlock(4).pwconv1.weight.shape == (16, 4, 1, 1)


# ----------------------------------------------------------------------------- gradcheck, dtype, errors


@pytest.mark.parametrize(
    "make",
    [
        lambda: ResidualBlock(2, 3, stride=2),
        lambda: ResidualBlock(2, 2),
        lambda: MBConvBlock(2, 2, expand_ratio=2),
        lambda: MBConvBlock(2, 3, kernel_size=5, stride=2, expand_ratio=1, use_se=False, activation="relu6"),
        lambda: ConvNeXtBlock(2, kernel_size=3, layer_scale_init=0.5),
    ],
    ids=["residual-projection", "residual-identity", "mbconv-se", "mbconv-lite", "convnext"],
)
def test_blocks_pass_gradcheck(make):
    block = make().to(np.float64)
    randomize(block, 0)
    gradcheck_module(block, random_input(0, (2, 2, 4, 4)))


@pytest.mark.parametrize("make", [lambda: ResidualBlock(3, 4, 2), lambda: MBConvBlock(3, 3), lambda: ConvNeXtBlock(3)])
def test_blocks_keep_float32(make):
    block = make()
    y = block.forward(random_input(0, (2, 3, 6, 6)).astype(np.float32))
    grad_x = block.backward(np.ones_like(y))
    assert y.dtype == grad_x.dtype == np.float32
    assert all(parameter.grad.dtype == np.float32 for parameter in block.parameters())


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (ResidualBlock(3, 4), r"ResidualBlock\(in_channels=3\) got input with 1 channel\(s\): shape \(2, 1, 6, 6\)"),
        (MBConvBlock(3, 4), r"MBConvBlock\(in_channels=3\) got input with 1 channel\(s\)"),
        (ConvNeXtBlock(3), r"ConvNeXtBlock\(channels=3\) got input with 1 channel\(s\)"),
    ],
)
def test_blocks_name_themselves_when_the_channels_are_wrong(block, message):
    with pytest.raises(ValueError, match=message):
        block.forward(np.zeros((2, 1, 6, 6), np.float32))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ResidualBlock(3, 4, stride=0), r"ResidualBlock: stride must be a positive integer, got 0"),
        (lambda: MBConvBlock(3, 4, kernel_size=4), r"MBConvBlock: kernel_size must be odd"),
        (lambda: MBConvBlock(3, 4, expand_ratio=0), r"MBConvBlock: expand_ratio must be a positive int"),
        (lambda: MBConvBlock(3, 4, se_ratio=1.5), r"MBConvBlock: se_ratio must be in \(0, 1\], got 1.5"),
        (lambda: MBConvBlock(3, 4, activation="swish"), r"unknown activation 'swish'"),
        (lambda: ConvNeXtBlock(3, kernel_size=6), r"ConvNeXtBlock: kernel_size must be odd"),
    ],
)
def test_blocks_refuse_bad_options(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [lambda: ResidualBlock(2, 2), lambda: MBConvBlock(2, 2), lambda: ConvNeXtBlock(2)])
def test_block_backward_needs_a_forward_that_kept_its_cache(make):
    block = make()
    x = random_input(0, (2, 2, 4, 4)).astype(np.float32)
    with pytest.raises(RuntimeError, match=r"called before forward\(\)"):
        block.backward(np.ones_like(x))
    block.eval()
    assert block.backward(np.ones_like(block.forward(x))).shape == x.shape
    with no_grad():
        block.forward(x)
    with pytest.raises(RuntimeError, match=r"after a forward inside no_grad\(\)"):
        block.backward(np.ones_like(x))
