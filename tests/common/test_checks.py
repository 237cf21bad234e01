"""The argument checks every tier shares: what passes, what is refused, and what the message says."""

import math

import numpy as np
import pytest

from nnscratch.common.checks import check_int, check_number


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(200)])
def test_check_int_accepts_python_and_numpy_integers_and_returns_a_python_int(value):
    checked = check_int("Layer", "num_outputs", value)
    assert checked == value and type(checked) is int


@pytest.mark.parametrize("value", [0, -3, 2.5, 2.0, True, "4", None])
def test_check_int_refuses_what_is_not_a_positive_integer_naming_owner_and_argument(value):
    with pytest.raises(ValueError) as error:
        check_int("Layer", "num_outputs", value)
    assert str(error.value) == f"Layer: num_outputs must be a positive integer, got {value!r}"


def test_check_int_with_another_lower_bound_says_the_bound():
    assert check_int("ReduceLROnPlateau", "patience", 0, low=0) == 0
    with pytest.raises(ValueError, match=r"^ReduceLROnPlateau: patience must be an integer >= 0, got -1$"):
        check_int("ReduceLROnPlateau", "patience", -1, low=0)


@pytest.mark.parametrize(
    ("value", "low", "high", "high_open"),
    [(0.0, 0.0, math.inf, False), (1.0, 0.0, 1.0, False), (0.5, 0.0, 1.0, True), (np.float32(0.25), 0.0, 1.0, True)],
)
def test_check_number_accepts_the_interval_ends_it_includes_and_returns_a_float(value, low, high, high_open):
    checked = check_number("SGD", "momentum", value, low, high, high_open)
    assert checked == value and type(checked) is float


@pytest.mark.parametrize(
    ("value", "high_open", "interval"),
    [
        (-0.1, False, r"\[0.0, 1.0\]"),
        (1.5, False, r"\[0.0, 1.0\]"),
        (1.0, True, r"\[0.0, 1.0\)"),
        (math.nan, False, r"\[0.0, 1.0\]"),
        ("fast", False, r"\[0.0, 1.0\]"),
        (True, False, r"\[0.0, 1.0\]"),
    ],
)
def test_check_number_refuses_values_outside_the_interval_nan_and_non_numbers(value, high_open, interval):
    with pytest.raises(ValueError, match=rf"^Adam: betas\[0\] must be a number in {interval}, got {value!r}$"):
        check_number("Adam", "betas[0]", value, 0.0, 1.0, high_open=high_open)
