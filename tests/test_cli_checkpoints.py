"""`--save`, `--save-every`, `--resume`, Ctrl-C and `nnscratch evaluate`, on the bundled sample."""

import math
import re
import shlex

import numpy as np
import pytest

from nnscratch import cli
from nnscratch.cli import main
from nnscratch.common import cross_entropy
from nnscratch.common.checkpoint import read_checkpoint, save_checkpoint
from nnscratch.common.datasets import Dataset
from nnscratch.scalar import network as scalar_network
from nnscratch.vectorized.mlp import build_mlp
from tests.checkpoint_support import assert_same_state, run_python

MLP = (
    "mlp --dataset sample --epochs 4 --hidden-sizes 16 --dropout 0.2 --optimizer sgd --lr 0.05 --nesterov "
    "--schedule multistep --lookahead --batch-size 64 --seed 3 --quiet"
).split()
SCALAR = "scalar --dataset sample --limit-train 200 --hidden-sizes 8 --dropout 0.2 --quiet".split()


def test_mlp_ctrl_c_saves_the_last_complete_epoch_and_the_printed_command_finishes_the_run_exactly(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main([*MLP, "--save", "whole.npz"]) == 0
    whole_output = capsys.readouterr().out

    print_epoch = cli.output.print_epoch

    def interrupted_in_epoch_3(entry, epochs):
        if entry["epoch"] == 3:
            raise KeyboardInterrupt  # as if Ctrl-C came at the end of epoch 3, before its checkpoint copy
        print_epoch(entry, epochs)

    monkeypatch.setattr(cli.output, "print_epoch", interrupted_in_epoch_3)
    assert main([*MLP, "--save", "run.npz"]) == 130
    err = capsys.readouterr().err
    assert "interrupted during epoch 3: saved the state after epoch 2 to run.npz\nresume with:\n" in err
    assert read_checkpoint(tmp_path / "run.npz").epoch == 2
    command = shlex.split(err.strip().splitlines()[-1])
    assert command == ["nnscratch", *MLP, "--save", "run.npz", "--resume", "run.npz"]

    resumed = run_python("-m", "nnscratch", *command[1:], cwd=tmp_path)
    assert "resuming run.npz: 2 of 4 epochs done" in resumed.stdout and "epoch 3/4" in resumed.stdout
    expected, state = read_checkpoint(tmp_path / "whole.npz").state, read_checkpoint(tmp_path / "run.npz").state
    for part in ("model", "model_extra", "optimizer", "schedule"):
        assert_same_state(state[part], expected[part], part)
    accuracy = re.compile(r"test accuracy [\d.]+% \(loss [\d.]+\) after 4 epochs")
    assert accuracy.search(resumed.stdout).group() == accuracy.search(whole_output).group()


def test_without_save_ctrl_c_saves_to_a_file_named_after_the_run_and_its_time(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def interrupt(entry, epochs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.output, "print_epoch", interrupt)
    assert main([*SCALAR, "--epochs", "2"]) == 130
    (saved,) = tmp_path.glob("scalar-interrupted-*.npz")  # named after the run and the time: no run overwrites another
    assert re.fullmatch(r"scalar-interrupted-\d{8}-\d{6}\.npz", saved.name)
    assert f"saved the state after epoch 0 to {saved.name}" in capsys.readouterr().err
    assert read_checkpoint(saved).epoch == 0


def test_scalar_saves_resumes_and_a_finished_run_trains_no_more(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*SCALAR, "--epochs", "2", "--save", "s.npz"]) == 0
    assert "checkpoint: s.npz (after epoch 2)" in capsys.readouterr().out
    assert main([*SCALAR, "--epochs", "3", "--save", "s.npz", "--resume", "s.npz"]) == 0
    out = capsys.readouterr().out
    assert "resuming s.npz: 2 of 3 epochs done" in out and "epoch 3/3" in out and "epoch 2/3" not in out
    final = re.search(r"test accuracy [\d.]+% .* after 3 epochs", out).group()
    assert main([*SCALAR, "--epochs", "3", "--resume", "s.npz"]) == 0
    out = capsys.readouterr().out
    assert "epoch 3/3" not in out and final in out


def test_resuming_with_other_flags_names_every_difference_before_loading_the_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*MLP, "--epochs", "1", "--save", "run.npz"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(cli.arguments, "load_data", lambda args: pytest.fail("the data was loaded"))
    changed = [*MLP, "--hidden-sizes", "8", "--lr", "0.01", "--resume", "run.npz"]
    assert main(changed) == 2
    assert capsys.readouterr().err == (
        "nnscratch mlp: error: run.npz: saved with a different architecture or options: architecture.hidden_sizes "
        "is [16] in the checkpoint, [8] now; training.lr is 0.05 in the checkpoint, 0.01 now\n"
    )
    (tmp_path / "notes.npz").write_text("not a checkpoint")
    assert main([*MLP, "--resume", "notes.npz"]) == 2
    assert "nnscratch mlp: error: notes.npz: not a checkpoint (not an .npz archive" in capsys.readouterr().err


@pytest.mark.parametrize("command", [MLP, SCALAR])
@pytest.mark.parametrize(
    "flags, message",
    [
        ("--epochs 0", "argument --epochs: must be a positive integer, got 0"),
        ("--batch-size 0", "argument --batch-size: must be a positive integer, got 0"),
        ("--val-split 1", "argument --val-split: must be in [0, 1), got 1"),
        ("--val-split -0.1", "argument --val-split: must be in [0, 1), got -0.1"),
        ("--resume missing.npz", "argument --resume: no such file: missing.npz"),
        ("--save-every 0 --save run.npz", "argument --save-every: must be a positive integer, got 0"),
    ],
)
def test_bad_values_are_refused_before_any_work(command, flags, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.arguments, "load_data", lambda args: pytest.fail("the data was loaded"))
    with pytest.raises(SystemExit) as exit_info:
        main([*command, *flags.split()])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("command", [MLP, SCALAR])
def test_save_every_without_save_is_refused_before_any_work(command, monkeypatch, capsys):
    monkeypatch.setattr(cli.arguments, "load_data", lambda args: pytest.fail("the data was loaded"))
    assert main([*command, "--save-every", "2"]) == 2
    assert "error: --save-every needs --save PATH" in capsys.readouterr().err


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    forward, calls = cross_entropy.CrossEntropyLoss.forward, []

    def infinite_in_epoch_2(self, logits, targets):
        calls.append(1)  # epoch 1 is 22 training batches and one validation batch
        return forward(self, logits, targets) * (np.inf if len(calls) == 30 else 1.0)

    monkeypatch.setattr(cross_entropy.CrossEntropyLoss, "forward", infinite_in_epoch_2)
    assert main([*MLP, "--save", "run.npz", "--save-every", "1"]) == 1
    err = capsys.readouterr().err
    assert "nnscratch mlp: error: training diverged at epoch 2, batch 7 of 22: the loss became NaN or infinite" in err
    assert "nothing of that epoch was saved: the last good checkpoint is run.npz (epoch 1)" in err
    assert read_checkpoint(tmp_path / "run.npz").epoch == 1


def test_the_scalar_command_stops_on_divergence_too_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    loss_of_one_sample, calls = scalar_network.cross_entropy, []

    def infinite_in_epoch_2(logits, target):
        calls.append(1)  # epoch 1 is 180 training samples and 20 validation samples
        loss, grad = loss_of_one_sample(logits, target)
        return (math.inf if len(calls) == 250 else loss), grad

    monkeypatch.setattr(scalar_network, "cross_entropy", infinite_in_epoch_2)
    assert main([*SCALAR, "--epochs", "3", "--save", "run.npz", "--save-every", "1"]) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"nnscratch scalar: error: training diverged at epoch 2, batch \d+ of \d+: the loss became NaN", err
    )
    assert "nothing of that epoch was saved: the last good checkpoint is run.npz (epoch 1)" in err
    assert read_checkpoint(tmp_path / "run.npz").epoch == 1


@pytest.mark.parametrize("command", [MLP, SCALAR])
def test_evaluate_rebuilds_the_model_from_the_metadata_alone(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--epochs", "2", "--save", "run.npz"]) == 0
    trained = float(re.search(r"test accuracy ([\d.]+)%", capsys.readouterr().out).group(1))
    assert main(["evaluate", "run.npz", "--plots", "plots"]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy {trained:.2f}% on 500 sample images" in out
    assert re.search(r"per-class accuracy: T-shirt/top [\d.]+%, Trouser [\d.]+%", out)
    matrix = out.split("confusion matrix (rows: true class, columns: predicted class):\n")[1].splitlines()
    assert matrix[0].split() == [str(i) for i in range(10)] and matrix[1].startswith("0 T-shirt/top")
    assert sum(int(count) for row in matrix[1:11] for count in row.split()[-10:]) == 500
    assert sorted(path.name for path in (tmp_path / "plots").iterdir()) == [
        "confusion_matrix.png",
        "curves.png",
        "misclassified.png",
        "samples.png",
    ]


def test_evaluate_explains_what_it_cannot_use(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    save_checkpoint("bare.npz", build_mlp(784, [4], 10))
    assert main(["evaluate", "bare.npz"]) == 2
    assert "bare.npz: its metadata records no architecture and dataset, so the model cannot be rebuilt" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["evaluate", "missing.npz"])
    assert "argument PATH: no such file: missing.npz" in capsys.readouterr().err

    assert main([*MLP, "--epochs", "1", "--save", "run.npz"]) == 0
    images = np.zeros((2, 3, 32, 32), np.uint8)
    colour = Dataset("cifar10", images, np.zeros(2, np.int64), images, np.zeros(2, np.int64), ("a", "b"), "here")
    monkeypatch.setattr(cli.arguments, "load_data", lambda args: colour)
    assert main(["evaluate", "run.npz", "--dataset", "cifar10"]) == 2
    assert "run.npz was trained on sample ([1, 28, 28] images, 10 classes); cifar10 has [3, 32, 32] images and 2 " in (
        capsys.readouterr().err
    )


def test_the_resume_command_replaces_any_resume_flag_and_quotes_paths():
    argv = ["mlp", "--resu", "old.npz", "--save=run.npz", "--resume=older.npz", "--epochs", "4"]
    assert cli.resume_command(argv, "my runs/run.npz") == (
        "nnscratch mlp --save=run.npz --epochs 4 --resume 'my runs/run.npz'"
    )
