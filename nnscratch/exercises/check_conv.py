"""The checks of the convolution exercises: im2col, col2im, Conv2D's backward, MaxPool2D's backward.

Conv2D is checked on its reference route (``algorithm="im2col"``) and MaxPool2D on its
reference ``"windows"`` route: the ones the docs teach and the learner's methods implement.
"""

from __future__ import annotations

from types import ModuleType

from ..convolutional import modules as library
from .compare import expect_close
from .layer_pair import expect_layers_agree, random_array

# (padded input shape (N, C, Hp, Wp), kernel size, stride): square and not, overlapping and not
WINDOW_CASES = [((2, 3, 5, 5), (3, 3), (1, 1)), ((1, 2, 6, 7), (3, 2), (2, 1)), ((2, 1, 4, 4), (2, 2), (2, 2))]


def check_im2col(learner: ModuleType) -> None:
    for seed, (shape, kernel, stride) in enumerate(WINDOW_CASES):
        padded = random_array(shape, seed)
        expected = library.im2col(padded, kernel, stride)
        expect_close(
            f"im2col(shape {shape}, kernel {kernel}, stride {stride})", expected, learner.im2col(padded, kernel, stride)
        )


def check_col2im(learner: ModuleType) -> None:
    for seed, (shape, kernel, stride) in enumerate(WINDOW_CASES):
        cols_shape = library.im2col(random_array(shape, seed), kernel, stride).shape
        cols = random_array(cols_shape, seed + 10)
        expected = library.col2im(cols, shape, kernel, stride)
        got = learner.col2im(cols.copy(), shape, kernel, stride)
        expect_close(f"col2im(cols {cols_shape} -> {shape}, kernel {kernel}, stride {stride})", expected, got)


def check_conv2d(learner: ModuleType) -> None:
    reference = {"algorithm": "im2col"}
    cases = [
        ((2, 3, 3), {"padding": 1, **reference}, (2, 2, 5, 5)),
        ((2, 3, (3, 2)), {"stride": (2, 1), "padding": (0, 1), **reference}, (2, 2, 6, 5)),
        ((1, 2, 2), {"stride": 2, "bias": False, **reference}, (1, 1, 4, 4)),
    ]
    expect_layers_agree(library.Conv2D, learner.Conv2D, cases)


def check_maxpool(learner: ModuleType) -> None:
    reference = {"algorithm": "windows"}
    cases = [
        ((2,), reference, (2, 3, 6, 6)),
        ((3, 2, 1), reference, (2, 2, 7, 7)),
        (((2, 3), (1, 2)), reference, (1, 2, 5, 7)),
    ]
    expect_layers_agree(library.MaxPool2D, learner.MaxPool2D, cases)
