"""``python -m benchmarks.accuracy`` on the bundled sample: both libraries train the recipe, the report holds both."""

import pytest

from benchmarks import accuracy
from scripts.docsgen.reports import ACCURACY_FILE, load_report


def test_a_quick_run_trains_both_sides_and_writes_a_report_the_docs_accept(tmp_path, capsys, restore_torch_threads):
    argv = ["--quick", "--models", "mlp", "--pause", "0", "--report-dir", str(tmp_path)]
    assert accuracy.main(argv) == 0
    (result,) = load_report(ACCURACY_FILE, tmp_path)["results"]
    assert (result["model"], result["dataset"], result["epochs"]) == ("mlp", "sample", 1)
    assert set(result["test_accuracy"]) == set(result["seconds"]) == set(result["final_val_accuracy"])
    assert result["recipe"]["optimizer"] == "adam" and result["recipe"]["augmentation"] == "none"
    assert all(seconds > 0 for seconds in result["seconds"].values())
    assert "| mlp | sample | 1 |" in (tmp_path / "accuracy.md").read_text()
    assert "epoch 1/1  nnscratch loss" in capsys.readouterr().out


@pytest.mark.slow
def test_without_dropout_both_libraries_reach_the_same_test_accuracy(restore_torch_threads):
    """LeNet has no dropout: with the same weights, batches and updates, the two runs are the same run."""
    from nnscratch.common.datasets import load_dataset

    result = accuracy.train_both("lenet", load_dataset("sample"), epochs=1, pause=0)
    ours, theirs = result["test_accuracy"]["nnscratch"], result["test_accuracy"]["pytorch"]
    assert abs(ours - theirs) <= 0.01  # 5 of the 500 test images: float32 rounding may flip a few
    assert result["final_val_accuracy"]["nnscratch"] == pytest.approx(result["final_val_accuracy"]["pytorch"], abs=0.02)


def test_quick_defaults_to_the_sample_and_one_epoch_and_can_be_overridden():
    quick = accuracy.parse_arguments(["--quick"])
    assert (quick.dataset, quick.epochs) == ("sample", 1)
    chosen = accuracy.parse_arguments(["--quick", "--dataset", "mnist", "--epochs", "2"])
    assert (chosen.dataset, chosen.epochs) == ("mnist", 2)
    full = accuracy.parse_arguments([])
    assert (full.dataset, full.epochs, full.models) == ("fashion-mnist", None, ["mlp", "lenet", "baseline"])


def test_a_negative_pause_is_refused(capsys):
    with pytest.raises(SystemExit):
        accuracy.parse_arguments(["--pause", "-0.5"])
    assert "argument --pause: must be a finite number >= 0, got -0.5" in capsys.readouterr().err
