"""`nnscratch train` resumes exactly (2 epochs, Ctrl-C, a new process, 2 more == 4 epochs in one go), and every
architecture reloads into the same predictions."""

import shlex

import numpy as np
import pytest

from nnscratch import cli
from nnscratch.cli import main
from nnscratch.common.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import ARCHITECTURES, build
from tests.checkpoint_support import assert_same_state, run_python
from tests.convolutional.test_architectures import OVERFIT_OPTIONS, randomize_statistics

COMMON = "--dataset sample --epochs 4 --batch-size 64 --seed 5 --quiet".split()
RECIPES = {
    # augmentation with its own generator, SGD with Nesterov momentum, the multistep drops
    "lenet-sgd-nesterov-multistep-shift-cutout": "lenet --optimizer sgd --lr 0.05 --nesterov --schedule multistep "
    "--augment-cutout 6",
    # dropout masks, Adam under Lookahead, cosine with warmup, rotation + CutMix
    "baseline-adam-lookahead-cosine-warmup-dropout": "baseline --option width=4 --optimizer adam --lr 0.003 "
    "--lookahead --schedule cosine --warmup-epochs 1 --augment-rotate 10 --augment-cutmix 1.0",
}


@pytest.mark.parametrize("recipe", RECIPES)
def test_interrupted_after_two_epochs_and_resumed_in_a_new_process_equals_four_epochs_in_one_run(
    recipe, tmp_path, monkeypatch, capsys
):
    command = ["train", *RECIPES[recipe].split(), *COMMON]
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--save", "whole.npz"]) == 0
    capsys.readouterr()

    print_epoch = cli.output.print_epoch

    def interrupted_in_epoch_3(entry, epochs):
        if entry["epoch"] == 3:
            raise KeyboardInterrupt
        print_epoch(entry, epochs)

    monkeypatch.setattr(cli.output, "print_epoch", interrupted_in_epoch_3)
    assert main([*command, "--save", "run.npz"]) == 130
    resume = shlex.split(capsys.readouterr().err.strip().splitlines()[-1])
    assert read_checkpoint(tmp_path / "run.npz").epoch == 2

    resumed = run_python("-m", "nnscratch", *resume[1:], cwd=tmp_path)
    assert "resuming run.npz: 2 of 4 epochs done" in resumed.stdout
    expected, state = read_checkpoint(tmp_path / "whole.npz").state, read_checkpoint(tmp_path / "run.npz").state
    for part in ("model", "model_extra", "optimizer", "schedule", "trainer"):
        if part == "trainer":  # wall-clock fields differ between runs; everything else must not
            for entry in (*state[part]["history"], *expected[part]["history"]):
                entry.pop("seconds"), entry.pop("samples_per_s")
        assert_same_state(state[part], expected[part], part)


def test_evaluate_rebuilds_a_cnn_from_its_checkpoint_and_predicts_what_training_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "lenet", "--dataset", "sample", "--epochs", "1", "--quiet", "--save", "run.npz"]) == 0
    trained = capsys.readouterr().out
    reported = next(line for line in trained.splitlines() if line.startswith("test accuracy")).split()[2]
    assert main(["evaluate", "run.npz", "--dataset", "sample", "--plots", "plots"]) == 0
    evaluated = capsys.readouterr().out
    assert f"test accuracy {reported} on 500 sample images" in evaluated
    assert (tmp_path / "plots" / "confusion_matrix.png").is_file()


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_predicts_the_same_after_a_save_and_a_load_into_a_rebuilt_model(name, tmp_path):
    options = OVERFIT_OPTIONS[name]  # the slim variants: the same layers, fewer channels
    model = build(name, 1, 10, 28, **options)
    randomize_statistics(model, seed=7)
    x = np.random.default_rng(8).standard_normal((6, 1, 28, 28)).astype(np.float32)
    model.eval()
    before = model.forward(x)
    save_checkpoint(tmp_path / "model.npz", model, metadata={"architecture": model.architecture})
    manual_seed(123)  # a different initialisation: only the checkpoint can make them agree
    architecture = read_checkpoint(tmp_path / "model.npz").metadata["architecture"]
    sizes = {key: value for key, value in architecture.items() if key not in ("name", "options")}
    rebuilt = build(architecture["name"], **sizes, **architecture["options"])
    load_checkpoint(tmp_path / "model.npz", model=rebuilt)
    rebuilt.eval()
    np.testing.assert_array_equal(rebuilt.forward(x), before)
