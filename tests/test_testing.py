"""The gradient checker must pass right gradients and explain wrong ones."""

import numpy as np
import pytest

from nnscratch.testing import (
    GradcheckError,
    assert_gradient_close,
    central_difference,
    gradcheck,
    gradcheck_module,
    module_gradients,
    numerical_gradient,
    worst_relative_error,
)


class Parameter:
    def __init__(self, data):
        self.data, self.grad = data, np.zeros_like(data)


class Affine:
    """y = x @ W.T + b, with a switchable bug in backward."""

    def __init__(self, rng, wrong_bias_grad=False):
        self.weight = Parameter(rng.standard_normal((3, 4)))
        self.bias = Parameter(rng.standard_normal(3))
        self.wrong_bias_grad = wrong_bias_grad

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def forward(self, x):
        self.x = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, grad_y):
        self.weight.grad += grad_y.T @ self.x
        self.bias.grad += grad_y.sum(axis=0) * (2.0 if self.wrong_bias_grad else 1.0)
        return grad_y @ self.weight.data


def test_numerical_gradient_of_a_cubic_matches_calculus_and_restores_the_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    numeric = numerical_gradient(lambda: float((x**3).sum()), x)
    np.testing.assert_allclose(numeric, 3 * before**2, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_central_difference_works_on_plain_python_attributes():
    class Neuron:
        weight = 2.0

    neuron = Neuron()

    def write(value):
        neuron.weight = value

    slope = central_difference(lambda: neuron.weight**2, lambda: neuron.weight, write)
    assert slope == pytest.approx(4.0, rel=1e-8)
    assert neuron.weight == 2.0


def test_gradcheck_accepts_a_correct_gradient():
    x = np.random.default_rng(0).standard_normal(5)
    gradcheck(lambda: float(np.sin(x).sum()), {"x": x}, {"x": np.cos(x)})


def test_gradcheck_failure_names_array_element_and_both_values():
    x = np.array([0.0, 1.0, 2.0])
    wrong = np.array([0.0, 2.0, 4.0])
    wrong[2] = 5.0
    with pytest.raises(GradcheckError) as failure:
        gradcheck(lambda: float((x**2).sum()), {"x": x}, {"x": wrong})
    message = str(failure.value)
    assert "gradient of 'x' at index (2,): received 5.0 from backward, expected" in message
    assert "from central difference" in message and "1 of 3 elements differ" in message


def test_nan_gradients_fail():
    with pytest.raises(GradcheckError, match="received nan"):
        assert_gradient_close("g", np.array([np.nan]), np.array([1.0]))


def test_shape_mismatch_is_reported():
    with pytest.raises(GradcheckError, match=r"has shape \(2,\), but its input has shape \(3,\)"):
        assert_gradient_close("w", np.zeros(2), np.zeros(3))


def test_gradcheck_module_passes_a_correct_layer_and_catches_a_wrong_parameter_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4))
    gradcheck_module(Affine(rng), x)
    with pytest.raises(GradcheckError, match="gradient of 'bias'"):
        gradcheck_module(Affine(rng, wrong_bias_grad=True), x)


def test_module_gradients_pairs_backward_with_central_differences_for_the_input_and_each_parameter():
    rng = np.random.default_rng(0)
    gradients = module_gradients(Affine(rng, wrong_bias_grad=True), rng.standard_normal((2, 4)))
    assert list(gradients) == ["input", "weight", "bias"]
    analytic, numeric = gradients["weight"]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6)
    assert not np.allclose(*gradients["bias"])  # reported, not raised: the caller decides


def test_worst_relative_error_is_scale_free_zero_where_both_are_zero_and_infinite_for_nan():
    assert worst_relative_error(np.array([0.0, 2.0]), np.array([0.0, 1.0])) == 0.5
    assert worst_relative_error(np.array([2e-9]), np.array([1e-9])) == 0.5
    assert worst_relative_error(np.array([np.nan]), np.array([1.0])) == np.inf
