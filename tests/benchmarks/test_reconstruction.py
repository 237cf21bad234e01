"""``python -m benchmarks.reconstruction`` on the bundled sample: both libraries train the recipe to the same scores."""

import pytest

from benchmarks import reconstruction
from scripts.docsgen.reports import RECONSTRUCTION_FILE, ReportError, load_report


def test_a_quick_run_trains_both_sides_alike_and_writes_a_report_the_docs_accept(
    tmp_path, capsys, restore_torch_threads
):
    argv = ["--quick", "--models", "autoencoder", "--pause", "0", "--threads", "1", "--report-dir", str(tmp_path)]
    assert reconstruction.main(argv) == 0
    (result,) = load_report(RECONSTRUCTION_FILE, tmp_path)["results"]
    assert (result["model"], result["dataset"], result["epochs"]) == ("autoencoder", "sample", 1)
    mse = result["scores"]["mse"]
    # the same weights, batches, updates and loss: the same run, up to float32 rounding
    assert mse["nnscratch"] == pytest.approx(mse["pytorch"], rel=1e-3)
    assert result["recipe"]["loss"] == "mse" and result["recipe"]["optimizer"] == "adam"
    assert "| autoencoder | sample | 1 | test MSE |" in (tmp_path / "reconstruction.md").read_text()
    assert "epoch 1/1  nnscratch loss" in capsys.readouterr().out


def test_the_unet_scores_its_masks_alike_in_both_libraries(restore_torch_threads):
    from nnscratch.common.datasets import load_dataset

    result = reconstruction.train_both("tiny_unet", load_dataset("sample"), epochs=1, pause=0)
    assert set(result["scores"]) == {"pixel_accuracy", "iou"}
    for name, values in result["scores"].items():
        assert values["nnscratch"] == pytest.approx(values["pytorch"], abs=1e-3), name


def test_a_report_with_an_unknown_score_stops_the_docs_build(tmp_path):
    (tmp_path / RECONSTRUCTION_FILE).write_text(
        '{"results": [{"model": "autoencoder", "scores": {"psnr": {"nnscratch": 20.0}}}]}'
    )
    with pytest.raises(ReportError, match=r"results\[0\] \(autoencoder\)\.scores: unknown score 'psnr'"):
        load_report(RECONSTRUCTION_FILE, tmp_path)
