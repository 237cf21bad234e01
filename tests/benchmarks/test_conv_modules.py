"""The convolution benchmark's floor: the matrix products it times are the ones the algorithms run."""

import math

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.conv_modules import SHAPES, output_side, product_operands, product_steps


def result_shape(left: tuple, right: tuple) -> tuple:
    """The shape of left @ right, refusing operands that do not multiply."""
    assert left[:-2] == right[:-2] and left[-1] == right[-2], f"{left} @ {right} does not multiply"
    return (*left[:-1], right[-1])


def multiplications(pairs: list) -> int:
    return sum(math.prod(left) * right[-1] for left, right in pairs)


shapes = st.tuples(
    st.just("layer"),
    st.integers(1, 16),  # in channels
    st.integers(1, 16),  # out channels
    st.integers(1, 5),  # kernel
    st.integers(1, 3),  # stride
    st.integers(0, 2),  # padding
    st.integers(5, 20),  # input size
    st.booleans(),
).filter(lambda shape: shape[3] <= shape[6] + 2 * shape[5])


@given(shape=shapes, batch=st.integers(1, 8))
def test_im2col_products_are_the_forward_and_both_gradients_with_three_times_the_direct_multiplications(shape, batch):
    _, cin, cout, kernel, stride, padding, size, _ = shape
    side = output_side(size, kernel, stride, padding)
    columns, patch = batch * side * side, cin * kernel * kernel
    pairs = product_operands(shape, batch)["im2col"]
    assert [result_shape(*pair) for pair in pairs] == [(cout, columns), (cout, patch), (patch, columns)]
    # each product is one multiply per (output pixel, filter, input value of its window)
    assert multiplications(pairs) == 3 * batch * side * side * cout * cin * kernel * kernel


@given(shape=shapes, batch=st.integers(1, 8))
def test_winograd_products_exist_only_for_3x3_stride_1_and_have_its_fewer_multiplications(shape, batch):
    _, cin, cout, kernel, stride, padding, size, _ = shape
    operands = product_operands(shape, batch)
    assert ("winograd" in operands) == (kernel == 3 and stride == 1)
    if "winograd" not in operands:
        return
    pairs = operands["winograd"]
    positions, tiles = pairs[0][0][:2]
    assert positions in (16, 36)  # F(2x2, 3x3) or F(4x4, 3x3)
    assert [result_shape(*pair) for pair in pairs] == [
        (positions, tiles, cout),
        (positions, cout, cin),
        (positions, tiles, cin),
    ]
    side = output_side(size, kernel, stride, padding)
    m = 2 if positions == 16 else 4
    assert tiles == batch * math.ceil(side / m) ** 2
    assert multiplications(pairs) == 3 * tiles * positions * cin * cout


def test_a_products_step_is_timed_for_each_algorithm_of_every_benchmark_shape():
    for shape in SHAPES:
        steps = product_steps(shape, batch=1)
        assert set(steps) == set(product_operands(shape, batch=1))
        assert ("winograd" in steps) == (shape[3] == 3 and shape[4] == 1)
        steps["im2col"]()  # the operands multiply
