"""A run that is stopped from outside, or that diverges, loses nothing that was finished."""

import re
import shlex
import signal
import subprocess
import sys

import numpy as np
import pytest

from nnscratch import cli
from nnscratch.cli import main
from nnscratch.common import cross_entropy
from nnscratch.common.checkpoint import read_checkpoint

from .support import cli_environment

MLP = "mlp --dataset sample --hidden-sizes 16 --batch-size 64 --seed 1 --quiet".split()


def test_sigterm_saves_the_last_complete_epoch_and_prints_the_resume_command(tmp_path):
    command = [sys.executable, "-m", "nnscratch", *MLP, "--epochs", "500", "--save", "run.npz"]
    env = cli_environment(tmp_path)
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as run:
        for line in run.stdout:
            if line.startswith("epoch   2/500"):
                break  # two epochs done: the run is well inside its training loop
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 143, stderr
    assert "Traceback" not in stderr
    saved = re.search(r"terminated during epoch (\d+): saved the state after epoch (\d+) to run.npz", stderr)
    # the signal may land before the second epoch's checkpoint copy was taken: then epoch 1 is the last complete one
    assert saved and int(saved.group(1)) == int(saved.group(2)) + 1 >= 2
    assert read_checkpoint(tmp_path / "run.npz").epoch == int(saved.group(2))
    resume = shlex.split(stderr.strip().splitlines()[-1])
    assert resume[:2] == ["nnscratch", "mlp"] and resume[-2:] == ["--resume", "run.npz"]


@pytest.fixture
def loss_infinite_at_call(monkeypatch):
    """``loss_infinite_at_call(n)``: the n-th call of the cross-entropy loss returns infinity."""

    def make(call_number: int) -> None:
        forward, calls = cross_entropy.CrossEntropyLoss.forward, []

        def infinite_once(self, logits, targets):
            calls.append(1)
            return forward(self, logits, targets) * (np.inf if len(calls) == call_number else 1.0)

        monkeypatch.setattr(cross_entropy.CrossEntropyLoss, "forward", infinite_once)

    return make


def test_divergence_with_save_writes_the_last_good_epoch(tmp_path, monkeypatch, capsys, loss_infinite_at_call):
    monkeypatch.chdir(tmp_path)
    loss_infinite_at_call(60)  # an epoch is 22 training batches and 1 validation batch: this is in epoch 3
    assert main([*MLP, "--epochs", "5", "--save", "run.npz"]) == 1
    err = capsys.readouterr().err
    assert "nnscratch mlp: error: training diverged at epoch 3" in err
    assert "saved the state after epoch 2, the last good one, to run.npz" in err
    assert read_checkpoint(tmp_path / "run.npz").epoch == 2
    assert shlex.split(err.strip().splitlines()[-1])[-2:] == ["--resume", "run.npz"]


def test_divergence_in_the_first_epoch_writes_nothing(tmp_path, monkeypatch, capsys, loss_infinite_at_call):
    monkeypatch.chdir(tmp_path)
    loss_infinite_at_call(3)
    assert main([*MLP, "--epochs", "5", "--save", "run.npz"]) == 1
    assert "training diverged at epoch 1" in capsys.readouterr().err
    assert not (tmp_path / "run.npz").exists()  # no epoch finished: there is nothing good to keep


def test_weights_that_went_non_finite_are_never_saved_as_the_last_good_epoch(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    print_epoch = cli.output.print_epoch

    def poison_after_epoch_1(entry, epochs):
        print_epoch(entry, epochs)
        if entry["epoch"] == 1:  # the weights break after the epoch's last step, before its checkpoint copy
            poisoned["model"].parameters()[0].data[...] = np.nan

    poisoned = {}
    build = cli.mlp.MLPRun.build

    def build_and_remember(self, dataset, record):
        build(self, dataset, record)
        poisoned["model"] = self.model

    monkeypatch.setattr(cli.mlp.MLPRun, "build", build_and_remember)
    monkeypatch.setattr(cli.output, "print_epoch", poison_after_epoch_1)
    with np.errstate(invalid="ignore", over="ignore"):
        assert main([*MLP, "--epochs", "3", "--save", "run.npz"]) == 1
    err = capsys.readouterr().err
    assert "training diverged at epoch 2" in err
    assert "the weights after epoch 1 hold NaN or infinity: that state is not kept" in err
    assert not (tmp_path / "run.npz").exists()


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_debug_shows_the_traceback_that_the_one_line_error_hides(cli, tmp_path, how):
    (tmp_path / "notes.npz").write_text("not a checkpoint")
    plain = cli("mlp", "--dataset", "sample", "--resume", "notes.npz")
    debug = (
        cli("mlp", "--dataset", "sample", "--resume", "notes.npz", "--debug")
        if how == "flag"
        else cli("mlp", "--dataset", "sample", "--resume", "notes.npz", NNSCRATCH_DEBUG="1")
    )
    assert "Traceback" not in plain.stderr and plain.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr and "CheckpointError" in debug.stderr


def test_a_disk_error_while_saving_after_training_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    from nnscratch.common import autosave

    monkeypatch.chdir(tmp_path)

    def disk_full(path, state, metadata):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(autosave, "write_checkpoint", disk_full)
    assert main([*MLP, "--epochs", "1", "--save", "run.npz"]) == 1
    err = capsys.readouterr().err
    assert err == "nnscratch mlp: error: run.npz: No space left on device\n"


def test_ctrl_c_while_the_data_loads_is_one_line_and_exit_130(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.arguments, "load_data", interrupted)
    assert main([*MLP, "--epochs", "1"]) == 130
    assert capsys.readouterr().err.strip() == "nnscratch mlp: interrupted"


def test_a_bug_in_nnscratch_is_one_line_that_asks_for_a_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def broken(args):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(cli.arguments, "load_data", broken)
    assert main([*MLP, "--epochs", "1"]) == 1
    assert capsys.readouterr().err == (
        "nnscratch mlp: error: internal error (TypeError: unsupported operand); "
        "please report it with the output of --debug\n"
    )
