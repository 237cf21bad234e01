"""Output paths (--save, --plots, --report, --tensorboard) that cannot be written are refused before training.

Tests run as root, where permission bits do not stop a writer: the unwritable places used here
are read-only file systems (/proc, /sys), missing folders, files where folders belong, and the
reverse.
"""

import os
import time

import pytest

from .support import assert_no_training_started, assert_refused

TRAIN = ("train", "lenet", "--dataset", "sample", "--epochs", "1", "--quiet")
MLP = ("mlp", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "8", "--quiet")
SCALAR = ("scalar", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "4", "--limit-train", "100", "--quiet")


@pytest.fixture
def places(tmp_path):
    """A folder, a plain file and a file that only looks like a checkpoint, in the test's folder."""
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "notes.txt").write_text("my notes, not a checkpoint")
    (tmp_path / "fake.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return tmp_path


# (id, command, flag, path, words the error line must contain besides the flag)
CASES = [
    ("train-save-in-proc", TRAIN, "--save", "/proc/run.npz", ["/proc"]),
    ("mlp-save-in-proc", MLP, "--save", "/proc/run.npz", ["/proc"]),
    ("scalar-save-in-proc", SCALAR, "--save", "/proc/run.npz", ["/proc"]),
    ("train-save-in-sys", TRAIN, "--save", "/sys/run.npz", ["/sys"]),
    ("train-save-missing-folder", TRAIN, "--save", "no-such-folder/run.npz", ["no-such-folder", "does not exist"]),
    ("mlp-save-deep-missing-folder", MLP, "--save", "a/b/c/run.npz", ["a/b/c", "does not exist"]),
    ("train-save-is-a-folder", TRAIN, "--save", "a-folder", ["a-folder", "is a folder"]),
    ("scalar-save-is-a-folder", SCALAR, "--save", "a-folder", ["a-folder", "is a folder"]),
    ("train-save-over-a-text-file", TRAIN, "--save", "notes.txt", ["notes.txt", "not an nnscratch checkpoint"]),
    ("mlp-save-over-a-fake-npz", MLP, "--save", "fake.npz", ["fake.npz", "not an nnscratch checkpoint"]),
    ("mlp-save-over-dev-null", MLP, "--save", "/dev/null", ["/dev/null"]),
    ("train-save-under-a-file", TRAIN, "--save", "notes.txt/run.npz", ["notes.txt", "is not a folder"]),
    ("train-save-empty", TRAIN, "--save", "", ["empty"]),
    ("mlp-save-blank", MLP, "--save", "   ", ["empty"]),
    ("train-plots-is-a-file", TRAIN, "--plots", "notes.txt", ["notes.txt", "is a file"]),
    ("mlp-plots-is-a-file", MLP, "--plots", "notes.txt", ["notes.txt", "is a file"]),
    ("train-plots-in-proc", TRAIN, "--plots", "/proc/plots", ["/proc/plots"]),
    ("mlp-plots-in-sys", MLP, "--plots", "/sys/plots", ["/sys/plots"]),
    ("train-plots-under-a-file", TRAIN, "--plots", "notes.txt/plots", ["notes.txt/plots"]),
    ("train-plots-empty", TRAIN, "--plots", "", ["empty"]),
    ("train-report-is-a-file", TRAIN, "--report", "notes.txt", ["notes.txt", "is a file"]),
    ("scalar-report-in-proc", SCALAR, "--report", "/proc/report", ["/proc/report"]),
    ("mlp-report-empty", MLP, "--report", "", ["empty"]),
    ("mlp-tensorboard-in-sys", MLP, "--tensorboard", "/sys/tb", ["/sys/tb"]),
    ("train-tensorboard-under-a-file", TRAIN, "--tensorboard", "notes.txt/tb", ["notes.txt/tb"]),
]


@pytest.mark.parametrize(
    ("command", "flag", "path", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_an_output_path_that_cannot_be_written_is_refused_before_training(cli, places, command, flag, path, words):
    result = cli(*command, f"{flag}={path}")
    assert_refused(result, flag, *words)
    assert_no_training_started(result)


def test_evaluate_refuses_plots_it_cannot_write_before_reading_the_checkpoint(cli, places):
    (places / "run.npz").write_bytes(b"")  # never read: the --plots check comes first
    assert_refused(cli("evaluate", "run.npz", "--plots", "/proc/plots"), "--plots", "/proc/plots")


def test_a_bad_save_path_is_refused_in_about_a_second_before_any_data_is_read(cli, tmp_path):
    # the full Fashion-MNIST through --data-dir would take seconds to read: the refusal must not wait for it
    started = time.monotonic()
    result = cli("train", "lenet", "--epochs", "50", "--save", "/proc/run.npz")
    seconds = time.monotonic() - started
    assert_refused(result, "--save", "/proc")
    assert_no_training_started(result)
    assert "warning" not in result.stderr  # no dataset lookup happened (it warns when it falls back)
    print(f"refused in {seconds:.2f} s")  # shown with pytest -s; the closing note quotes it


def test_a_missing_plots_folder_is_created_and_filled(cli, tmp_path):
    result = cli(*MLP, "--plots", "new/plots")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "new" / "plots").iterdir()) == [
        "confusion_matrix.png",
        "curves.png",
        "misclassified.png",
        "samples.png",
    ]


def test_plots_replace_a_planted_symlink_instead_of_writing_through_it(cli, tmp_path):
    (tmp_path / "plots").mkdir()
    victim = tmp_path / "precious.txt"
    victim.write_text("must survive")
    os.symlink(victim, tmp_path / "plots" / "curves.png")
    result = cli(*MLP, "--plots", "plots")
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "must survive"
    curves = tmp_path / "plots" / "curves.png"
    assert not curves.is_symlink() and curves.read_bytes().startswith(b"\x89PNG")
    assert not list((tmp_path / "plots").glob("*.part"))  # no temporary file left behind
