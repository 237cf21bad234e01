"""``nnscratch summary``: one row per layer with its FLOPs and, for convolutions, the route it takes."""

from __future__ import annotations

import pytest

from nnscratch.cli import main
from nnscratch.convolutional.architectures import ARCHITECTURES, build
from nnscratch.convolutional.modules import Conv2D, Sequential
from nnscratch.convolutional.summary import summarize
from nnscratch.vectorized.module import Module


def convolution_rows(output):
    """(layer, algorithm) of every Conv2D row of a printed summary."""
    return [(line.split()[0], line.split()[-1]) for line in output.splitlines() if " Conv2D " in line]


def test_summary_shows_the_route_each_convolution_of_the_baseline_takes(capsys):
    assert main(["summary", "baseline"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[-1] == "algorithm"
    assert convolution_rows(out) == [("0", "wide"), ("3", "winograd"), ("7", "winograd"), ("10", "winograd")]
    relu_rows = [line.split() for line in out.splitlines() if " ReLU " in line]
    assert relu_rows and all(len(row) == 5 for row in relu_rows)  # layer, type, shape, parameters, FLOPs: no route


def test_summary_with_a_forced_algorithm_shows_it_on_every_convolution(capsys):
    assert main(["summary", "resnet18", "--conv-algorithm", "im2col"]) == 0
    routes = [route for _, route in convolution_rows(capsys.readouterr().out)]
    assert routes == ["im2col"] * 20


def test_summary_with_a_route_that_does_not_apply_is_refused_in_one_line(capsys):
    assert main(["summary", "resnet18", "--conv-algorithm", "winograd"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("nnscratch summary: error: Conv2D(in_channels=64): algorithm 'winograd' needs a 3x3")


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_counts_every_layer_and_names_the_route_of_every_convolution(name):
    model = build(name, 3, 10, 32)
    rows = summarize(model, model.input_shape)
    routes = {"Conv2D": ("wide", "winograd", "banded", "im2col"), "MaxPool2D": ("tiled", "windows")}
    routes["AvgPool2D"] = routes["MaxPool2D"]
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
