"""The convolution benchmark: its floor times the products the algorithms run, and its report feeds the docs."""

import math

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.conv_modules import SHAPES, ConvShape, measure_shape, output_side, product_operands, product_steps
from benchmarks.report import new_report, publish
from scripts.docsgen.reports import CONV_MODULES_FILE, conv_modules_section, conv_modules_table, load_report


def result_shape(left: tuple, right: tuple) -> tuple:
    """The shape of left @ right, refusing operands that do not multiply."""
    assert left[:-2] == right[:-2] and left[-1] == right[-2], f"{left} @ {right} does not multiply"
    return (*left[:-1], right[-1])


def multiplications(pairs: list) -> int:
    return sum(math.prod(left) * right[-1] for left, right in pairs)


shapes = st.builds(
    ConvShape,
    model=st.just("model"),
    layer=st.just("layer"),
    in_channels=st.integers(1, 16),
    out_channels=st.integers(1, 16),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    size=st.integers(5, 20),
    bias=st.booleans(),
).filter(lambda shape: shape.kernel <= shape.size + 2 * shape.padding)


@given(shape=shapes, batch=st.integers(1, 8))
def test_im2col_products_are_the_forward_and_both_gradients_with_three_times_the_direct_multiplications(shape, batch):
    side = output_side(shape)
    columns, patch = batch * side * side, shape.in_channels * shape.kernel**2
    pairs = product_operands(shape, batch)["im2col"]
    assert [result_shape(*pair) for pair in pairs] == [
        (shape.out_channels, columns),
        (shape.out_channels, patch),
        (patch, columns),
    ]
    # each product is one multiply per (output pixel, filter, input value of its window)
    assert multiplications(pairs) == 3 * columns * shape.out_channels * patch


@given(shape=shapes, batch=st.integers(1, 8))
def test_winograd_products_exist_only_for_3x3_stride_1_and_have_its_fewer_multiplications(shape, batch):
    operands = product_operands(shape, batch)
    assert ("winograd" in operands) == (shape.kernel == 3 and shape.stride == 1)
    if "winograd" not in operands:
        return
    pairs = operands["winograd"]
    positions, tiles = pairs[0][0][:2]
    assert positions in (16, 36)  # F(2x2, 3x3) or F(4x4, 3x3)
    cin, cout = shape.in_channels, shape.out_channels
    assert [result_shape(*pair) for pair in pairs] == [
        (positions, tiles, cout),
        (positions, cout, cin),
        (positions, tiles, cin),
    ]
    m = 2 if positions == 16 else 4
    assert tiles == batch * math.ceil(output_side(shape) / m) ** 2
    assert multiplications(pairs) == 3 * tiles * positions * cin * cout


def test_a_products_step_is_timed_for_each_algorithm_of_every_benchmark_shape():
    for shape in SHAPES:
        steps = product_steps(shape, batch=1)
        assert set(steps) == set(product_operands(shape, batch=1))
        assert ("winograd" in steps) == (shape.kernel == 3 and shape.stride == 1)
        steps["im2col"]()  # the operands multiply


def test_a_measured_layer_makes_a_report_that_the_docs_show(tmp_path):
    shape = next(shape for shape in SHAPES if shape.model == "baseline" and shape.in_channels == 32)
    result = measure_shape(shape, batch=2, repeats=1)
    assert (result["model"], result["layer"], result["shape"]) == ("baseline", "conv2", "32->32 3x3 s1 p1 @28")
    assert set(result["ms"]) == {"nnscratch", "pytorch"} and set(result["products_ms"]) == {"im2col", "winograd"}
    assert result["route"] == "winograd" and result["reference_ms"]["median"] > 0  # auto's route, and the reference
    memory = {"layer": "baseline conv2", "peak_mib": {"nnscratch": 10.0, "pytorch": 12.5}}
    report = new_report({"cpu": "test"}, "python -m benchmarks.conv_modules", [result], memory=memory)
    publish(report, CONV_MODULES_FILE, "Conv2D against PyTorch", conv_modules_table, tmp_path)
    assert load_report(CONV_MODULES_FILE, tmp_path) == report
    page = conv_modules_section(tmp_path)
    row = next(line for line in page.splitlines() if line.startswith("| baseline | conv2 |"))
    assert "32->32 3x3 s1 p1 @28" in row and "| `winograd` |" in row and row.count("×") == 3
    assert ", batch 2." in page and "10.0 MiB against PyTorch's 12.5 MiB" in page
    assert (tmp_path / "conv_modules.md").read_text().startswith("# Conv2D against PyTorch")
