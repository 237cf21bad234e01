"""`nnscratch reconstruct ARCH`: the image-to-image models trained from the command line, on the bundled sample."""

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.common.checkpoint import read_checkpoint

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_autoencoder_trains_prints_its_test_mse_and_draws_its_reconstructions(tmp_path, capsys):
    flags = [
        "--dataset",
        "sample",
        "--epochs",
        "2",
        "--quiet",
        "--plots",
        str(tmp_path),
        "--save",
        str(tmp_path / "ae.npz"),
    ]
    assert main(["reconstruct", "autoencoder", *flags]) == 0
    out = capsys.readouterr().out
    assert "autoencoder: 2,633 parameters, learns the image itself (mse loss" in out
    assert "adam lr 0.002" in out and "cosine schedule, batch 64, 2 epochs" in out
    assert "epoch 2/2" in out and "test reconstruction MSE 0.0" in out
    for name in ("curves.png", "reconstructions.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
    assert (tmp_path / "ae.npz").is_file()


def test_the_unet_reports_the_pixel_accuracy_and_iou_of_its_masks(capsys):
    assert main(["reconstruct", "tiny_unet", "--dataset", "sample", "--epochs", "1", "--quiet", "--lr", "0.005"]) == 0
    out = capsys.readouterr().out
    assert "learns its foreground mask (bce-with-logits loss" in out and "adam lr 0.005" in out
    assert "test masks: pixel accuracy" in out and ", IoU 0." in out


@pytest.mark.parametrize("architecture", ["autoencoder", "tiny_unet"])
def test_evaluate_rebuilds_a_reconstruct_checkpoint_and_scores_it_as_reconstruct_did(architecture, tmp_path, capsys):
    saved = str(tmp_path / "run.npz")
    assert main(["reconstruct", architecture, "--dataset", "sample", "--epochs", "1", "--quiet", "--save", saved]) == 0
    scores = capsys.readouterr().out.splitlines()[-1]
    assert main(["evaluate", saved]) == 0
    described, evaluated = capsys.readouterr().out.splitlines()
    assert described.startswith(f"{saved}: {architecture} (in_channels=1, image_size=28, options=")
    assert described.endswith("1 epoch on sample") and evaluated == scores
    assert main(["evaluate", saved, "--plots", str(tmp_path)]) == 2
    assert f"--plots: {saved} holds an image-to-image model; use reconstruct --plots" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["tiny_unet", "--option", "width=0"],
            "--option width=0: Conv2D: in_channels must be a positive integer, got 0",
        ),
        (["autoencoder", "--option", "depth=3"], "unknown option(s) ['depth']"),
        (["autoencoder", "--warmup-epochs", "2", "--schedule", "step"], "--warmup-epochs needs --schedule cosine"),
    ],
)
def test_impossible_settings_are_refused_before_any_data_is_read(argv, message, capsys, monkeypatch):
    from nnscratch import cli

    monkeypatch.setattr(cli.arguments, "load_data", lambda args: pytest.fail("the data was loaded"))
    assert main(["reconstruct", *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_run_cut_after_one_epoch_and_resumed_ends_as_the_run_in_one_go(tmp_path, capsys):
    flags = ["reconstruct", "autoencoder", "--dataset", "sample", "--quiet"]
    assert main([*flags, "--epochs", "2"]) == 0
    in_one_go = capsys.readouterr().out.splitlines()[-1]
    assert main([*flags, "--epochs", "1", "--save", str(tmp_path / "ae.npz")]) == 0
    assert main([*flags, "--epochs", "2", "--resume", str(tmp_path / "ae.npz")]) == 0
    resumed = capsys.readouterr().out.splitlines()
    assert "resuming" in "\n".join(resumed) and resumed[-1] == in_one_go
    assert in_one_go.startswith("test reconstruction MSE")


def test_a_dataset_file_of_your_own_gives_the_model_its_image_shape(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = {
        f"x_{split}": rng.integers(0, 256, (n, 3, 16, 16), dtype=np.uint8) for split, n in [("train", 40), ("test", 8)]
    }
    labels = {f"y_{split}": rng.integers(0, 2, n) for split, n in [("train", 40), ("test", 8)]}
    np.savez(tmp_path / "mine.npz", **images, **labels)
    flags = ["--dataset", str(tmp_path / "mine.npz"), "--epochs", "1", "--quiet"]
    assert main(["reconstruct", "autoencoder", *flags, "--save", str(tmp_path / "ae.npz")]) == 0
    assert "test reconstruction MSE" in capsys.readouterr().out
    assert read_checkpoint(tmp_path / "ae.npz").metadata["architecture"]["in_channels"] == 3
