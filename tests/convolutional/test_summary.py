"""``nnscratch summary``: one row per layer with its FLOPs and, for convolutions, the route it takes."""

from __future__ import annotations

import pytest

from nnscratch.cli import main
from nnscratch.convolutional.architectures import ARCHITECTURES, IMAGE_TO_IMAGE, build, build_image_to_image
from nnscratch.convolutional.modules import Conv2D, Sequential
from nnscratch.convolutional.recipes import IMAGE_RECIPES, RECIPES
from nnscratch.convolutional.summary import summarize
from nnscratch.vectorized.module import Module
from nnscratch.vectorized.training_memory import measure_training_memory


def convolution_rows(output):
    """(layer, algorithm) of every Conv2D row of a printed summary."""
    return [(line.split()[0], line.split()[-1]) for line in output.splitlines() if " Conv2D " in line]


def test_summary_shows_the_route_each_convolution_of_the_baseline_takes(capsys):
    assert main(["summary", "baseline", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[-1] == "algorithm"
    assert convolution_rows(out) == [("0", "wide"), ("3", "winograd"), ("7", "winograd"), ("10", "winograd")]
    relu_rows = [line.split() for line in out.splitlines() if " ReLU " in line]
    # layer, type, shape, parameters, FLOPs, kept MiB, workspace MiB: no route
    assert relu_rows and all(len(row) == 7 for row in relu_rows)


def test_summary_with_a_forced_algorithm_shows_it_on_every_convolution(capsys):
    assert main(["summary", "resnet18", "--conv-algorithm", "im2col", "--batch-size", "2"]) == 0
    routes = [route for _, route in convolution_rows(capsys.readouterr().out)]
    assert routes == ["im2col"] * 20


def test_summary_with_a_route_that_does_not_apply_is_refused_in_one_line(capsys):
    assert main(["summary", "resnet18", "--conv-algorithm", "winograd", "--batch-size", "2"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("nnscratch summary: error: Conv2D(in_channels=64): algorithm 'winograd' needs a 3x3")


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_counts_every_layer_and_names_the_route_of_every_convolution(name):
    model = build(name, 3, 10, 32)
    rows = summarize(model, model.input_shape)
    routes = {"Conv2D": ("wide", "winograd", "banded", "im2col"), "MaxPool2D": ("tiled", "windows")}
    routes["AvgPool2D"], routes["DepthwiseConv2D"] = routes["MaxPool2D"], ("depthwise",)
    assert any(row.kind == "Conv2D" for row in rows)
    for row in rows:  # convolutions and pools name their route; other layers have none
        assert row.algorithm in routes.get(row.kind, ("",)), (row.name, row.kind, row.algorithm)
    assert sum(row.flops for row in rows) == model.flops(model.input_shape) > 0


class Halving(Module):
    def forward(self, x):
        return x / 2


def test_summary_refuses_a_layer_that_does_not_count_its_flops_and_names_it():
    model = Sequential(Conv2D(1, 2, 3), Halving())
    with pytest.raises(NotImplementedError, match=r"^summary: layer '1': Halving does not define flops"):
        summarize(model, (1, 5, 5))


def memory_lines(output):
    """{label: MiB} of the memory section of a printed summary."""
    section = output[output.index("memory of one training step") :].splitlines()[1:]
    return {line.rsplit(None, 2)[0].strip(): float(line.rsplit(None, 2)[1]) for line in section}


def test_summary_ends_with_the_memory_of_a_training_step_at_the_recipes_batch(capsys):
    assert main(["summary", "lenet"]) == 0
    out = capsys.readouterr().out
    assert f"memory of one training step, batch of {RECIPES['lenet'].batch_size}, float32:" in out
    memory = memory_lines(out)
    assert list(memory)[:5] == [
        "kept for backward (activations)",
        "parameters",
        "gradients",
        "optimizer state",
        "workspace of the largest layer (0)",
    ]
    parts = sum(memory[label] for label in list(memory)[:5])
    assert memory["estimated peak of a training step"] == pytest.approx(parts, abs=0.03)  # each part rounded
    assert memory["optimizer state"] == memory["parameters"]  # the recipe's SGD: one momentum buffer


def test_summary_counts_the_optimizer_and_dtype_it_is_given(capsys):
    assert main(["summary", "lenet", "--batch-size", "4", "--optimizer", "adam", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "memory of one training step, batch of 4, float64:" in out
    model = build("lenet")
    parameters_mib = sum(p.data.size for p in model.parameters()) * 8 / 2**20
    memory = memory_lines(out)
    assert memory["parameters"] == memory["gradients"] == pytest.approx(parameters_mib, abs=0.005)
    assert memory["optimizer state"] == pytest.approx(2 * parameters_mib, abs=0.005)  # Adam's two moments
    assert main(["summary", "lenet", "--optimizer", "sgd", "--momentum", "0"]) == 0
    assert memory_lines(capsys.readouterr().out)["optimizer state"] == 0


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architectures_rows_carry_each_layers_memory_and_the_kept_bytes_add_up(name):
    model = build(name, 1, 10, 28)
    memory = measure_training_memory(model, model.input_shape, 2)
    rows = summarize(model, model.input_shape, memory)
    assert [row.name for row in rows] == list(memory.layers)
    assert sum(row.kept_bytes for row in rows) + memory.kept_by_blocks == memory.kept > 0
    assert all(row.workspace_bytes >= 0 for row in rows)
    assert all(row.kept_bytes is None for row in summarize(model, model.input_shape))  # not measured: blank


def test_blocks_that_keep_arrays_outside_their_layers_are_counted():
    model = build("efficientnet_lite0", 1, 10, 28, width=0.25, use_se=True)  # squeeze-excite keeps its input and gate
    memory = measure_training_memory(model, model.input_shape, 2)
    assert memory.kept_by_blocks > 0


def layer_lines(output):
    """The rows of a printed summary's layer table, split into columns."""
    lines = output.splitlines()
    rule = lines[2]
    return [line.split() for line in lines[3 : lines.index(rule, 3)]]


@pytest.mark.parametrize("name", IMAGE_TO_IMAGE)
def test_summary_takes_an_image_to_image_model_at_the_batch_and_optimizer_of_its_reconstruct_recipe(name, capsys):
    assert main(["summary", name, "--dataset", "cifar10"]) == 0
    out = capsys.readouterr().out
    recipe = IMAGE_RECIPES[name]
    assert out.splitlines()[0] == f"{name} on 3x32x32 images, training with {recipe.optimizer}"
    model = build_image_to_image(name, 3, 32)
    expected = summarize(model, model.input_shape)
    rows = layer_lines(out)
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (row.name, row.kind, "x".join(map(str, row.output_shape))) for row in expected
    ]
    assert rows[-1][2].endswith("x32x32")  # an image out, of the input's size
    assert sum(int(row[4].replace(",", "")) for row in rows) == model.flops(model.input_shape) > 0
    assert f"memory of one training step, batch of {recipe.batch_size}, float32:" in out
    memory = memory_lines(out)
    assert memory["optimizer state"] == pytest.approx(2 * memory["parameters"], abs=0.01)  # Adam's two moments
    assert memory["estimated peak of a training step"] > memory["kept for backward (activations)"] > 0
