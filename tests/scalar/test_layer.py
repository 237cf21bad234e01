import random

import numpy as np
import pytest

from nnscratch.scalar import Dropout, Layer
from nnscratch.scalar.activations import ACTIVATIONS
from tests.scalar.scalar_support import assert_list_gradient, assert_parameter_gradients

NAMES = list(ACTIVATIONS)


def make_layer(activation="relu", num_inputs=4, num_outputs=3, seed=0):
    layer = Layer(num_inputs, num_outputs, activation, rng=random.Random(seed))
    for j, neuron in enumerate(layer.neurons):
        neuron.bias = 0.1 * (j + 1)
    return layer


def sample(n, seed=1):
    rng = random.Random(seed)
    return [rng.uniform(-2, 2) for _ in range(n)]


@pytest.mark.parametrize("name", NAMES)
def test_every_layer_gradient_passes_gradcheck(name):
    layer = make_layer(name)
    x, upstream = sample(4), sample(3, seed=2)

    def loss():
        return sum(g * a for g, a in zip(upstream, layer.forward(x), strict=True))

    layer.forward(x)
    dx = layer.backward(upstream)
    assert_parameter_gradients(loss, layer.parameters(), f"{name} layer parameters")
    assert_list_gradient(loss, x, dx, f"{name} layer input")


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu"])
def test_layer_with_dropout_passes_gradcheck_with_the_mask_held_fixed(name):
    layer, dropout = make_layer(name, num_outputs=6), Dropout(0.4, seed=3)
    x, upstream = sample(4), sample(6, seed=2)

    def loss():
        dropout.restart()  # the same mask on every evaluation
        return sum(g * a for g, a in zip(upstream, dropout.forward(layer.forward(x)), strict=True))

    loss()
    assert 0 < dropout.mask.count(0.0) < 6, "the seed should drop some values and keep others"
    dx = layer.backward(dropout.backward(upstream))
    assert_parameter_gradients(loss, layer.parameters(), f"{name} layer + dropout parameters")
    assert_list_gradient(loss, x, dx, f"{name} layer + dropout input")


def test_input_gradient_sums_what_every_neuron_sends_back():
    layer = make_layer("linear")
    layer.forward(sample(4))
    dx = layer.backward([1.0, -2.0, 0.5])
    expected = [sum(g * n.weights[i] for g, n in zip([1.0, -2.0, 0.5], layer.neurons, strict=True)) for i in range(4)]
    assert dx == pytest.approx(expected)
    layer.zero_grad()
    assert all(n.grad_weights == [0.0] * 4 and n.grad_bias == 0.0 for n in layer.neurons)


def test_set_weights_copies_a_linear_weight_matrix_and_bias():
    layer = make_layer()
    weight = np.arange(12, dtype=np.float64).reshape(3, 4) / 10
    layer.set_weights(weight, np.array([1.0, 2.0, 3.0]))
    assert [n.weights for n in layer.neurons] == weight.tolist()
    assert [n.bias for n in layer.neurons] == [1.0, 2.0, 3.0]
    assert all(type(w) is float for n in layer.neurons for w in n.weights)


@pytest.mark.parametrize(
    ("weights", "biases", "message"),
    [
        ([[0.0] * 4] * 2, [0.0] * 3, r"weights must have shape \(3, 4\), got 2 rows of length\(s\) \[4\]"),
        ([[0.0] * 4, [0.0] * 5, [0.0] * 4], [0.0] * 3, r"got 3 rows of length\(s\) \[4, 5\]"),
        ([[0.0] * 4] * 3, [0.0] * 2, r"biases must have length 3, got 2"),
        ([[0.0] * 4] * 2 + [[0.0, 0.0, "x", 0.0]], [0.0] * 3, r"could not convert string to float"),
    ],
)
def test_set_weights_refuses_bad_shapes_and_changes_nothing(weights, biases, message):
    layer = make_layer()
    before = [list(n.weights) for n in layer.neurons], [n.bias for n in layer.neurons]
    with pytest.raises(ValueError, match=message):
        layer.set_weights(weights, biases)
    assert ([list(n.weights) for n in layer.neurons], [n.bias for n in layer.neurons]) == before


def test_layer_refuses_wrong_sizes():
    layer = make_layer()
    expected = r"Layer\(num_inputs=4, num_outputs=3, activation='relu'\) got 5 inputs: expected 4"
    with pytest.raises(ValueError, match=expected):
        layer.forward(sample(5))
    layer.forward(sample(4))
    with pytest.raises(ValueError, match=r"backward got 2 gradients: expected 3"):
        layer.backward([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Layer: num_outputs must be a positive integer, got 0"):
        Layer(4, 0)


# ----------------------------------------------------------------------------- dropout


def test_dropout_keeps_or_zeroes_and_rescales_in_training():
    dropout = Dropout(0.25, seed=0)
    x = [1.0] * 4000
    y = dropout.forward(x)
    assert set(y) == {0.0, 1 / 0.75}
    assert y.count(0.0) / len(y) == pytest.approx(0.25, abs=0.03)
    assert dropout.backward([2.0] * 4000) == [2.0 * m for m in dropout.mask]


def test_dropout_is_the_identity_in_evaluation():
    dropout = Dropout(0.5, seed=0)
    dropout.training = False
    x = sample(10)
    assert dropout.forward(x) == x and dropout.mask is None
    assert dropout.backward(x) == x


def test_dropout_masks_are_seeded_and_restart_repeats_them():
    first, second = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    x = [1.0] * 50
    masks = [first.forward(x) for _ in range(3)]
    assert masks == [second.forward(x) for _ in range(3)]
    assert masks[0] != masks[1], "each forward draws a new mask"
    first.restart()
    assert [first.forward(x) for _ in range(3)] == masks


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_refuses_probabilities_outside_zero_to_one(p):
    with pytest.raises(ValueError, match=rf"Dropout: p must be a probability in \[0, 1\), got {p}"):
        Dropout(p)


def test_dropout_backward_refuses_a_wrong_length():
    dropout = Dropout(0.5, seed=0)
    dropout.forward([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Dropout\(p=0.5\): backward got 3 gradients: expected 2"):
        dropout.backward([1.0, 2.0, 3.0])
