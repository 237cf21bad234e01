import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.seed import manual_seed
from nnscratch.scalar import Dropout, Layer, Network, cross_entropy, layer_plan
from nnscratch.scalar.activations import ACTIVATIONS
from tests.scalar.scalar_support import (
    assert_list_gradient,
    assert_parameter_gradients,
    record_masks,
    restart_dropout,
    torch_forward,
    torch_weights,
)
from tests.support import RTOL_MODULE

NAMES = list(ACTIVATIONS)


def batch(num_samples, size, seed=0):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(size)] for _ in range(num_samples)]


def with_biases(network, seed=1):
    """Non-zero biases (they start at 0), so a wrong bias gradient cannot hide."""
    rng = random.Random(seed)
    for layer in network.dense_layers:
        for neuron in layer.neurons:
            neuron.bias = rng.uniform(-0.5, 0.5)
    return network


@st.composite
def networks(draw):
    """A small network (any activations, maybe dropout), a batch and its targets."""
    input_size = draw(st.integers(1, 5))
    hidden_sizes = draw(st.lists(st.integers(1, 4), max_size=2))
    num_classes = draw(st.integers(2, 4))
    activations = [draw(st.sampled_from(NAMES)) for _ in hidden_sizes]
    dropout = [draw(st.sampled_from([0.0, 0.3])) for _ in hidden_sizes]
    seed = draw(st.integers(0, 1000))
    network = with_biases(Network(input_size, hidden_sizes, num_classes, activations, dropout, seed), seed)
    num_samples = draw(st.integers(1, 3))
    inputs = batch(num_samples, input_size, seed)
    targets = [draw(st.integers(0, num_classes - 1)) for _ in range(num_samples)]
    return network, inputs, targets


@given(networks())
def test_loss_and_every_gradient_match_torch(problem):
    network, inputs, targets = problem
    masks = record_masks(network, inputs)
    network.zero_grad()
    loss, correct = network.forward_backward(inputs, targets)

    parameters = [torch_weights(layer) for layer in network.dense_layers]
    logits = torch.stack(
        [torch_forward(network, parameters, torch.tensor(x), m) for x, m in zip(inputs, masks, strict=True)]
    )
    expected = F.cross_entropy(logits, torch.tensor(targets))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=RTOL_MODULE)
    assert correct == int((logits.argmax(1) == torch.tensor(targets)).sum())
    for k, (layer, (weight, bias)) in enumerate(zip(network.dense_layers, parameters, strict=True)):
        np.testing.assert_allclose(
            [n.grad_weights for n in layer.neurons], weight.grad.numpy(), RTOL_MODULE, 1e-12, err_msg=f"dw {k}"
        )
        np.testing.assert_allclose(
            [n.grad_bias for n in layer.neurons], bias.grad.numpy(), RTOL_MODULE, 1e-12, err_msg=f"db {k}"
        )


@given(networks())
def test_forward_and_input_gradient_of_one_sample_match_torch(problem):
    network, inputs, targets = problem
    network.eval()  # dropout off: the same numbers as a network without it
    parameters = [torch_weights(layer) for layer in network.dense_layers]
    x = torch.tensor(inputs[0], requires_grad=True)
    expected_logits = torch_forward(network, parameters, x)
    upstream = torch.linspace(-1, 1, network.num_classes)
    (expected_logits * upstream).sum().backward()

    logits = network.forward(inputs[0])
    grad_inputs = network.backward(upstream.tolist(), input_grad=True)
    np.testing.assert_allclose(logits, expected_logits.detach().numpy(), RTOL_MODULE, 1e-12)
    np.testing.assert_allclose(grad_inputs, x.grad.numpy(), RTOL_MODULE, 1e-12)
    assert network.predict(inputs[0]) == int(expected_logits.argmax())


@given(networks())
def test_output_bias_gradients_sum_to_zero_and_the_loss_is_positive(problem):
    # d loss / d logits = softmax - onehot sums to 0 for every sample, and so the output biases' gradients do
    network, inputs, targets = problem
    network.zero_grad()
    loss, correct = network.forward_backward(inputs, targets)
    assert loss > 0 and 0 <= correct <= len(inputs)
    assert sum(n.grad_bias for n in network.dense_layers[-1].neurons) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["no_dropout", "dropout"])
@pytest.mark.parametrize("name", NAMES)
def test_every_network_gradient_passes_gradcheck(name, dropout):
    network = with_biases(Network(3, [4, 3], 3, name, dropout, seed=2))
    inputs, targets = batch(3, 3), [0, 2, 1]

    def loss():
        restart_dropout(network)  # the same masks on every evaluation
        return network.evaluate(inputs, targets)[0]

    restart_dropout(network)
    network.zero_grad()
    network.forward_backward(inputs, targets)
    if dropout:
        masks = [layer.mask for layer in network.layers if isinstance(layer, Dropout)]
        assert any(0.0 in mask for mask in masks), "the seed should drop something"
    assert_parameter_gradients(loss, network.parameters(), f"{name} network (dropout {dropout})")


@pytest.mark.parametrize("name", NAMES)
def test_network_input_gradient_passes_gradcheck(name):
    network = with_biases(Network(4, [3], 2, name, seed=5))
    x = batch(1, 4)[0]
    network.zero_grad()
    logits = network.forward(x)
    _, grad_logits = cross_entropy(logits, 1)
    grad_inputs = network.backward(grad_logits, input_grad=True)
    assert_list_gradient(lambda: network.evaluate([x], [1])[0], x, grad_inputs, f"{name} network input")


def test_layers_are_dense_then_dropout_per_hidden_layer_ending_in_linear_logits():
    network = Network(6, [5, 4], 3, ["relu", "tanh"], [0.5, 0.0], seed=0)
    assert [type(layer) for layer in network.layers] == [Layer, Dropout, Layer, Layer]
    assert [layer.activation for layer in network.dense_layers] == ["relu", "tanh", "linear"]
    assert network.architecture == "6-5-4-3"
    assert len(network.parameters()) == (6 * 5 + 5) + (5 * 4 + 4) + (4 * 3 + 3)
    assert Network(6, [], 3).architecture == "6-3"


def test_backward_skips_the_input_gradient_by_default():
    network = Network(3, [2], 2, seed=0)
    network.forward([1.0, 2.0, 3.0])
    assert network.backward([0.5, -0.5]) is None


def test_train_and_eval_switch_dropout():
    network = Network(4, [50], 3, dropout=0.5, seed=0)
    x = batch(1, 4)[0]
    assert network.training
    assert network.eval() is network and not network.training
    assert network.forward(x) == network.forward(x), "no dropout in evaluation"
    network.train()
    assert network.forward(x) != network.forward(x), "a new mask each forward in training"


def test_the_seed_fixes_the_initial_weights():
    weights = [p.value for p in Network(5, [4], 3, seed=1).parameters()]
    assert weights == [p.value for p in Network(5, [4], 3, seed=1).parameters()]
    assert weights != [p.value for p in Network(5, [4], 3, seed=2).parameters()]
    manual_seed(3)
    unseeded = [p.value for p in Network(5, [4], 3, seed=None).parameters()]
    manual_seed(3)
    assert unseeded == [p.value for p in Network(5, [4], 3, seed=None).parameters()]


def test_numpy_integer_sizes_are_accepted():
    network = Network(np.int64(4), [np.int64(3)], np.int32(2), seed=0)
    assert network.architecture == "4-3-2" and type(network.input_size) is int


def test_one_value_or_a_one_element_list_applies_to_every_hidden_layer():
    assert layer_plan([3, 2], "tanh", 0.1) == [(3, "tanh", 0.1), (2, "tanh", 0.1)]
    assert layer_plan([3, 2], ["gelu"], [0.2]) == [(3, "gelu", 0.2), (2, "gelu", 0.2)]
    assert layer_plan([3, 2], ["relu", "silu"], [0.0, 0.5]) == [(3, "relu", 0.0), (2, "silu", 0.5)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_size": 0}, r"Network: input_size must be a positive integer, got 0"),
        ({"num_classes": -2}, r"Network: num_classes must be a positive integer, got -2"),
        ({"hidden_sizes": [4, 0]}, r"Network: hidden sizes must be positive integers, got \[4, 0\]"),
        ({"hidden_sizes": [2.5]}, r"Network: hidden sizes must be positive integers, got \[2.5\]"),
        ({"hidden_sizes": 32}, r"Network: hidden_sizes must be a list of positive integers, got 32"),
        ({"activations": "rleu"}, r"hidden layer 1: unknown activation 'rleu'; choose one of: relu, leaky_relu"),
        (
            {"activations": ["relu", "tanh", "relu"]},
            r"Network: got 3 activations \['relu', 'tanh', 'relu'\] for 2 hidden layer\(s\): give one value",
        ),
        ({"dropout": 1.0}, r"Network: hidden layer 1: dropout must be in \[0, 1\), got 1.0"),
        ({"dropout": [0.1, -0.1]}, r"Network: hidden layer 2: dropout must be in \[0, 1\), got -0.1"),
        ({"dropout": [0.1, 0.2, 0.3]}, r"Network: got 3 dropout \[0.1, 0.2, 0.3\] for 2 hidden layer\(s\)"),
    ],
)
def test_bad_construction_is_refused(kwargs, message):
    arguments = {"input_size": 4, "hidden_sizes": [3, 2], "num_classes": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        Network(**arguments)


def test_bad_samples_and_batches_are_refused():
    network = Network(4, [3], 2, seed=0)
    with pytest.raises(ValueError, match=r"Network\(input_size=4\) got a sample of 3 values: expected 4"):
        network.forward([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"a batch needs as many targets as samples \(at least one\), got 2 .* and 1"):
        network.forward_backward(batch(2, 4), [0])
    with pytest.raises(ValueError, match=r"got 0 samples and 0 targets"):
        network.evaluate([], [])
    with pytest.raises(ValueError, match=r"cross_entropy: target must be a class index in 0..1 for 2 logits, got 2"):
        network.forward_backward(batch(1, 4), [2])
