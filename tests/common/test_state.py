"""Nested states: shapes of arrays and of lists alike, mismatches named, deep copies."""

import numpy as np
from hypothesis import given

from nnscratch.common.state import copy_state, shape_of, state_problems
from tests.support import shapes


@given(shapes(min_dims=0, max_dims=3, max_side=4))
def test_a_nested_list_has_the_shape_of_the_array_it_came_from(shape):
    array = np.zeros(shape)
    assert shape_of(array) == shape_of(array.tolist()) == shape


def test_ragged_lists_and_numbers_have_shapes_that_say_so():
    assert shape_of([[1.0, 2.0], [3.0]]) == (2, "ragged")
    assert shape_of(2.5) == () and shape_of([]) == (0,)


def test_state_problems_names_missing_unexpected_and_misshaped_entries():
    own = {"0.weight": np.zeros((3, 4)), "0.bias": [0.0, 0.0, 0.0]}
    given_state = {"0.weight": [[0.0] * 4] * 2, "9.bias": np.zeros(3)}
    assert state_problems(own, given_state) == [
        "missing keys: ['0.bias']",
        "unexpected keys: ['9.bias']",
        "mis-shaped: 0.weight: expected (3, 4), got (2, 4)",
    ]
    assert state_problems(own, given_state, strict=False) == ["mis-shaped: 0.weight: expected (3, 4), got (2, 4)"]
    assert state_problems(own, {"0.weight": np.ones((3, 4)), "0.bias": np.ones(3)}) == []


@given(shapes(min_dims=1, max_dims=3, max_side=4))
def test_copy_state_is_deep_so_the_copy_never_follows_the_original(shape):
    original = {"model": {"w": np.arange(np.prod(shape), dtype=np.float32).reshape(shape)}, "history": [{"loss": 1.0}]}
    copied = copy_state(original)
    original["model"]["w"] += 1
    original["history"][0]["loss"] = 2.0
    original["history"].append({"loss": 3.0})
    np.testing.assert_array_equal(copied["model"]["w"], np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    assert copied["history"] == [{"loss": 1.0}] and copied["model"]["w"].dtype == np.float32
