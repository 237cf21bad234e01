"""The stratified validation split (``train_val_split``) on class counts the fraction does not divide."""

import numpy as np
import pytest

from nnscratch.common.datasets import train_val_split


def labels_with_counts(counts):
    """Labels 0, 1, ... with ``counts[c]`` samples of class c, interleaved as a shuffled dataset would be."""
    labels = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(0).permutation(labels)


@pytest.mark.parametrize(
    ("counts", "fraction", "expected"),
    [
        # 0.3 * (7, 9, 9, 9) = (2.1, 2.7, 2.7, 2.7): rounded per class 2 + 3 + 3 + 3 = 11, where rounding
        # down gives 8, rounding up 12, and rounding the total (0.3 * 34 = 10.2) 10
        ((7, 9, 9, 9), 0.3, (2, 3, 3, 3)),
        # 0.25 * (3, 5, 6) = (0.75, 1.25, 1.5): a class of 3 still gives one sample
        ((3, 5, 6), 0.25, (1, 1, 2)),
        # a class too small to give even one: it stays whole in the training part
        ((1, 10), 0.2, (0, 2)),
    ],
    ids=["up-and-down", "small-classes", "class-of-one"],
)
def test_each_class_gives_its_own_rounded_share_to_validation(counts, fraction, expected):
    y = labels_with_counts(counts)
    x = np.arange(len(y))
    x_train, y_train, x_val, y_val = train_val_split(x, y, fraction, seed=1)
    assert tuple(np.bincount(y_val, minlength=len(counts))) == expected
    np.testing.assert_array_equal(np.bincount(y_train, minlength=len(counts)), np.array(counts) - expected)
    np.testing.assert_array_equal(y[x_val], y_val)  # each sample keeps its own label
    assert sorted(np.concatenate([x_train, x_val])) == list(x)  # every sample in exactly one part
