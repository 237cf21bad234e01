"""``nnscratch scalar``: the trace, a short run on the bundled sample, and every bad input refused before work."""

import pytest

from nnscratch import cli
from nnscratch.cli import main
from nnscratch.scalar.trace import trace_toy_network


@pytest.fixture
def no_data(monkeypatch):
    """Fail the test if the command gets as far as loading data."""

    def refuse(args):
        raise AssertionError("bad input should be refused before the data is loaded")

    monkeypatch.setattr(cli.arguments, "load_data", refuse)


def test_trace_prints_the_toy_4_3_2_network(capsys, no_data):
    assert main(["scalar", "--trace"]) == 0
    out = capsys.readouterr().out
    assert out == trace_toy_network()
    assert "4-3-2 network" in out and "FORWARD" in out and "BACKWARD" in out


def test_trace_follows_the_size_activation_dropout_and_seed_flags(capsys, no_data):
    argv = ["scalar", "--trace", "--hidden-sizes", "5,4", "--activations", "tanh,gelu", "--dropout", "0.2"]
    assert main([*argv, "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out == trace_toy_network([5, 4], ["tanh", "gelu"], 0.2, 3)
    assert "4-5-4-2 network" in out and "activation tanh" in out and "dropout (p = 0.2)" in out


@pytest.mark.slow
def test_a_short_run_on_the_sample_prints_epochs_and_test_accuracy(capsys):
    argv = ["scalar", "--dataset", "sample", "--limit-train", "200", "--hidden-sizes", "8", "--epochs", "2"]
    assert main([*argv, "--batch-size", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "scalar network 784-8-10 (relu), 6,370 parameters; sgd lr 0.01" in out
    assert "200 train images (10% held out for validation), 500 test" in out
    assert out.count("val_acc") == 2 and "epoch 2/2" in out
    assert "test accuracy" in out and "training samples/s" in out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--activations", "rleu"],
            "Network: hidden layer 1: unknown activation 'rleu'; choose one of: relu, leaky_relu, gelu, silu, tanh",
        ),
        (
            ["--hidden-sizes", "32,16", "--activations", "relu,tanh,relu"],
            "Network: got 3 activations ['relu', 'tanh', 'relu'] for 2 hidden layer(s): give one value for all",
        ),
        (["--nesterov", "--momentum", "0"], "--nesterov needs --optimizer sgd and a --momentum > 0"),
        (["--nesterov", "--optimizer", "adam"], "--nesterov needs --optimizer sgd and a --momentum > 0"),
    ],
)
@pytest.mark.parametrize("trace", [False, True], ids=["train", "trace"])
def test_bad_combinations_are_refused_before_any_work(flags, message, trace, capsys, no_data):
    assert main(["scalar", *flags, *(["--trace"] if trace else [])]) == 2
    captured = capsys.readouterr()
    assert f"nnscratch scalar: error: {message}" in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--hidden-sizes", "32,0"], "argument --hidden-sizes: sizes must be positive, got '32,0'"),
        (["--hidden-sizes", "-4"], "argument --hidden-sizes: sizes must be positive, got '-4'"),
        (["--hidden-sizes", "3x"], "argument --hidden-sizes: must be comma-separated integers like 256,128"),
        (["--dropout", "1"], "argument --dropout: must be in [0, 1), got 1"),
        (["--dropout", "-0.1"], "argument --dropout: must be in [0, 1), got -0.1"),
        (["--limit-train", "0"], "argument --limit-train: must be a positive integer, got 0"),
        (["--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
        (["--batch-size", "-1"], "argument --batch-size: must be a positive integer, got -1"),
        (["--lr", "0"], "argument --lr: must be > 0, got 0"),
        (["--momentum", "1.5"], "argument --momentum: must be in [0, 1), got 1.5"),
        (["--weight-decay", "-1"], "argument --weight-decay: must be a finite number >= 0, got -1"),
        (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
        (["--val-split", "1"], "argument --val-split: must be in [0, 1), got 1"),
        (["--dataset", "imagenet"], "argument --dataset: 'imagenet': no dataset of that name"),
    ],
)
def test_bad_values_are_refused_by_the_parser(flags, message, capsys, no_data):
    with pytest.raises(SystemExit) as exit_info:
        main(["scalar", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
