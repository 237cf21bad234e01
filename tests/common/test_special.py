"""erf (common/special.py) on its own, against the standard library's math.erf."""

import math
import warnings

import numpy as np
import pytest

from nnscratch.common.special import erf

# where Cody's approximation switches from one ratio of polynomials to the next
RANGE_ENDS = (0.46875, 4.0)


def points_up_to_six():
    """A fine grid over |x| <= 6, plus each end of the three ranges and the floats either side of it."""
    ends = []
    for end in RANGE_ENDS:
        for value in (-end, end):
            ends += [np.nextafter(value, -np.inf), value, np.nextafter(value, np.inf)]
    return np.concatenate([np.linspace(-6.0, 6.0, 24001), ends, [0.0, -0.0, 1e-300, -1e-8]])


def test_erf_matches_math_erf_to_a_few_units_in_the_last_place_for_every_x_up_to_six():
    x = points_up_to_six()
    expected = np.array([math.erf(value) for value in x])
    ulps = np.abs(erf(x) - expected) / np.spacing(np.abs(expected))
    worst = int(np.argmax(ulps))
    assert ulps[worst] <= 8, f"erf({x[worst]!r}) = {erf(x)[worst]!r}, math.erf gives {expected[worst]!r}"


def test_erf_is_odd_and_saturates_to_plus_minus_one_beyond_six_without_overflow_warnings():
    x = points_up_to_six()
    np.testing.assert_array_equal(erf(-x), -erf(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way, even for inf
        np.testing.assert_array_equal(erf(np.array([6.5, 27.0, 1e300, np.inf])), [1.0, 1.0, 1.0, 1.0])
        np.testing.assert_array_equal(erf(np.array([-6.5, -np.inf])), [-1.0, -1.0])
        assert np.isnan(erf(np.array([np.nan])))[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_keeps_the_shape_and_dtype_of_its_input(dtype):
    x = np.linspace(-6, 6, 24, dtype=dtype).reshape(2, 3, 4)
    result = erf(x)
    assert result.shape == x.shape and result.dtype == dtype
    expected = np.array([math.erf(float(value)) for value in x.ravel()]).reshape(x.shape)
    np.testing.assert_allclose(result, expected, rtol=0, atol=4 * np.finfo(dtype).eps)
