"""build_mlp: the layers it stacks, and the whole network's loss and gradients against PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import GELU, BatchNorm1D, Dropout, Linear, ReLU, Tanh
from tests.support import RTOL_MODULE, assert_close, seeds, to_torch

TORCH_LAYERS = {ReLU: torch.nn.ReLU, Tanh: torch.nn.Tanh, GELU: torch.nn.GELU}


def test_the_default_mlp_is_784_256_128_10_with_relu():
    model = build_mlp(784, [256, 128], 10)
    assert [type(layer) for layer in model] == [Linear, ReLU, Linear, ReLU, Linear]
    assert [(layer.in_features, layer.out_features) for layer in model if isinstance(layer, Linear)] == [
        (784, 256),
        (256, 128),
        (128, 10),
    ]
    assert sum(parameter.data.size for parameter in model.parameters()) == 235_146
    assert not model[0].needs_input_grad and model[2].needs_input_grad


def test_batchnorm_goes_before_and_dropout_after_each_activation():
    model = build_mlp(10, [8, 6], 3, activations=["tanh", "gelu"], dropout=0.2, batchnorm=True)
    assert [type(layer) for layer in model] == [
        Linear,
        BatchNorm1D,
        Tanh,
        Dropout,
        Linear,
        BatchNorm1D,
        GELU,
        Dropout,
        Linear,
    ]
    assert model[3].p == 0.2


def test_no_hidden_layers_is_a_linear_classifier():
    model = build_mlp(5, [], 3)
    assert [type(layer) for layer in model] == [Linear]


def test_the_seed_fixes_the_initial_weights():
    manual_seed(4)
    first = build_mlp(6, [5], 2).state_dict()
    manual_seed(4)
    for name, array in build_mlp(6, [5], 2).state_dict().items():
        np.testing.assert_array_equal(array, first[name], err_msg=name)


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.sampled_from(["relu", "tanh", "gelu"]),
    st.booleans(),
    seeds(),
)
def test_the_networks_loss_and_every_gradient_match_torch(hidden_sizes, activation, batchnorm, seed):
    ours = build_mlp(4, hidden_sizes, 3, activation, batchnorm=batchnorm).to(np.float64)
    reference = torch.nn.Sequential(
        *(
            torch.nn.Linear(layer.in_features, layer.out_features)
            if isinstance(layer, Linear)
            else torch.nn.BatchNorm1d(layer.num_features)
            if isinstance(layer, BatchNorm1D)
            else TORCH_LAYERS[type(layer)]()
            for layer in ours
        )
    )
    reference.load_state_dict({name: to_torch(array) for name, array in ours.state_dict().items()})
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    loss = CrossEntropyLoss()
    value = loss.forward(ours.forward(x), y)
    ours.backward(loss.backward())
    torch_value = torch.nn.functional.cross_entropy(reference(to_torch(x)), to_torch(y))
    torch_value.backward()
    assert_close(value, torch_value, RTOL_MODULE, name="loss")
    torch_parameters = dict(reference.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, torch_parameters[name].grad, RTOL_MODULE, name=name)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(activations=["relu", "tanh", "relu"]), r"got 3 activations \['relu', 'tanh', 'relu'\] for 2 hidden"),
        (dict(activations="swish"), r"unknown activation\(s\) \['swish'\]; choose from: relu"),
        (dict(dropout=1.0), r"build_mlp: dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_build_mlp_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        build_mlp(4, [3, 2], 2, **options)
