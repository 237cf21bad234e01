"""`nnscratch train` and `nnscratch summary`: what they refuse, before any work, and what they print."""

import re
import sys

import numpy as np
import pytest

from nnscratch import cli
from nnscratch.cli import main


@pytest.fixture
def no_data(monkeypatch):
    """Fail the test if a command gets as far as loading data: refusals must come first."""
    monkeypatch.setattr(cli.arguments, "load_data", lambda args: pytest.fail("the data was loaded"))


def test_unknown_architecture_is_refused_with_the_valid_names(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "resnet50"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'resnet50'" in err and "'lenet'" in err and "'convnext_tiny'" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--option", "image_size=12"], "--option image_size: the image size comes from --dataset"),
        (["--option", "pool=median"], "lenet: pool must be 'max' or 'avg', got 'median'"),
        (["--augment-shift", "30"], "shift=30 and cutout=0 must be smaller than the 28x28 images"),
        (["--optimizer", "adam", "--nesterov"], "--nesterov needs --optimizer sgd and a --momentum > 0"),
        (["--warmup-epochs", "2"], "--warmup-epochs needs --schedule cosine"),
        (["--save-every", "2"], "--save-every needs --save PATH"),
        (["--loss", "smooth-l1"], "--loss smooth-l1 compares outputs with targets of the same shape"),
        (
            ["--loss", "multi-margin", "--augment-cutmix", "1"],
            "only --loss cross-entropy takes, not --loss multi-margin",
        ),
    ],
)
def test_impossible_settings_are_refused_before_any_work(flags, message, capsys, no_data):
    assert main(["train", "lenet", *flags]) == 2
    assert message in capsys.readouterr().err


def test_images_that_do_not_fit_the_architecture_are_refused(capsys, no_data):
    # LeNet-5 needs 28x28 at least; cifar10's 32x32 fits, so ask for a model built for smaller input
    assert main(["train", "convnext_tiny", "--option", "stem_patch=16"]) == 2
    assert "convnext_tiny needs images of at least 128x128" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("depths=1,1,1,1", ("depths", [1, 1, 1, 1])),
        ("depths=[1,1,1,1]", ("depths", [1, 1, 1, 1])),
        ("width=16", ("width", 16)),
        ("use_se=false", ("use_se", False)),
        ("pool=avg", ("pool", "avg")),
        ("depths=1,x", ("depths", [1, "x"])),
    ],
)
def test_an_option_value_is_json_or_a_comma_separated_list_or_else_text(text, parsed):
    assert cli.arguments.key_value_option(text) == parsed


def test_comma_separated_depths_build_the_same_model_as_the_json_list(capsys):
    outputs = []
    # the first summary of a process measures a little more workspace (tracemalloc also sees the
    # caches Python and NumPy fill on first use), so both compared runs come after a first one
    for value in ("depths=1,1,1,1", "depths=1,1,1,1", "depths=[1,1,1,1]"):
        assert main(["summary", "convnext_tiny", "--option", value, "--option", "widths=8,16,32,64"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[1] == outputs[2] and outputs[2].count(" DepthwiseConv2D ") == 4  # one block per stage


def test_a_comma_separated_option_with_a_bad_item_is_one_clear_line(capsys):
    assert main(["summary", "convnext_tiny", "--option", "depths=1,1,x,1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "--option depths=1,1,\"x\",1: build('convnext_tiny'): option depths must be a list of integers" in error


@pytest.mark.parametrize(("flags", "message"), [(["--epochs", "0"], "must be a positive integer, got 0")])
def test_bad_values_stop_argparse(flags, message, capsys):
    with pytest.raises(SystemExit):
        main(["train", "lenet", *flags])
    assert message in capsys.readouterr().err


def test_gpu_without_cupy_is_a_clear_error_not_a_traceback(monkeypatch, capsys, no_data):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert main(["train", "lenet", "--device", "gpu"]) == 2
    assert "nnscratch train: error: the GPU backend needs CuPy, which is not installed" in capsys.readouterr().err


def test_auto_device_falls_back_to_the_cpu_with_a_note_and_the_plan_says_1_epoch(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert main(["train", "lenet", "--dataset", "sample", "--epochs", "1", "--device", "auto", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "--device auto found no usable GPU" in captured.err and "device cpu" in captured.out
    assert ", 1 epoch;" in captured.out and "after 1 epoch:" in captured.out and "1 epochs" not in captured.out


def test_a_short_run_prints_every_epoch_the_test_report_and_writes_the_plots(tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["train", "lenet", "--dataset", "sample", "--epochs", "2", "--quiet", "--plots", str(plots)]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out and "test accuracy" in out and "per-class accuracy" in out
    assert sorted(p.name for p in plots.iterdir()) == [
        "confusion_matrix.png",
        "curves.png",
        "misclassified.png",
        "samples.png",
    ]


def test_lenet_three_epochs_on_the_sample_with_the_default_recipe_reaches_55_percent(capsys):
    # the 3-epoch run of getting-started: the multistep drops stay off below 4 epochs, and it trains
    assert main(["train", "lenet", "--epochs", "3", "--dataset", "sample", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "multistep schedule (constant: fewer than 4 epochs), batch 32, 3 epochs;" in out
    assert re.findall(r"  lr ([\d.e+-]+)  ", out) == ["2.00e-02"] * 3
    assert float(re.search(r"test accuracy ([\d.]+)% ", out).group(1)) >= 55


def test_summary_lists_every_layer_and_the_totals(capsys):
    assert main(["summary", "lenet"]) == 0
    out = capsys.readouterr().out
    assert "lenet on 1x28x28 images" in out and "Conv2D" in out and "61,706" in out
    assert main(["summary", "resnet18", "--dataset", "cifar10", "--batch-size", "2"]) == 0
    assert "resnet18 on 3x32x32 images" in capsys.readouterr().out


def test_the_reference_convolution_trains_lenet_to_the_same_loss_curve_as_auto(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    losses = {}
    for algorithm in ("auto", "im2col"):
        command = ["train", "lenet", "--dataset", "sample", "--epochs", "2", "--quiet", "--conv-algorithm", algorithm]
        assert main(command) == 0
        losses[algorithm] = [float(loss) for loss in re.findall(r"  loss ([\d.]+)", capsys.readouterr().out)]
    assert len(losses["auto"]) == 2
    np.testing.assert_allclose(losses["im2col"], losses["auto"], rtol=1e-4)  # float32 rounding, printed to 4 places


def test_a_conv_algorithm_that_cannot_compute_a_layer_is_refused_before_the_data(capsys, no_data):
    assert main(["train", "resnet18", "--conv-algorithm", "winograd"]) == 2
    assert "algorithm 'winograd' needs a 3x3 kernel, stride 1, dilation 1 and groups 1" in capsys.readouterr().err
