"""GroupNorm: PyTorch parity for every grouping, gradcheck, its special cases, batch independence, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional.modules import GroupNorm, LayerNorm2D
from nnscratch.testing import gradcheck_module
from tests.parity import assert_matches_torch
from tests.support import assert_close, to_torch

# id: (num_groups, num_channels, eps, input (N, C, H, W))
PARITY = {
    "groups-1-layer-norm": (1, 4, 1e-5, (2, 4, 3, 3)),
    "groups-2": (2, 4, 1e-5, (2, 4, 3, 5)),
    "groups-3-of-2-channels": (3, 6, 1e-5, (3, 6, 2, 2)),
    "groups-C-instance-norm": (4, 4, 1e-5, (2, 4, 4, 3)),
    "eps-1e-3": (2, 4, 1e-3, (2, 4, 3, 3)),
    "batch-of-1": (2, 6, 1e-5, (1, 6, 3, 4)),
    "one-pixel": (2, 4, 1e-5, (2, 4, 1, 1)),
}


def randomize(layer, seed):
    """Weights away from their 1s and 0s, so every term of the gradient shows."""
    rng = np.random.default_rng(seed)
    for parameter in layer.parameters():
        parameter.data[...] = rng.uniform(0.5, 1.5, parameter.shape) * rng.choice([-1, 1], parameter.shape)
    return layer


def layer(case, seed=0):
    groups, channels, eps, _ = PARITY[case]
    return randomize(GroupNorm(groups, channels, eps).to(np.float64), seed)


def random_input(seed, shape):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * 2.0 + rng.standard_normal(shape[1:2])[:, None, None]


@pytest.mark.parametrize("case", PARITY)
def test_group_norm_matches_torch_forward_and_every_gradient(backend, case):
    assert_matches_torch(layer(case), random_input(0, PARITY[case][-1]))


@pytest.mark.parametrize("case", ["groups-2", "groups-C-instance-norm"])
def test_group_norm_passes_gradcheck(case):
    gradcheck_module(layer(case), random_input(1, PARITY[case][-1]))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers())
def test_group_norm_matches_torch_for_random_shapes_and_groupings(groups, per_group, n, height, width, seed):
    norm = randomize(GroupNorm(groups, groups * per_group).to(np.float64), seed % 2**32)
    if per_group * height * width > 1:  # a group of one value has zero variance: torch and we agree, x_hat = 0
        assert_matches_torch(norm, random_input(seed % 2**32, (n, groups * per_group, height, width)))


@given(st.integers(1, 4), st.integers(1, 3), st.integers(2, 4), st.integers())
def test_group_norm_special_cases_are_layer_norm_and_instance_norm(channels, n, size, seed):
    x = random_input(seed % 2**32, (n, channels, size, size))
    # one group: LayerNorm over each sample's (C, H, W); a group per channel: InstanceNorm
    layer_norm = F.layer_norm(to_torch(x), (channels, size, size), eps=1e-5)
    assert_close(GroupNorm(1, channels).to(np.float64).forward(x), layer_norm, rtol=1e-10, name="G = 1")
    instance_norm = F.instance_norm(to_torch(x), eps=1e-5)
    assert_close(GroupNorm(channels, channels).to(np.float64).forward(x), instance_norm, rtol=1e-10, name="G = C")


@given(st.integers(1, 3), st.integers(2, 3), st.integers())
def test_group_norm_normalises_each_sample_alone(groups, n, seed):
    norm = randomize(GroupNorm(groups, 2 * groups).to(np.float64), seed % 2**32)
    x = random_input(seed % 2**32, (n, 2 * groups, 3, 3))
    together = norm.forward(x)
    for i in range(n):  # no batch statistics: the batch around a sample changes nothing
        assert_close(together[i : i + 1], norm.forward(x[i : i + 1]), name=f"sample {i}")
    unit = GroupNorm(groups, 2 * groups).to(np.float64).forward(x).reshape(n, groups, -1)
    assert_close(unit.mean(axis=2), np.zeros((n, groups)), atol=1e-12, name="group means")
    assert_close(unit.var(axis=2), np.ones((n, groups)), rtol=1e-3, name="group variances (eps aside)")


def test_group_norm_starts_as_the_identity_affine_and_counts_two_flops_per_value():
    norm = GroupNorm(2, 4)
    assert [(name, p.shape) for name, p in norm.named_parameters()] == [("weight", (4,)), ("bias", (4,))]
    assert np.all(norm.weight.data == 1) and np.all(norm.bias.data == 0) and norm.weight.dtype == np.float32
    assert norm.flops((4, 3, 3)) == 2 * 4 * 9
    assert repr(norm) == "GroupNorm(2, 4, eps=1e-05)"


def test_layer_norm_2d_keeps_its_numbers_now_that_it_shares_standardize():
    norm = randomize(LayerNorm2D(3).to(np.float64), 0)
    x = random_input(0, (2, 3, 4, 4))
    nhwc = F.layer_norm(
        to_torch(x).permute(0, 2, 3, 1), (3,), to_torch(norm.weight.data), to_torch(norm.bias.data), 1e-6
    )
    assert_close(norm.forward(x), nhwc.permute(0, 3, 1, 2), rtol=1e-10, name="y")
    gradcheck_module(norm, x)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: GroupNorm(3, 4), r"^GroupNorm: num_groups=3 must divide num_channels=4$"),
        (lambda: GroupNorm(0, 4), r"^GroupNorm: num_groups must be a positive integer, got 0$"),
        (lambda: GroupNorm(2, 4, eps=-1.0), r"^GroupNorm: eps must be"),
    ],
    ids=["not-dividing", "zero-groups", "negative-eps"],
)
def test_bad_arguments_are_refused_naming_the_layer_and_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_input_is_refused_naming_the_layer():
    with pytest.raises(ValueError, match=r"^GroupNorm\(num_groups=2, num_channels=4\) got input with 6 channel\(s\)"):
        GroupNorm(2, 4).forward(np.zeros((1, 6, 2, 2)))
    with pytest.raises(ValueError, match=r"^GroupNorm\(num_groups=2, num_channels=4\) expects input of shape \(N, C"):
        GroupNorm(2, 4).forward(np.zeros((1, 4)))
