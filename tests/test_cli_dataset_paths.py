"""`--dataset PATH`: the bundled sample as an .npz and as an image folder, through every command that takes
--dataset; and `nnscratch mlp --augment-*` with per-operation probabilities."""

import re

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.common.dataset_export import write_image_folder, write_npz_dataset
from nnscratch.common.datasets import load_dataset

QUICK = ["--epochs", "1", "--quiet", "--seed", "0"]


@pytest.fixture(scope="module")
def sample_forms(tmp_path_factory):
    """{"npz": path of the sample as one .npz, "folder": path of the sample as train/ and test/ PNGs}."""
    root = tmp_path_factory.mktemp("sample-forms")
    sample = load_dataset("sample")
    return {
        "npz": str(write_npz_dataset(sample, root / "sample.npz")),
        "folder": str(write_image_folder(sample, root / "sample-images")),
    }


def accuracy_in(output: str) -> float:
    """The test accuracy (%) a run printed."""
    return float(re.search(r"test accuracy ([\d.]+)%", output).group(1))


@pytest.mark.parametrize("form", ["npz", "folder"])
def test_one_epoch_of_mlp_learns_the_sample_from_either_form(sample_forms, form, capsys):
    assert main(["mlp", "--dataset", sample_forms[form], *QUICK]) == 0
    output = capsys.readouterr().out
    assert f"; {sample_forms[form]}: 1,500 train (10% held out for validation), 500 test" in output
    assert accuracy_in(output) > 55  # ten classes: chance is 10%
    print(f"{form}: {accuracy_in(output):.2f}% after 1 epoch")  # reported with -s


def test_evaluate_finds_the_npz_a_model_was_trained_on(sample_forms, tmp_path, capsys):
    checkpoint = str(tmp_path / "run.npz")
    assert main(["mlp", "--dataset", sample_forms["npz"], "--hidden-sizes", "16", "--save", checkpoint, *QUICK]) == 0
    capsys.readouterr()
    assert main(["evaluate", checkpoint]) == 0
    output = capsys.readouterr().out
    assert f"1 epoch on {sample_forms['npz']}" in output and "per-class accuracy: T-shirt/top" in output


def test_summary_and_train_take_their_input_shape_and_classes_from_a_path(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / "rgb.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8),  # channels last
        y_train=np.arange(8) % 4,
        x_test=rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8),
        y_test=np.arange(4),
        class_names=np.array(["a", "b", "c", "d"]),
    )
    assert main(["summary", "lenet", "--dataset", str(path)]) == 0
    output = capsys.readouterr().out
    assert "lenet on 3x32x32 images" in output and re.search(r"Linear +4 ", output)  # 4 classes out
    assert main(["train", "lenet", "--dataset", str(path), "--batch-size", "4", "--val-split", "0", *QUICK]) == 0
    assert "test accuracy" in capsys.readouterr().out


AUGMENTED = [
    "mlp", "--dataset", "sample", "--hidden-sizes", "16", "--val-split", "0", *QUICK,
    "--augment-rotate", "10", "--augment-rotate-p", "0.5", "--augment-cutmix", "1", "--augment-cutmix-p", "0.5",
]  # fmt: skip


def test_mlp_augmentation_is_described_and_reproducible_from_the_seed(capsys):
    runs = []
    for _ in range(2):
        assert main(AUGMENTED) == 0
        runs.append(capsys.readouterr().out)
    assert "; augmentation rotate 10 deg (p 0.5), CutMix alpha 1 (p 0.5); sample:" in runs[0]
    same = r"epoch 1/1  loss \S+  acc \S+|test accuracy \S+ \(loss \S+\)"  # the numbers, not the timings
    assert re.findall(same, runs[0]) == re.findall(same, runs[1])


def test_mlp_without_augment_flags_trains_as_before(capsys):
    """The default is no augmentation: the run is the one it was before the flags existed."""
    assert main(["mlp", "--dataset", "sample", "--hidden-sizes", "16", *QUICK]) == 0
    plain = capsys.readouterr().out
    assert "augmentation" not in plain
    assert main(["mlp", "--dataset", "sample", "--hidden-sizes", "16", "--augment-rotate-p", "1", *QUICK]) == 2
    assert "--augment-rotate-p 1 has no effect: --augment-rotate is off" in capsys.readouterr().err
