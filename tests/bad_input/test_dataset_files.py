"""Bad dataset folders and files, through the real ``nnscratch`` command: refused in one line, before training.

Every case builds its (small) bad input under the test's folder, runs a training command or
``nnscratch datasets`` in a child process, and checks the one error line names the file or
folder at fault, exit code 2, and that no training began. The datasets used are ``mnist`` and
``cifar10``, which the isolated child environment does not hold anywhere else, and
``fashion-mnist`` only where the error fires before the system's copy could be looked at.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.dataset_support import (
    cifar_batch,
    gzip_bomb,
    idx_header,
    idx_path,
    make_cifar_dataset,
    make_idx_dataset,
    make_image_folder,
    write_npz,
    write_npz_declaring,
    write_png,
)

from .support import assert_no_training_started, assert_refused, cli_environment

COMMANDS = {
    "mlp": ("mlp", "--epochs", "1"),
    "lenet": ("train", "lenet", "--epochs", "1"),
    "scalar": ("scalar", "--epochs", "1"),
}


def command(kind: str, dataset: str, data_dir: Path | None) -> list[str]:
    """The arguments of a run on ``dataset`` from ``data_dir``: a training command, or ``datasets``.

    For ``datasets``, which lists every dataset, a tiny good Fashion-MNIST is put in ``data_dir``
    when it is a folder without one, so the listing never depends on (or spends half a second
    reading) a copy installed on the machine.
    """
    folder = [] if data_dir is None else ["--data-dir", str(data_dir)]
    if kind == "datasets":
        if data_dir is not None and data_dir.is_dir() and not (data_dir / "fashion-mnist").exists():
            make_idx_dataset(data_dir / "fashion-mnist")
        return ["datasets", *folder]
    return [*COMMANDS[kind], "--dataset", dataset, *folder]


def check_refused(result, *words: str) -> None:
    assert_refused(result, *words)
    assert_no_training_started(result)


# ----------------------------------------------------------------------------- folders


def remove_roles(folder: Path, *roles: str) -> Path:
    """A complete tiny mnist in ``folder`` less the IDX files of ``roles``; the folder."""
    make_idx_dataset(folder)
    for role in roles:
        idx_path(folder, role).unlink()
    return folder


FOLDER_CASES = {
    # id: (command kind, dataset, build(root) -> (data_dir or None, extra env, words the error names))
    "data-dir-missing-mlp": ("mlp", "mnist", lambda root: (root / "nowhere", {}, [str(root / "nowhere"), "no such"])),
    "data-dir-missing-fashion-mnist": (
        "lenet",
        "fashion-mnist",
        lambda root: (root / "typo", {}, ["--data-dir", str(root / "typo")]),
    ),
    "data-dir-missing-datasets": ("datasets", "", lambda root: (root / "gone", {}, [str(root / "gone")])),
    "data-dir-is-a-file": ("mlp", "mnist", lambda root: (write_file(root / "mnist.zip"), {}, ["mnist.zip", "file"])),
    "data-dir-is-a-file-datasets": ("datasets", "", lambda root: (write_file(root / "data.txt"), {}, ["data.txt"])),
    "env-missing": ("mlp", "mnist", lambda root: (None, {"NNSCRATCH_DATA": str(root / "nope")}, ["$NNSCRATCH_DATA"])),
    "env-is-a-file": (
        "lenet",
        "cifar10",
        lambda root: (None, {"NNSCRATCH_DATA": str(write_file(root / "cifar.tgz"))}, ["cifar.tgz"]),
    ),
    "env-missing-datasets": (
        "datasets",
        "",
        lambda root: (None, {"NNSCRATCH_DATA": str(root / "x")}, [str(root / "x")]),
    ),
    "empty-data-dir-and-nowhere-else": (
        "mlp",
        "mnist",
        lambda root: (make_folder(root / "empty" / "mnist").parent, {}, ["'mnist' not found", str(root / "empty")]),
    ),
    "three-of-four-idx-files": (
        "mlp",
        "mnist",
        lambda root: (
            remove_roles(root / "d" / "mnist", "test_labels").parent,
            {},
            [str(root / "d" / "mnist"), "t10k-labels"],
        ),
    ),
    "train-idx-files-only": (
        "lenet",
        "mnist",
        lambda root: (remove_roles(root / "d" / "mnist", "test_images", "test_labels").parent, {}, ["t10k-images"]),
    ),
    "test-idx-files-only-datasets": (
        "datasets",
        "",
        lambda root: (remove_roles(root / "d" / "mnist", "train_images", "train_labels").parent, {}, ["train-labels"]),
    ),
    "partial-fashion-mnist-not-replaced-by-the-system-copy": (
        "lenet",
        "fashion-mnist",
        lambda root: (
            remove_roles(root / "d" / "fashion-mnist", "train_labels").parent,
            {},
            [str(root / "d" / "fashion-mnist"), "train-labels"],
        ),
    ),
    "partial-dataset-in-env-folder": (
        "scalar",
        "mnist",
        lambda root: (
            None,
            {"NNSCRATCH_DATA": str(remove_roles(root / "e" / "mnist", "train_images").parent)},
            ["train-images"],
        ),
    ),
    "partial-dataset-in-user-cache": (
        "mlp",
        "mnist",
        lambda root: (
            None,
            {},
            [str(remove_roles(root / "user-cache" / "nnscratch" / "mnist", "test_images")), "t10k-images"],
        ),
    ),
    "cifar-without-test-batch": (
        "mlp",
        "cifar10",
        lambda root: (remove_batch(root / "d", "test_batch.bin"), {}, ["cifar-10-batches-bin/test_batch.bin"]),
    ),
    "cifar-without-fifth-training-batch": (
        "datasets",
        "",
        lambda root: (remove_batch(root / "d", "data_batch_5.bin"), {}, ["data_batch_5.bin"]),
    ),
}


def write_file(path: Path) -> Path:
    path.write_bytes(b"not a folder")
    return path


def make_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def remove_batch(data_dir: Path, batch: str) -> Path:
    (make_cifar_dataset(data_dir / "cifar10") / batch).unlink()
    return data_dir


@pytest.mark.parametrize("case", FOLDER_CASES, ids=str)
def test_bad_data_folder_is_refused_before_training(cli, tmp_path, case):
    kind, dataset, build = FOLDER_CASES[case]
    data_dir, env, words = build(tmp_path)
    check_refused(cli(*command(kind, dataset, data_dir), **env), *words)


def test_data_dir_holding_none_of_the_dataset_says_where_it_was_found(cli, tmp_path):
    found = tmp_path / "user-cache" / "nnscratch" / "mnist"
    make_idx_dataset(found)
    empty = make_folder(tmp_path / "empty")
    result = cli("mlp", "--dataset", "mnist", "--data-dir", str(empty), "--epochs", "1", "--val-split", "0", "--quiet")
    assert result.returncode == 0, result.stderr
    assert f"warning: --data-dir {empty} holds none of mnist's files" in result.stderr
    assert f"; using the copy in {found}\n" in result.stderr
    assert "test accuracy" in result.stdout


# ----------------------------------------------------------------------------- IDX files

LARGEST = 2**32 - 1
IDX_CASES = {
    # id: (command kind, role, the file's new bytes, raw (True) or gzipped, words besides the file name)
    "empty-file": ("mlp", "train_images", b"", True, ["too short"]),
    "truncated-raw-images": ("mlp", "train_images", idx_header(20, 28, 28) + bytes(1000), True, ["truncated"]),
    "truncated-gzip": (
        "lenet",
        "test_images",
        gzip.compress(idx_header(10, 28, 28) + bytes(7840))[:40],
        True,
        ["gzip"],
    ),
    "text-instead-of-idx": ("datasets", "train_labels", b"label\n0\n1\n", True, ["not an IDX file"]),
    "int32-data-type": ("mlp", "test_labels", idx_header(10, dtype_code=0x0C) + bytes(40), False, ["magic 00000c01"]),
    "labels-with-three-dimensions": (
        "lenet",
        "train_labels",
        idx_header(20, 1, 1) + bytes(20),
        False,
        ["labels need 1"],
    ),
    "images-as-a-vector": ("scalar", "train_images", idx_header(784) + bytes(784), False, ["images need 3"]),
    "images-of-32x32": ("mlp", "test_images", idx_header(10, 32, 32) + bytes(10240), False, ["32x32, expected 28x28"]),
    "no-training-images": ("lenet", "train_images", idx_header(0, 28, 28), False, ["holds no images"]),
    "fewer-labels-than-images": ("mlp", "train_labels", idx_header(19) + bytes(19), False, ["19 labels"]),
    "more-labels-than-images": ("datasets", "test_labels", idx_header(11) + bytes(11), False, ["11 labels"]),
    "raw-header-declaring-four-billion-images": (
        "mlp",
        "train_images",
        idx_header(LARGEST, 28, 28),
        True,
        [f"need {16 + LARGEST * 784} bytes but the file has 16"],
    ),
    "gzip-declaring-more-than-it-can-inflate": (
        "lenet",
        "train_images",
        idx_header(60000, 28, 28) + bytes(100),
        False,
        ["inflates to at most"],
    ),
    "raw-file-longer-than-declared": ("mlp", "test_labels", idx_header(10) + bytes(11), True, ["the file has 19"]),
    "header-cut-short": ("mlp", "test_images", idx_header(10, 28, 28)[:10], True, ["header truncated"]),
    "train-label-equal-to-num-classes": (
        "mlp",
        "train_labels",
        idx_header(20) + bytes(19) + b"\x0a",
        False,
        ["[19] is 10"],
    ),
    "test-label-equal-to-num-classes": (
        "lenet",
        "test_labels",
        idx_header(10) + b"\x0a" + bytes(9),
        False,
        ["[0] is 10"],
    ),
    "test-label-255": ("scalar", "test_labels", idx_header(10) + bytes(5) + b"\xff" + bytes(4), False, ["[5] is 255"]),
}


@pytest.mark.parametrize("case", IDX_CASES, ids=str)
def test_malformed_idx_file_is_refused_before_training(cli, tmp_path, case):
    kind, role, data, raw, words = IDX_CASES[case]
    folder = tmp_path / "data" / "mnist"
    make_idx_dataset(folder)
    idx_path(folder, role).unlink()
    path = idx_path(folder, role, gz=not raw)
    path.write_bytes(data if raw else gzip.compress(data))
    check_refused(cli(*command(kind, "mnist", tmp_path / "data")), path.name, *words)


def test_malformed_fashion_mnist_in_data_dir_is_refused_not_replaced(cli, tmp_path):
    folder = tmp_path / "data" / "fashion-mnist"
    make_idx_dataset(folder)
    path = idx_path(folder, "test_labels")
    path.write_bytes(gzip.compress(idx_header(10) + bytes(9) + b"\x0b"))
    check_refused(cli(*command("lenet", "fashion-mnist", tmp_path / "data")), str(path), "[9] is 11")


def test_folder_in_place_of_an_idx_file_is_refused(cli, tmp_path):
    folder = tmp_path / "data" / "mnist"
    make_idx_dataset(folder)
    path = idx_path(folder, "train_images")
    path.unlink()
    path.mkdir()
    check_refused(cli(*command("mlp", "mnist", tmp_path / "data")), str(path), "cannot be read")


# ----------------------------------------------------------------------------- npz files

NPZ_CASES = {
    # id: (command kind, changes to the good arrays, words besides the file name)
    "float-images": ("mlp", {"x_train": np.zeros((6, 28, 28), np.float32)}, ["x_train", "float32"]),
    "flat-images": ("lenet", {"x_test": np.zeros((3, 784), np.uint8)}, ["x_test", "(3, 784)"]),
    "object-array": (
        "mlp",
        {"y_train": np.array([1, "a", None, 2, 3, 4], dtype=object)},
        ["y_train.npy", "object array"],
    ),
    "float-labels": ("scalar", {"y_train": np.arange(6) * 0.5}, ["y_train", "float64"]),
    "test-label-equal-to-num-classes": ("lenet", {"y_test": np.array([0, 10, 2])}, ["y_test[1] is 10"]),
    "negative-training-label": ("mlp", {"y_train": np.array([0, 1, -1, 3, 4, 5])}, ["y_train[2] is -1"]),
    "fewer-labels-than-images": ("datasets", {"y_test": np.array([1, 2])}, ["x_test holds 3 images but y_test 2"]),
    "two-dimensional-labels": ("mlp", {"y_train": np.zeros((6, 2), np.int64)}, ["y_train", "(6, 2)"]),
    "missing-test-arrays": ("lenet", {"x_test": None, "y_test": None}, ["missing array(s)"]),
}


@pytest.mark.parametrize("case", NPZ_CASES, ids=str)
def test_malformed_npz_dataset_is_refused_before_training(cli, tmp_path, case):
    kind, changes, words = NPZ_CASES[case]
    path = write_npz(tmp_path / "data" / "mnist" / "mnist.npz", **changes)
    check_refused(cli(*command(kind, "mnist", tmp_path / "data")), str(path), *words)


def test_npz_that_is_not_a_zip_archive_is_refused(cli, tmp_path):
    path = tmp_path / "data" / "mnist.npz"
    path.parent.mkdir()
    path.write_text("x_train,y_train\n")
    check_refused(cli(*command("mlp", "mnist", tmp_path / "data")), str(path), "not a readable zip archive")


def test_npz_declaring_a_terabyte_array_is_refused_unread(cli, tmp_path):
    path = write_npz_declaring(make_folder(tmp_path / "data") / "mnist.npz", "x_train", (2**40, 28, 28))
    check_refused(
        cli(*command("lenet", "mnist", tmp_path / "data")),
        str(path),
        "x_train.npy",
        "(1099511627776, 28, 28)",
        "the zip says",
    )


def test_folder_named_like_the_npz_is_refused(cli, tmp_path):
    path = make_folder(tmp_path / "data" / "mnist.npz")
    check_refused(cli(*command("datasets", "", tmp_path / "data")), str(path))


# ----------------------------------------------------------------------------- datasets of your own: --dataset PATH


def own_npz(root: Path, **changes) -> Path:
    """A tiny --dataset .npz (6 train / 3 test gray 28x28 images) with ``changes``."""
    return write_npz(root / "mine.npz", **changes)


def own_folder(root: Path, change) -> Path:
    """A tiny image folder (2 classes, 28x28 gray PNGs), then ``change(folder)``."""
    folder = make_image_folder(root / "mine", size=(28, 28))
    change(folder)
    return folder


def _pixel_above_one():
    pixels = np.zeros((3, 28, 28), np.float32)
    pixels[1, 2, 3] = 1.5
    return pixels


OWN_DATASET_CASES = {
    # id: (command, build(root) -> the --dataset path, the message after "nnscratch COMMAND: error: ")
    "npz-float-pixel-above-1": (
        ("mlp", "--epochs", "1"),
        lambda root: own_npz(root, x_test=_pixel_above_one()),
        "{path}: x_test[1, 2, 3] is 1.5: float pixels must be in [0, 1] (1 outside)",
    ),
    "npz-class-names-as-objects": (
        ("train", "lenet", "--epochs", "1"),
        lambda root: own_npz(root, class_names=np.array(["a", "b"], dtype=object)),
        "{path}: member 'class_names.npy' is an object array that only pickle could load; refused (it was not "
        "unpickled)",
    ),
    "npz-label-beyond-class-names": (
        ("summary", "lenet"),
        lambda root: own_npz(root, class_names=np.array(["a", "b", "c"])),
        "{path}: y_train[3] is 3, outside 0..2 (3 classes; 3 bad label(s) in all)",
    ),
    "folder-image-of-another-size": (
        ("mlp", "--epochs", "1"),
        lambda root: own_folder(root, lambda f: write_png(f / "test" / "dog" / "0.png", np.zeros((28, 27), np.uint8))),
        "{path}/test/dog/0.png: 27x28 pixels, but {path}/train/cat/0.png (the first image) is 28x28; every image "
        "must have the same size",
    ),
    "folder-text-named-png": (
        ("scalar", "--epochs", "1"),
        lambda root: own_folder(root, lambda f: (f / "train" / "dog" / "1.png").write_text("hello")),
        "{path}/train/dog/1.png: not a readable PNG image (not a PNG file)",
    ),
    "folder-test-classes-differ": (
        ("train", "lenet", "--epochs", "1"),
        lambda root: own_folder(root, lambda f: (f / "test" / "cat").rename(f / "test" / "kat")),
        "{path}: train/ and test/ must have the same class folders (train/ only: ['cat']; test/ only: ['kat'])",
    ),
}


@pytest.mark.parametrize("case", OWN_DATASET_CASES, ids=str)
def test_bad_dataset_of_your_own_is_refused_in_the_one_exact_line(cli, tmp_path, case):
    command_words, build, message = OWN_DATASET_CASES[case]
    path = build(tmp_path)
    result = cli(*command_words, "--dataset", str(path))
    line = assert_refused(result)
    assert line == f"nnscratch {command_words[0]}: error: " + message.format(path=path)
    assert_no_training_started(result)


# ----------------------------------------------------------------------------- CIFAR-10 batches

CIFAR_CASES = {
    # id: (command kind, batch, its new bytes, words besides the batch's name)
    "training-label-equal-to-num-classes": ("mlp", "data_batch_2.bin", cifar_batch([1, 2, 10]), ["[2] is 10"]),
    "test-label-255": ("lenet", "test_batch.bin", cifar_batch([255, 0, 0]), ["[0] is 255"]),
    "partial-record": ("datasets", "data_batch_1.bin", bytes(3000), ["3073-byte records", "3000 bytes"]),
    "empty-batch": ("mlp", "data_batch_4.bin", b"", ["3073-byte records", "has 0 bytes"]),
    "gzip-bomb-batch": ("lenet", "data_batch_3.bin", gzip_bomb(b"", 64 << 20), ["at most 30,730,000 bytes"]),
}


@pytest.mark.parametrize("case", CIFAR_CASES, ids=str)
def test_malformed_cifar_batch_is_refused_before_training(cli, tmp_path, case):
    kind, batch, data, words = CIFAR_CASES[case]
    path = make_cifar_dataset(tmp_path / "data" / "cifar10") / batch
    path.write_bytes(data)
    check_refused(cli(*command(kind, "cifar10", tmp_path / "data")), str(path), *words)


def test_folder_in_place_of_a_cifar_batch_is_refused(cli, tmp_path):
    path = make_cifar_dataset(tmp_path / "data" / "cifar10") / "test_batch.bin"
    path.unlink()
    path.mkdir()
    check_refused(cli(*command("datasets", "", tmp_path / "data")), str(path), "cannot be read")


# ----------------------------------------------------------------------------- memory: gzip bombs

PEAK_RSS_SCRIPT = textwrap.dedent(
    """
    import resource, subprocess, sys
    result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux counts in KiB
    print(peak_kib, result.returncode, result.stderr.strip().replace(chr(10), " | "), sep=chr(9))
    """
)

BOMBS = {
    "small-header-then-a-gibibyte-of-zeros": idx_header(3, 28, 28),
    "header-declaring-2**32-images-then-a-gibibyte-of-zeros": idx_header(LARGEST, 28, 28),
}


@pytest.mark.parametrize("bomb", BOMBS, ids=str)
def test_one_megabyte_gzip_bomb_peaks_below_200_mib(tmp_path, bomb):
    """Measured in a fresh parent, whose only child is the command (RUSAGE_CHILDREN keeps the largest child)."""
    folder = tmp_path / "data" / "mnist"
    make_idx_dataset(folder)
    path = idx_path(folder, "train_images")
    path.write_bytes(gzip_bomb(BOMBS[bomb], 1 << 30))
    assert path.stat().st_size < 1_100_000
    arguments = [sys.executable, "-m", "nnscratch", *command("mlp", "mnist", tmp_path / "data")]
    measured = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT, *arguments],
        cwd=tmp_path,
        env=cli_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    peak_kib, code, stderr = measured.stdout.strip().split("\t")
    assert code == "2" and str(path) in stderr and "Traceback" not in stderr, stderr
    print(f"{bomb}: peak RSS {int(peak_kib) / 1024:.1f} MiB")  # reported with -s; the bound is asserted
    assert int(peak_kib) < 200 * 1024, f"peak RSS {int(peak_kib) / 1024:.1f} MiB"
