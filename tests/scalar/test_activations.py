import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.scalar.activations import ACTIVATIONS, get_activation, init_std, sigmoid
from nnscratch.testing import central_difference
from tests.scalar.scalar_support import TORCH_ACTIVATIONS
from tests.support import RTOL_EXACT

NAMES = list(ACTIVATIONS)
finite_z = st.floats(-30.0, 30.0, allow_nan=False, allow_infinity=False)


def torch_value_and_slope(name, z):
    t = torch.tensor(z, requires_grad=True)
    a = TORCH_ACTIVATIONS[name](t)
    a.backward()
    return a.item(), t.grad.item()


def test_every_activation_the_issue_names_exists():
    assert set(NAMES) == {"relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "linear"}


@pytest.mark.parametrize("name", NAMES)
@given(z=finite_z)
def test_value_and_slope_match_torch(name, z):
    activation = get_activation(name)
    expected_value, expected_slope = torch_value_and_slope(name, z)
    assert activation.function(z) == pytest.approx(expected_value, rel=RTOL_EXACT, abs=1e-12)
    assert activation.slope(z) == pytest.approx(expected_slope, rel=RTOL_EXACT, abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_slope_at_zero_is_the_one_torch_takes(name):
    assert get_activation(name).slope(0.0) == pytest.approx(torch_value_and_slope(name, 0.0)[1], abs=1e-15)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("z", [-2.7, -0.4, 0.3, 1.9])
def test_slope_matches_central_difference(name, z):
    activation = get_activation(name)
    point = [z]
    numeric = central_difference(
        lambda: activation.function(point[0]), lambda: point[0], lambda value: point.__setitem__(0, value)
    )
    assert activation.slope(z) == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("z", [-800.0, 800.0])
def test_huge_inputs_give_finite_values_and_slopes_as_torch(name, z):
    # math.exp(800) raises OverflowError: sigmoid (and silu through it) only ever exponentiates -|z|
    activation = get_activation(name)
    expected_value, expected_slope = torch_value_and_slope(name, z)
    assert activation.function(z) == pytest.approx(expected_value, rel=RTOL_EXACT)
    assert activation.slope(z) == pytest.approx(expected_slope, rel=RTOL_EXACT)


def test_sigmoid_of_large_negative_input_keeps_its_tiny_value():
    assert sigmoid(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'; choose one of: relu, leaky_relu, gelu"):
        get_activation("rleu")


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "gelu", "silu"])
def test_relu_family_uses_he_init(name):
    assert init_std(get_activation(name), fan_in=50, fan_out=10) == pytest.approx(math.sqrt(2 / 50))


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "linear"])
def test_saturating_and_linear_activations_use_glorot_init(name):
    assert init_std(get_activation(name), fan_in=50, fan_out=10) == pytest.approx(math.sqrt(2 / 60))
