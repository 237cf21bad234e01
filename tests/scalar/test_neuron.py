import math
import random

import pytest

from nnscratch.scalar import Bias, Neuron, Weight
from nnscratch.scalar.activations import ACTIVATIONS
from tests.scalar.scalar_support import assert_list_gradient, assert_parameter_gradients

NAMES = list(ACTIVATIONS)


def make_neuron(activation="relu", num_inputs=4, seed=0):
    neuron = Neuron(num_inputs, activation, rng=random.Random(seed))
    neuron.bias = 0.3  # non-zero, so a wrong bias path shows
    return neuron


def test_forward_is_the_weighted_sum_plus_bias_through_the_activation():
    neuron = make_neuron("tanh")
    neuron.weights = [0.5, -1.0, 2.0, 0.25]
    x = [1.0, 2.0, -0.5, 4.0]
    a = neuron.forward(x)
    assert neuron.z == pytest.approx(0.5 - 2.0 - 1.0 + 1.0 + 0.3)
    assert a == neuron.a == pytest.approx(math.tanh(neuron.z))
    assert neuron.inputs is x


def test_backward_follows_the_equations():
    neuron = make_neuron("sigmoid")
    x = [1.0, -2.0, 0.5, 3.0]
    neuron.forward(x)
    dx = neuron.backward(0.7)
    s = neuron.a
    dz = 0.7 * s * (1 - s)
    assert neuron.dz == pytest.approx(dz)
    assert neuron.grad_weights == pytest.approx([dz * xi for xi in x])
    assert neuron.grad_bias == pytest.approx(dz)
    assert dx == pytest.approx([dz * w for w in neuron.weights])


@pytest.mark.parametrize("name", NAMES)
def test_every_gradient_passes_gradcheck(name):
    neuron = make_neuron(name, num_inputs=5, seed=3)
    x = [random.Random(4).uniform(-2, 2) for _ in range(5)]
    grad_a = -1.3  # d loss / d a for loss = grad_a * a

    def loss():
        return grad_a * neuron.forward(x)

    neuron.forward(x)
    dx = neuron.backward(grad_a)
    assert_parameter_gradients(loss, neuron.parameters(), f"{name} neuron parameters")
    assert_list_gradient(loss, x, dx, f"{name} neuron input")


def test_gradients_accumulate_until_zero_grad():
    neuron = make_neuron("linear")
    first, second = [1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]
    neuron.forward(first)
    neuron.backward(2.0)
    neuron.forward(second)
    neuron.backward(-1.0)
    assert neuron.grad_weights == pytest.approx([2 * a - b for a, b in zip(first, second, strict=True)])
    assert neuron.grad_bias == pytest.approx(1.0)
    neuron.zero_grad()
    assert neuron.grad_weights == [0.0] * 4 and neuron.grad_bias == 0.0


def test_backward_without_input_grad_still_fills_the_parameter_gradients():
    neuron = make_neuron("gelu")
    neuron.forward([0.5, 1.0, -1.0, 2.0])
    assert neuron.backward(1.0, input_grad=False) is None
    assert neuron.grad_bias == pytest.approx(neuron.dz) and neuron.dz != 0


def test_parameters_read_and_write_the_neuron_attributes():
    neuron = make_neuron()
    parameters = neuron.parameters()
    assert [type(p) for p in parameters] == [Weight] * 4 + [Bias]
    parameters[2].value = 7.0
    parameters[4].value = -1.5
    assert neuron.weights[2] == 7.0 and neuron.bias == -1.5
    neuron.forward([1.0, 1.0, 1.0, 1.0])
    neuron.backward(1.0)
    assert [p.grad for p in parameters] == neuron.grad_weights + [neuron.grad_bias]


def test_init_is_seeded():
    assert make_neuron(seed=5).weights == make_neuron(seed=5).weights
    assert make_neuron(seed=5).weights != make_neuron(seed=6).weights


@pytest.mark.parametrize(("name", "expected_std"), [("relu", math.sqrt(2 / 400)), ("tanh", math.sqrt(2 / 500))])
def test_init_scale_follows_he_or_glorot(name, expected_std):
    rng = random.Random(0)
    weights = [w for _ in range(20) for w in Neuron(400, name, fan_out=100, rng=rng).weights]
    std = math.sqrt(sum(w * w for w in weights) / len(weights))
    assert std == pytest.approx(expected_std, rel=0.03)
    assert Neuron(400, name, rng=rng).bias == 0.0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((0,), r"Neuron: num_inputs must be a positive integer, got 0"),
        ((2.5,), r"Neuron: num_inputs must be a positive integer, got 2.5"),
        ((3, "relu", 0), r"Neuron: fan_out must be a positive integer, got 0"),
        ((3, "swish"), r"unknown activation 'swish'; choose one of: relu, leaky_relu, gelu, silu, tanh, sigmoid"),
    ],
)
def test_bad_construction_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        Neuron(*arguments)


def test_wrong_number_of_inputs_is_refused():
    with pytest.raises(ValueError, match=r"Neuron\(num_inputs=4\) got 3 inputs"):
        make_neuron().forward([1.0, 2.0, 3.0])


def test_backward_before_forward_is_refused():
    expected = r"Neuron\(num_inputs=4, activation='relu'\): backward\(\) called before forward\(\)"
    with pytest.raises(RuntimeError, match=expected):
        make_neuron().backward(1.0)
