"""LayerNorm over the last dimension (the MLP tier's): PyTorch parity, gradcheck, properties, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional.modules import LayerNorm2D
from nnscratch.testing import gradcheck_module
from nnscratch.vectorized.modules import LayerNorm
from tests.parity import assert_matches_torch
from tests.support import assert_close

# id: (normalized_shape, eps, input shape)
PARITY = {
    "batch-of-rows": (5, 1e-5, (4, 5)),
    "sequence": (3, 1e-5, (2, 4, 3)),
    "eps-1e-3": (6, 1e-3, (3, 6)),
    "one-row": (4, 1e-5, (1, 4)),
    "images-last-axis": (4, 1e-5, (2, 3, 2, 4)),
}


def randomize(layer, seed):
    rng = np.random.default_rng(seed)
    for parameter in layer.parameters():
        parameter.data[...] = rng.uniform(0.5, 1.5, parameter.shape) * rng.choice([-1, 1], parameter.shape)
    return layer


def random_input(seed, shape):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * 3.0 + rng.standard_normal(shape[-1])


def layer(case, seed=0):
    features, eps, _ = PARITY[case]
    return randomize(LayerNorm(features, eps).to(np.float64), seed)


@pytest.mark.parametrize("case", PARITY)
def test_layer_norm_matches_torch_forward_and_every_gradient(backend, case):
    assert_matches_torch(layer(case), random_input(0, PARITY[case][-1]))


@pytest.mark.parametrize("case", ["batch-of-rows", "sequence"])
def test_layer_norm_passes_gradcheck(case):
    gradcheck_module(layer(case), random_input(1, PARITY[case][-1]))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(2, 6), st.integers())
def test_layer_norm_matches_torch_for_random_shapes(leading, features, seed):
    norm = randomize(LayerNorm(features).to(np.float64), seed % 2**32)
    assert_matches_torch(norm, random_input(seed % 2**32, (*leading, features)))


@given(st.integers(1, 4), st.integers(2, 6), st.integers())
def test_layer_norm_standardises_each_row_alone(rows, features, seed):
    x = random_input(seed % 2**32, (rows, features))
    y = LayerNorm(features).to(np.float64).forward(x)
    assert_close(y.mean(axis=1), np.zeros(rows), atol=1e-12, name="row means")
    assert_close(y.var(axis=1), np.ones(rows), rtol=1e-3, name="row variances (eps aside)")
    for i in range(rows):
        assert_close(y[i : i + 1], LayerNorm(features).to(np.float64).forward(x[i : i + 1]), name=f"row {i}")


@given(st.integers(1, 4), st.integers(1, 3), st.integers())
def test_layer_norm_on_the_channels_last_image_is_layer_norm_2d(channels, size, seed):
    x = random_input(seed % 2**32, (2, size, size, channels))  # NHWC
    last = randomize(LayerNorm(channels, eps=1e-6).to(np.float64), seed % 2**32)
    first = LayerNorm2D(channels).to(np.float64)
    first.load_state_dict(last.state_dict())
    assert_close(last.forward(x), first.forward(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1), name="y")


def test_layer_norm_starts_as_the_identity_affine_and_counts_two_flops_per_value():
    norm = LayerNorm(4)
    assert [(name, p.shape) for name, p in norm.named_parameters()] == [("weight", (4,)), ("bias", (4,))]
    assert np.all(norm.weight.data == 1) and np.all(norm.bias.data == 0) and norm.weight.dtype == np.float32
    assert norm.flops((4,)) == 8
    assert repr(norm) == "LayerNorm(4, eps=1e-05)"


def test_bad_arguments_and_input_are_refused_naming_the_layer():
    with pytest.raises(ValueError, match=r"^LayerNorm: normalized_shape must be a positive integer, got 0$"):
        LayerNorm(0)
    with pytest.raises(ValueError, match=r"^LayerNorm: eps must be"):
        LayerNorm(3, eps=-1)
    with pytest.raises(ValueError, match=r"^LayerNorm\(normalized_shape=3\) expects input of shape \(\.\.\., 3\), "
                                         r"got shape \(2, 4\)$"):  # fmt: skip
        LayerNorm(3).forward(np.zeros((2, 4)))
