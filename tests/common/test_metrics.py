import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.metrics import accuracy, confusion_matrix, per_class_accuracy


@given(st.integers(1, 60), st.integers(1, 7), st.integers(0, 1000))
def test_confusion_matrix_counts_every_pair_like_a_loop_would(n, num_classes, seed):
    rng = np.random.default_rng(seed)
    true, predicted = rng.integers(0, num_classes, n), rng.integers(0, num_classes, n)
    by_loop = np.zeros((num_classes, num_classes), int)
    for t, p in zip(true, predicted, strict=True):
        by_loop[t, p] += 1
    matrix = confusion_matrix(predicted, true, num_classes)
    np.testing.assert_array_equal(matrix, by_loop)
    assert accuracy(predicted, true) == pytest.approx(np.trace(by_loop) / n)
    expected = np.diag(by_loop) / np.maximum(by_loop.sum(axis=1), 1)
    present = by_loop.sum(axis=1) > 0
    np.testing.assert_allclose(per_class_accuracy(predicted, true, num_classes)[present], expected[present])
    assert np.isnan(per_class_accuracy(predicted, true, num_classes)[~present]).all()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="3 predictions for 2 labels"):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\)"):
        confusion_matrix([0, 5], [0, 1], 3)
