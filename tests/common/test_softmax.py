import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.softmax import log_softmax, softmax
from tests.support import RTOL_EXACT, assert_close, float_arrays, shapes, to_torch


@st.composite
def arrays_and_axis(draw, scale=30.0):
    x = draw(float_arrays(shapes(1, 4), scale=scale))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@given(arrays_and_axis())
def test_softmax_matches_torch(case):
    x, axis = case
    assert_close(softmax(x, axis), torch.softmax(to_torch(x), dim=axis), RTOL_EXACT)


@given(arrays_and_axis())
def test_log_softmax_matches_torch(case):
    x, axis = case
    assert_close(log_softmax(x, axis), torch.log_softmax(to_torch(x), dim=axis), RTOL_EXACT)


@given(arrays_and_axis(scale=1e4))
def test_softmax_and_log_softmax_are_finite_and_match_torch_for_logits_of_magnitude_1e4(case):
    x, axis = case
    probs, log_probs = softmax(x, axis), log_softmax(x, axis)
    assert np.isfinite(probs).all() and np.isfinite(log_probs).all()
    np.testing.assert_allclose(probs.sum(axis=axis), 1.0, rtol=1e-12)
    assert_close(log_probs, torch.log_softmax(to_torch(x), dim=axis), RTOL_EXACT)


def test_extreme_logits_give_exact_probabilities_and_finite_logs():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    np.testing.assert_array_equal(softmax(x), [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(log_softmax(x)[0], [0.0, -2e4, -1e4])


def test_float32_stays_float32():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    assert softmax(x).dtype == np.float32
    assert log_softmax(x, axis=0).dtype == np.float32
