"""Tier 3 layers against PyTorch (float64, forward and every gradient), gradcheck, properties, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional import modules
from nnscratch.convolutional.algorithms import ROUTES, slices
from nnscratch.convolutional.modules import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    DepthwiseConv2D,
    GlobalAvgPool2D,
    LayerNorm2D,
    MaxPool2D,
    SqueezeExcite,
    col2im,
    im2col,
    no_grad,
)
from nnscratch.testing import gradcheck_module
from nnscratch.vectorized import activations
from nnscratch.vectorized import modules as vectorized_modules
from nnscratch.vectorized.batchnorm import BatchNorm
from tests.support import RTOL_MODULE, assert_close, on_device, to_torch

ATOL = 1e-10


def close(ours, reference, name):
    assert_close(ours, reference, rtol=RTOL_MODULE, atol=ATOL, name=name)


@st.composite
def geometry(draw, max_kernel=4, max_stride=3, max_padding=2, pool=False):
    """kernel, stride, padding (pairs) and an input size (H, W) the kernel fits in.

    Pools (``pool=True``) keep padding at most half the kernel, as PyTorch requires.
    """
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = tuple(draw(st.integers(0, k // 2 if pool else max_padding)) for k in kernel)
    size = tuple(max(1, k - 2 * p) + draw(st.integers(0, 4)) for k, p in zip(kernel, padding, strict=True))
    return kernel, stride, padding, size


def random_input(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def device_input(seed, shape):
    """``random_input`` on the active backend (the ``backend`` fixture's)."""
    return on_device(random_input(seed, shape))


def randomize(module, seed):
    """Random parameter values (not the 1s and 0s norms start from), so every term shows up."""
    rng = np.random.default_rng(seed)
    for parameter in module.parameters():
        parameter.data[...] = rng.uniform(0.5, 1.5, parameter.shape) * rng.choice([-1, 1], parameter.shape)


def torch_backward(output, upstream):
    output.backward(to_torch(upstream))


# ----------------------------------------------------------------------------- re-exports


def test_modules_reexports_the_vectorized_implementations():
    for name in ("ReLU", "LeakyReLU", "ReLU6", "Tanh", "Sigmoid", "SiLU", "GELU", "Softmax"):
        assert getattr(modules, name) is getattr(activations, name)
    for name in ("Dropout", "Flatten", "Identity", "Sequential", "Module", "Parameter", "no_grad"):
        assert getattr(modules, name) is getattr(vectorized_modules, name)
    assert issubclass(BatchNorm2D, BatchNorm)


# ----------------------------------------------------------------------------- Conv2D


@given(
    geometry(), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.booleans(), st.booleans(), st.integers(),
)  # fmt: skip
def test_conv2d_matches_torch_for_every_stride_padding_and_kernel(
    backend, geo, n, channels, filters, bias, training, seed
):
    # the route auto picks (test_algorithms.py forces each one)
    kernel, stride, padding, size = geo
    conv = Conv2D(channels, filters, kernel, stride, padding, bias=bias, seed=seed % 2**32).to(np.float64)
    conv.train(training)
    x = device_input(seed % 2**32, (n, channels, *size))
    y = conv.forward(x)
    upstream = device_input(seed % 2**32 + 1, y.shape)
    grad_x = conv.backward(upstream)

    tx, tw = to_torch(x, True), to_torch(conv.weight.data, True)
    tb = to_torch(conv.bias.data, True) if bias else None
    ty = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    torch_backward(ty, upstream)
    close(y, ty, "y")
    close(grad_x, tx.grad, "dL/dx")
    close(conv.weight.grad, tw.grad, "dL/dweight")
    if bias:
        close(conv.bias.grad, tb.grad, "dL/dbias")


def test_conv2d_passes_gradcheck(backend):
    conv = Conv2D(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), seed=0).to(np.float64)
    gradcheck_module(conv, device_input(0, (2, 2, 5, 4)))


def assert_gradients_accumulate(layer, x, upstream):
    """Two forward+backward passes on the same data: dL/dx is the same both times, and every
    parameter's gradient is added to, not overwritten (so it doubles)."""
    layer.forward(x)
    grad_x = layer.backward(upstream)
    once = {name: parameter.grad.copy() for name, parameter in layer.named_parameters()}
    assert all(gradient.any() for gradient in once.values())
    layer.forward(x)
    assert_close(layer.backward(upstream), grad_x, name="dL/dx")
    for name, parameter in layer.named_parameters():
        assert_close(parameter.grad, 2 * once[name], name=f"{name}.grad")


def assert_input_gradient_can_be_skipped(layer, x, upstream):
    """With ``needs_input_grad = False``, backward returns None and fills every parameter's gradient
    exactly as a full backward does (a network's first layer skips dL/dx this way)."""
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(upstream) is not None
    expected = {name: parameter.grad.copy() for name, parameter in layer.named_parameters()}
    layer.zero_grad()
    layer.needs_input_grad = False
    layer.forward(x)
    assert layer.backward(upstream) is None
    for name, parameter in layer.named_parameters():
        assert_close(parameter.grad, expected[name], name=f"{name}.grad")


@pytest.mark.parametrize("cols_bytes", [1, 2**20], ids=["cols-rebuilt", "cols-kept"])
@pytest.mark.parametrize("algorithm", list(ROUTES))
def test_conv2d_accumulates_gradients_over_two_forward_backward_passes(monkeypatch, algorithm, cols_bytes):
    monkeypatch.setattr(slices, "CPU_COLS_BYTES_PER_SLICE", cols_bytes)  # the wide route keeps cols, or not
    groups = 2 if algorithm == "depthwise" else 1  # the depthwise route needs one filter per channel
    conv = Conv2D(2, 2, 3, seed=0, algorithm=algorithm, groups=groups).to(np.float64)
    assert_gradients_accumulate(conv, random_input(0, (2, 2, 4, 4)), random_input(1, (2, 2, 2, 2)))
    assert conv.last_algorithm == algorithm


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1)], ids=["stride-1", "stride-2-padded"])
def test_depthwise_conv2d_accumulates_gradients_over_two_forward_backward_passes(stride, padding):
    depthwise = DepthwiseConv2D(3, 3, stride=stride, padding=padding, seed=0).to(np.float64)
    x = random_input(0, (2, 3, 5, 5))
    upstream = random_input(1, depthwise.forward(x).shape)
    depthwise.zero_grad()
    assert_gradients_accumulate(depthwise, x, upstream)


def test_conv2d_without_input_gradient_returns_none_and_still_fills_the_weight_gradients():
    conv = Conv2D(1, 2, 3, padding=1, seed=0).to(np.float64)
    x = random_input(0, (2, 1, 5, 5))
    upstream = random_input(1, (2, 2, 5, 5))
    assert_input_gradient_can_be_skipped(conv, x, upstream)


def test_conv2d_initialises_like_torch_from_its_seed():
    conv = Conv2D(8, 16, (3, 5), seed=7)
    bound = 1 / np.sqrt(8 * 3 * 5)
    for parameter in (conv.weight, conv.bias):
        assert parameter.dtype == np.float32
        assert np.abs(parameter.data).max() <= bound
        assert np.abs(parameter.data).max() > 0.9 * bound
    assert conv.weight.shape == (16, 8, 3, 5) and conv.bias.shape == (16,)
    assert_close(Conv2D(8, 16, (3, 5), seed=7).weight.data, conv.weight.data)
    assert not np.array_equal(Conv2D(8, 16, (3, 5), seed=8).weight.data, conv.weight.data)
    assert Conv2D(8, 16, 3, bias=False).bias is None
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]


def test_conv2d_keeps_float32_everywhere():
    conv = Conv2D(3, 4, 3, padding=1, seed=0)
    x = random_input(0, (2, 3, 6, 6)).astype(np.float32)
    y = conv.forward(x)
    grad_x = conv.backward(np.ones_like(y))
    assert y.dtype == grad_x.dtype == conv.weight.grad.dtype == conv.bias.grad.dtype == np.float32


@given(geometry(max_kernel=3), st.integers(1, 2), st.integers(1, 3), st.integers())
def test_col2im_is_the_adjoint_of_im2col(geo, n, channels, seed):
    # <im2col(x), c> = <x, col2im(c)> for all x and c: col2im is im2col's transpose
    kernel, stride, padding, size = geo
    padded = random_input(seed % 2**32, (n, channels, size[0] + 2 * padding[0], size[1] + 2 * padding[1]))
    cols = im2col(padded, kernel, stride)
    other = random_input(seed % 2**32 + 1, cols.shape)
    back = col2im(other, padded.shape, kernel, stride)
    assert back.shape == padded.shape
    np.testing.assert_allclose(np.sum(cols * other), np.sum(padded * back), rtol=1e-10)


# ----------------------------------------------------------------------------- DepthwiseConv2D


@given(geometry(), st.integers(1, 3), st.integers(1, 4), st.booleans(), st.booleans(), st.integers())
def test_depthwise_conv2d_matches_torch_grouped_conv(backend, geo, n, channels, bias, training, seed):
    kernel, stride, padding, size = geo
    conv = DepthwiseConv2D(channels, kernel, stride, padding, bias=bias, seed=seed % 2**32).to(np.float64)
    conv.train(training)
    x = device_input(seed % 2**32, (n, channels, *size))
    y = conv.forward(x)
    upstream = device_input(seed % 2**32 + 1, y.shape)
    grad_x = conv.backward(upstream)

    tx, tw = to_torch(x, True), to_torch(conv.weight.data, True)
    tb = to_torch(conv.bias.data, True) if bias else None
    ty = F.conv2d(tx, tw, tb, stride=stride, padding=padding, groups=channels)
    torch_backward(ty, upstream)
    close(y, ty, "y")
    close(grad_x, tx.grad, "dL/dx")
    close(conv.weight.grad, tw.grad, "dL/dweight")
    if bias:
        close(conv.bias.grad, tb.grad, "dL/dbias")


def test_depthwise_conv2d_passes_gradcheck_and_initialises_like_torch(backend):
    conv = DepthwiseConv2D(3, 3, stride=2, padding=1, seed=0).to(np.float64)
    gradcheck_module(conv, device_input(0, (2, 3, 5, 5)))
    fresh = DepthwiseConv2D(4, (3, 3), seed=1)
    assert fresh.weight.shape == (4, 1, 3, 3) and fresh.weight.dtype == np.float32
    assert np.abs(fresh.weight.data).max() <= 1 / 3 and np.abs(fresh.bias.data).max() <= 1 / 3


def test_depthwise_conv2d_keeps_float32():
    conv = DepthwiseConv2D(3, 3, padding=1, seed=0)
    y = conv.forward(random_input(0, (2, 3, 5, 5)).astype(np.float32))
    assert y.dtype == conv.backward(np.ones_like(y)).dtype == conv.weight.grad.dtype == np.float32


# ----------------------------------------------------------------------------- pooling


@given(geometry(pool=True), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.integers())
def test_pools_match_torch(backend, geo, n, channels, default_stride, seed):
    kernel, stride, padding, size = geo
    stride = None if default_stride else stride
    x = device_input(seed % 2**32, (n, channels, *size))
    for ours, reference in (
        (MaxPool2D(kernel, stride, padding), F.max_pool2d),
        (AvgPool2D(kernel, stride, padding), F.avg_pool2d),
    ):
        y = ours.forward(x)
        upstream = device_input(seed % 2**32 + 1, y.shape)
        tx = to_torch(x, True)
        ty = reference(tx, kernel, stride, padding)
        torch_backward(ty, upstream)
        close(y, ty, f"{type(ours).__name__} y")
        close(ours.backward(upstream), tx.grad, f"{type(ours).__name__} dL/dx")


def test_max_pool_sends_a_tied_gradient_to_the_first_maximum_like_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = 1.0  # a tie inside an overlapping 3x3 window
    pool = MaxPool2D(3, stride=1, padding=1)
    y = pool.forward(x)
    upstream = random_input(0, y.shape)
    tx = to_torch(x, True)
    torch_backward(F.max_pool2d(tx, 3, 1, 1), upstream)
    close(pool.backward(upstream), tx.grad, "dL/dx")


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [(3, 1, 1), (3, 2, 1), (2, 1, 0), ((3, 2), (2, 1), (1, 0))],
    ids=["3x3-overlapping-padded", "3x3-stride-2-padded", "2x2-overlapping", "3x2-uneven"],
)
def test_max_pool_propagates_nans_of_overlapping_and_padded_windows_like_torch(kernel, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, (2, 2, 6, 5)).astype(np.float64)  # few distinct values: ties as well
    x[rng.random(x.shape) < 0.15] = np.nan
    x[0, 0, 0, 0] = x[1, 1, -1, -1] = np.nan  # in the corners, seen by windows that overlap the padding
    x[0, 1, 2, 2] = x[0, 1, 2, 3] = np.nan  # two side by side: more than one NaN in a window
    pool = MaxPool2D(kernel, stride, padding)
    y = pool.forward(x)
    assert pool.last_algorithm == "windows", "the reference, not the tiled route of test_fast_paths"
    tx = to_torch(x, True)
    ty = F.max_pool2d(tx, kernel, stride, padding)
    assert np.isnan(y).any()
    np.testing.assert_array_equal(y, ty.detach().numpy())  # NaN where torch has NaN, equal elsewhere
    upstream = random_input(1, y.shape)
    torch_backward(ty, upstream)
    close(pool.backward(upstream), tx.grad, "dL/dx")


def test_pools_pass_gradcheck(backend):
    x = device_input(0, (2, 2, 5, 5))
    gradcheck_module(MaxPool2D(3, stride=2, padding=1), x)
    gradcheck_module(AvgPool2D(2, stride=1, padding=1), x)
    gradcheck_module(GlobalAvgPool2D(), x)
    gradcheck_module(GlobalAvgPool2D(keepdims=True), x)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.booleans(), st.integers())
def test_global_avg_pool_matches_torch_adaptive_avg_pool_to_1_with_or_without_its_axes(
    backend, n, channels, height, width, keepdims, seed
):
    x = device_input(seed % 2**32, (n, channels, height, width))
    pool = GlobalAvgPool2D(keepdims=keepdims)
    y = pool.forward(x)
    upstream = device_input(seed % 2**32 + 1, y.shape)
    tx = to_torch(x, True)
    expected = F.adaptive_avg_pool2d(tx, 1)
    expected = expected if keepdims else expected.flatten(1)
    torch_backward(expected, upstream)
    assert y.shape == ((n, channels, 1, 1) if keepdims else (n, channels))
    close(y, expected, "y")
    close(pool.backward(upstream), tx.grad, "dL/dx")


def test_global_avg_pool_refuses_a_keepdims_that_is_not_a_bool():
    with pytest.raises(ValueError, match=r"^GlobalAvgPool2D: keepdims must be True or False, got 1$"):
        GlobalAvgPool2D(keepdims=1)


def test_pools_keep_float32():
    x = random_input(0, (2, 3, 6, 6)).astype(np.float32)
    for pool in (MaxPool2D(2), AvgPool2D(3, 1, 1), GlobalAvgPool2D()):
        y = pool.forward(x)
        assert y.dtype == pool.backward(np.ones_like(y)).dtype == np.float32


# ----------------------------------------------------------------------------- BatchNorm2D


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers())
def test_batchnorm2d_matches_torch_over_several_steps_then_in_eval_mode(backend, n, channels, height, width, seed):
    if n * height * width < 2:
        n = 2  # training needs more than one value per channel
    ours = BatchNorm2D(channels, momentum=0.3).to(np.float64)
    randomize(ours, seed % 2**32)
    reference = torch.nn.BatchNorm2d(channels, momentum=0.3)
    with torch.no_grad():
        reference.weight.copy_(to_torch(ours.weight.data))
        reference.bias.copy_(to_torch(ours.bias.data))
    for step, training in enumerate([True, True, True, False]):
        ours.train(training)
        reference.train(training)
        ours.zero_grad()
        reference.zero_grad()
        x = 2.0 + 3.0 * device_input(seed % 2**32 + step, (n, channels, height, width))
        y = ours.forward(x)
        upstream = device_input(seed % 2**32 + 10 + step, y.shape)
        tx = to_torch(x, True)
        ty = reference(tx)
        torch_backward(ty, upstream)
        close(y, ty, f"step {step} y")
        close(ours.backward(upstream), tx.grad, f"step {step} dL/dx")
        close(ours.weight.grad, reference.weight.grad, f"step {step} dL/dweight")
        close(ours.bias.grad, reference.bias.grad, f"step {step} dL/dbias")
        close(ours.running_mean, reference.running_mean, f"step {step} running_mean")
        close(ours.running_var, reference.running_var, f"step {step} running_var")
    assert int(ours.num_batches_tracked) == int(reference.num_batches_tracked) == 3


def test_batchnorm2d_passes_gradcheck_in_both_modes(backend):
    norm = BatchNorm2D(3).to(np.float64)
    randomize(norm, 0)
    x = device_input(0, (2, 3, 3, 2))
    gradcheck_module(norm, x)
    norm.eval()
    gradcheck_module(norm, x)


# ----------------------------------------------------------------------------- LayerNorm2D


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.booleans(), st.integers())
def test_layernorm2d_matches_torch_layer_norm_over_channels(backend, n, channels, height, width, training, seed):
    norm = LayerNorm2D(channels).to(np.float64)
    norm.train(training)
    randomize(norm, seed % 2**32)
    x = 1.0 + 2.0 * device_input(seed % 2**32, (n, channels, height, width))
    y = norm.forward(x)
    upstream = device_input(seed % 2**32 + 1, y.shape)
    grad_x = norm.backward(upstream)
    tx, tw, tb = to_torch(x, True), to_torch(norm.weight.data, True), to_torch(norm.bias.data, True)
    ty = F.layer_norm(tx.permute(0, 2, 3, 1), (channels,), tw, tb, eps=1e-6).permute(0, 3, 1, 2)
    torch_backward(ty, upstream)
    close(y, ty, "y")
    close(grad_x, tx.grad, "dL/dx")
    close(norm.weight.grad, tw.grad, "dL/dweight")
    close(norm.bias.grad, tb.grad, "dL/dbias")


def test_layernorm2d_passes_gradcheck_and_keeps_float32(backend):
    norm = LayerNorm2D(3).to(np.float64)
    randomize(norm, 0)
    gradcheck_module(norm, device_input(0, (2, 3, 2, 3)))
    norm32 = LayerNorm2D(3)
    y = norm32.forward(device_input(0, (2, 3, 2, 3)).astype(np.float32))
    assert y.dtype == norm32.backward(np.ones_like(y)).dtype == np.float32


# ----------------------------------------------------------------------------- SqueezeExcite


class TorchSqueezeExcite(torch.nn.Module):
    """The same composition in PyTorch, with the same parameter names."""

    def __init__(self, channels, reduced):
        super().__init__()
        self.reduce = torch.nn.Conv2d(channels, reduced, 1)
        self.expand = torch.nn.Conv2d(reduced, channels, 1)

    def forward(self, x):
        scale = torch.sigmoid(self.expand(F.silu(self.reduce(F.adaptive_avg_pool2d(x, 1)))))
        return x * scale


def load_into_torch(ours, reference):
    reference.load_state_dict({name: to_torch(value) for name, value in ours.state_dict().items()})


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.booleans(), st.integers())
def test_squeeze_excite_matches_torch(backend, n, channels, reduced, size, training, seed):
    se = SqueezeExcite(channels, reduced).to(np.float64)
    se.train(training)
    randomize(se, seed % 2**32)
    reference = TorchSqueezeExcite(channels, reduced)
    load_into_torch(se, reference)
    x = device_input(seed % 2**32, (n, channels, size, size + 1))
    y = se.forward(x)
    upstream = device_input(seed % 2**32 + 1, y.shape)
    tx = to_torch(x, True)
    torch_backward(reference(tx), upstream)
    close(y, reference(to_torch(x)), "y")
    close(se.backward(upstream), tx.grad, "dL/dx")
    torch_grads = dict(reference.named_parameters())
    for name, parameter in se.named_parameters():
        close(parameter.grad, torch_grads[name].grad, f"dL/d{name}")


def test_squeeze_excite_parameters_are_real_parameters():
    se = SqueezeExcite(8, 2)
    assert [name for name, _ in se.named_parameters()] == [
        "reduce.weight",
        "reduce.bias",
        "expand.weight",
        "expand.bias",
    ]
    assert sorted(se.state_dict()) == sorted(["reduce.weight", "reduce.bias", "expand.weight", "expand.bias"])
    assert se.reduce.weight.shape == (2, 8, 1, 1) and se.expand.weight.shape == (8, 2, 1, 1)


def test_squeeze_excite_passes_gradcheck(backend):
    se = SqueezeExcite(3, 2).to(np.float64)
    randomize(se, 0)
    gradcheck_module(se, device_input(0, (2, 3, 3, 3)))


# ----------------------------------------------------------------------------- errors


def test_conv2d_names_itself_and_the_shapes_when_the_channels_are_wrong():
    conv = Conv2D(3, 8, 3)
    with pytest.raises(
        ValueError, match=r"^Conv2D\(in_channels=3\) got input with 1 channel\(s\): shape \(64, 1, 28, 28\)$"
    ):
        conv.forward(np.zeros((64, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"DepthwiseConv2D\(channels=4\) got input with 3 channel\(s\)"):
        DepthwiseConv2D(4, 3).forward(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"LayerNorm2D\(num_channels=4\) got input with 2 channel\(s\)"):
        LayerNorm2D(4).forward(np.zeros((1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"SqueezeExcite\(channels=4\) got input with 2 channel\(s\)"):
        SqueezeExcite(4, 2).forward(np.zeros((1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"BatchNorm2D\(num_features=4\) expects input \(N, C, H, W\)"):
        BatchNorm2D(4).forward(np.zeros((2, 2, 5, 5)))


@pytest.mark.parametrize(
    "layer", [Conv2D(1, 2, 3), DepthwiseConv2D(1, 3), MaxPool2D(2), AvgPool2D(2), GlobalAvgPool2D(), BatchNorm2D(1)]
)
def test_layers_reject_inputs_that_are_not_image_batches(layer):
    with pytest.raises(ValueError, match=r"expects input (of shape )?\(N, C, H, W\).*\(1, 28, 28\)"):
        layer.forward(np.zeros((1, 28, 28)))


@pytest.mark.parametrize(
    "layer", [Conv2D(1, 2, 6, padding=1), DepthwiseConv2D(1, (2, 5)), MaxPool2D(6, padding=1), AvgPool2D(4)]
)
def test_layers_reject_a_kernel_larger_than_the_padded_input(layer):
    with pytest.raises(
        ValueError, match=r"got input of spatial size \(3, 3\): kernel_size .* is larger than the padded"
    ):
        layer.forward(np.zeros((1, 1, 3, 3)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2D(1, 2, 3, stride=0), r"Conv2D: stride must be a positive int or a pair of positive ints, got 0"),
        (lambda: Conv2D(1, 2, (3, -1)), r"Conv2D: kernel_size must be a positive int .* got \(3, -1\)"),
        (lambda: Conv2D(1, 2, 0), r"Conv2D: kernel_size must be a positive"),
        (lambda: Conv2D(1, 2, 3, padding=-1), r"Conv2D: padding must be a non-negative int .* got -1"),
        (lambda: Conv2D(1, 2, 3, stride=(1, 2, 3)), r"Conv2D: stride must be .* got \(1, 2, 3\)"),
        (lambda: Conv2D(1, 2, True), r"Conv2D: kernel_size must be .* got True"),
        (lambda: Conv2D(0, 2, 3), r"Conv2D: in_channels must be a positive integer, got 0"),
        (lambda: Conv2D(1, 2.5, 3), r"Conv2D: out_channels must be a positive integer, got 2.5"),
        (lambda: DepthwiseConv2D(2, 3, stride=-2), r"DepthwiseConv2D: stride must be a positive"),
        (lambda: MaxPool2D(2, stride=0), r"MaxPool2D: stride must be a positive"),
        (lambda: MaxPool2D(2, padding=2), r"MaxPool2D: padding \(2, 2\) must be at most half of kernel_size \(2, 2\)"),
        (lambda: AvgPool2D(3, padding=(0, 2)), r"AvgPool2D: padding \(0, 2\) must be at most half"),
        (lambda: LayerNorm2D(0), r"LayerNorm2D: num_channels must be a positive integer, got 0"),
        (lambda: LayerNorm2D(2, eps=-1e-6), r"LayerNorm2D: eps must be a number in \[0.0, inf\], got -1e-06"),
        (lambda: SqueezeExcite(4, 0), r"SqueezeExcite: reduced_channels must be a positive integer, got 0"),
    ],
)
def test_bad_hyperparameters_are_refused_with_the_layer_and_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


LAYERS = [
    lambda: Conv2D(2, 3, 3, padding=1, seed=0),
    lambda: DepthwiseConv2D(2, 3, padding=1, seed=0),
    lambda: MaxPool2D(2),
    lambda: AvgPool2D(2),
    lambda: GlobalAvgPool2D(),
    lambda: BatchNorm2D(2),
    lambda: LayerNorm2D(2),
    lambda: SqueezeExcite(2, 1),
]


@pytest.mark.parametrize("make", LAYERS)
def test_backward_before_forward_is_a_clear_error(make):
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        make().backward(np.zeros((2, 2, 4, 4), np.float32))


@pytest.mark.parametrize("make", LAYERS)
def test_backward_after_a_no_grad_forward_is_a_clear_error_but_eval_mode_still_differentiates(make):
    layer = make()
    x = random_input(0, (2, 2, 4, 4)).astype(np.float32)
    layer.eval()
    y = layer.forward(x)
    assert layer.backward(np.ones_like(y)).shape == x.shape  # eval mode keeps what backward needs
    with no_grad():
        layer.forward(x)
    with pytest.raises(RuntimeError, match=r"after a forward inside no_grad\(\)"):
        layer.backward(np.ones_like(y))
