"""`nnscratch gradcheck LAYER`: every layer it knows passes, a wrong backward fails, bad input is one line."""

import re

import pytest

from nnscratch.cli import main
from nnscratch.cli.gradcheck_layers import LAYERS
from nnscratch.vectorized.activations import ReLU


def table_rows(out):
    """gradient name -> (shape, worst relative error, result) from the printed table."""
    rows = re.findall(r"^(\S+)\s+(\(.*?\))\s+(\S+)\s+(ok|FAIL)$", out, re.M)
    return {name: (shape, float(error), result) for name, shape, error, result in rows}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_layer_it_knows_agrees_with_central_differences(layer, capsys):
    assert main(["gradcheck", layer]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert "input" in rows and all(result == "ok" and error < 1e-4 for _, error, result in rows.values())
    assert out.rstrip().endswith("all agree with central differences")


def test_conv2d_reports_its_input_and_each_parameter_with_an_option_and_a_shape(capsys):
    assert main(["gradcheck", "Conv2D", "--shape", "2,1,8,8", "--option", "kernel_size=5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Conv2D(1, 2, kernel_size=(5, 5)") and "on input (2, 1, 8, 8), float64" in out
    assert [(name, shape) for name, (shape, _, _) in table_rows(out).items()] == [
        ("input", "(2, 1, 8, 8)"),
        ("weight", "(2, 1, 5, 5)"),
        ("bias", "(2,)"),
    ]


def test_a_wrong_backward_fails_with_exit_1_naming_the_worst_element(monkeypatch, capsys):
    monkeypatch.setattr(ReLU, "backward", lambda self, grad_out: grad_out)  # forgets the mask of x > 0
    assert main(["gradcheck", "ReLU"]) == 1
    out = capsys.readouterr().out
    assert table_rows(out)["input"][2] == "FAIL"
    assert re.search(r"gradient of 'input' at index \(\d+, \d+\): received \S+ from backward, expected 0\.0", out)
    assert out.rstrip().endswith("1 disagree with central differences")


def test_float32_warns_that_central_differences_need_float64(capsys):
    code = main(["gradcheck", "GELU", "--dtype", "float32"])
    captured = capsys.readouterr()
    assert code == 1 and "float32" in captured.out  # the estimates are rounding noise: it cannot pass
    assert captured.err.startswith("warning: central differences need float64")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["Conv3D"], "unknown layer 'Conv3D'; the layers it checks: Linear, ReLU"),
        (["Dropout"], "Dropout draws a new random mask at every forward"),
        (["Conv2D", "--shape", "2,3"], "Conv2D(in_channels=3) expects input of shape (N, C, H, W), got shape (2, 3)"),
        (["Conv2D", "--shape", "2,3,2,2"], "kernel_size (3, 3) is larger than the padded input (2, 2)"),
        (["Linear", "--shape", "4"], "--shape 4: Linear needs a batch and a feature or channel axis"),
        (["Conv2D", "--option", "kernel=5"], "Conv2D has no option(s) ['kernel']; it takes in_channels, out_channels"),
        (["Linear", "--shape", "200,200"], "40,603 numbers to check (input and parameters) is too many"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(arguments, message, capsys):
    assert main(["gradcheck", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("nnscratch gradcheck: error: ") and message in captured.err
