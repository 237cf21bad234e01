"""`nnscratch mlp`: a short run on the bundled sample, and every bad input refused before any work."""

import re

import pytest

from nnscratch import cli
from nnscratch.cli import main
from nnscratch.common import backend


def test_mlp_trains_on_the_sample_printing_a_line_per_epoch_and_the_test_accuracy(capsys):
    code = main(["mlp", "--dataset", "sample", "--epochs", "2", "--hidden-sizes", "32", "--quiet", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 0
    plan = "MLP 784-32-10 (relu), 25,450 parameters; adam lr 0.001, cosine schedule, batch 64, 2 epochs; sample"
    assert plan + ": 1,500 train" in out
    assert re.search(r"^epoch 1/2  loss \d\.\d{4}  acc [\d.]+%  val_loss \d\.\d{4}  val_acc [\d.]+%  lr ", out, re.M)
    accuracy = float(re.search(r"test accuracy ([\d.]+)% \(loss [\d.]+\) after 2 epochs", out).group(1))
    assert accuracy > 60


def test_mlp_takes_every_option(capsys):
    code = main(
        "mlp --dataset sample --epochs 3 --hidden-sizes 16,8 --activations tanh,gelu --batchnorm --dropout 0.2 "
        "--optimizer sgd --lr 0.05 --momentum 0.8 --nesterov --weight-decay 1e-4 --schedule plateau --grad-clip 1 "
        "--lookahead --batch-size 32 --val-split 0.2 --early-stopping 2 --seed 3 --quiet".split()
    )
    assert code == 0
    assert "MLP 784-16-8-10 (tanh,gelu)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "loss, optimizer", [("nll", "rmsprop"), ("multi-margin", "adagrad")], ids=["nll-rmsprop", "hinge-adagrad"]
)
def test_mlp_trains_with_each_classification_loss_and_the_adaptive_optimizers(loss, optimizer, capsys, tmp_path):
    save = tmp_path / "run.npz"
    run = f"mlp --dataset sample --quiet --seed 1 --optimizer {optimizer} --lr 0.01 --hidden-sizes 16"
    code = main(f"{run} --epochs 2 --loss {loss} --save {save}".split())
    out = capsys.readouterr().out
    assert code == 0
    assert f"{optimizer} lr 0.01" in out
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert accuracy > 50  # chance is 10%: the loss and the optimizer both move the model the right way
    # the checkpoint records the loss: resuming under another one is refused, naming it
    assert main(f"{run} --epochs 3 --loss cross-entropy --resume {save}".split()) == 2
    assert f"training.loss is '{loss}' in the checkpoint, 'cross-entropy' now" in capsys.readouterr().err


def test_a_run_without_augmentation_records_none_and_cannot_resume_with_it(capsys, tmp_path):
    from nnscratch.common.checkpoint import read_checkpoint

    save, run = tmp_path / "run.npz", "mlp --dataset sample --quiet --hidden-sizes 16"
    assert main(f"{run} --epochs 1 --save {save}".split()) == 0
    training = read_checkpoint(save).metadata["training"]
    assert not [name for name in training if name.startswith("augment") or name == "no_augment"]
    assert "augment_rng" in read_checkpoint(save).state["trainer"]["generators"]
    capsys.readouterr()
    assert main(f"{run} --epochs 2 --augment-rotate 10 --resume {save}".split()) == 2
    assert "training.augment_rotate is not recorded in the checkpoint (10.0 now)" in capsys.readouterr().err
    assert main(f"{run} --epochs 2 --resume {save}".split()) == 0


def test_device_auto_without_a_gpu_says_so_and_trains_on_the_cpu(capsys, monkeypatch):
    monkeypatch.setattr(backend, "gpu_available", lambda: False)
    assert (
        main(["mlp", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "8", "--device", "auto", "--quiet"]) == 0
    )
    captured = capsys.readouterr()
    assert "--device auto found no usable GPU" in captured.err and "device cpu" in captured.out


def test_device_gpu_without_cupy_is_the_backends_message_without_a_traceback(capsys, monkeypatch):
    def no_gpu(device):
        raise RuntimeError("the GPU backend needs CuPy, which is not installed: install CuPy")

    monkeypatch.setattr(backend, "use_device", no_gpu)
    assert main(["mlp", "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert err == "nnscratch mlp: error: the GPU backend needs CuPy, which is not installed: install CuPy\n"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ("--optimizer lion", "argument --optimizer: invalid choice: 'lion'"),
        ("--loss hinge", "argument --loss: invalid choice: 'hinge'"),
        ("--schedule linear", "argument --schedule: invalid choice: 'linear'"),
        ("--hidden-sizes 256,x", "must be comma-separated integers like 256,128, got '256,x'"),
        ("--hidden-sizes 256,0", "sizes must be positive"),
        ("--dropout 1.0", "argument --dropout: must be in [0, 1), got 1.0"),
        ("--lr 0", "argument --lr: must be > 0, got 0"),
        ("--epochs -1", "argument --epochs: must be a positive integer, got -1"),
        ("--grad-clip -2", "argument --grad-clip: must be a finite number >= 0, got -2"),
        ("--device tpu", "argument --device: invalid choice: 'tpu'"),
    ],
)
def test_bad_flags_are_refused_by_argparse(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["mlp", *arguments.split()])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments, message",
    [
        ("--activations relu,tanh,gelu", "--activations: got 3 names for 2 hidden layers"),
        ("--activations swish", "--activations: unknown ['swish']; choose from: relu, leaky_relu"),
        ("--warmup-epochs 2 --schedule step", "--warmup-epochs needs --schedule cosine, got --schedule step"),
        ("--warmup-epochs 15", "--warmup-epochs (15) must be smaller than --epochs (15)"),
        ("--warmup-epochs -1", "--warmup-epochs must be >= 0, got -1"),
        ("--nesterov", "--nesterov needs --optimizer sgd and a --momentum > 0"),
        ("--optimizer sgd --momentum 0 --nesterov", "--nesterov needs --optimizer sgd and a --momentum > 0"),
        ("--early-stopping 3 --val-split 0", "--early-stopping needs validation data: --val-split > 0"),
        (
            "--loss mse",
            "--loss mse compares outputs with targets of the same shape (regression, reconstructions), not with "
            "class labels: for a classifier choose one of cross-entropy, nll, multi-margin",
        ),
        ("--loss bce-with-logits", "--loss bce-with-logits compares outputs with targets of the same shape"),
    ],
)
def test_bad_flag_combinations_are_refused_before_the_data_is_loaded(arguments, message, capsys, monkeypatch):
    monkeypatch.setattr(cli.arguments, "load_data", lambda args: pytest.fail("the data was loaded"))
    assert main(["mlp", *arguments.split()]) == 2
    assert f"nnscratch mlp: error: {message}" in capsys.readouterr().err


# the run is made to diverge on purpose: NumPy's overflow warnings on the way are expected
@pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_divergence_ends_the_run_with_its_epoch_and_batch_and_no_traceback(capsys):
    code = main("mlp --dataset sample --optimizer sgd --lr 1e4 --epochs 2 --quiet".split())
    err = capsys.readouterr().err
    assert code == 1
    assert re.search(r"nnscratch mlp: error: training diverged at epoch 1, batch \d+ of 22: ", err)
    assert "Traceback" not in err
