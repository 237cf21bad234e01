"""Malformed safetensors files given to ``nnscratch evaluate PATH --arch lenet``: one clean line naming
the file (and the key, where the file names one), nothing evaluated, little memory.

Each case starts from a valid weights file (``save_weights`` of lenet, once per module) and breaks
one thing in a copy: the tensors (written honestly by the library), the header (written by hand,
to lie) or the bytes. The last test measures the memory a few of them cost to refuse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnscratch.convolutional.architectures import build
from nnscratch.interop.safetensors import save_weights
from tests.hostile_checkpoints import file_bytes
from tests.hostile_safetensors import WEIGHT, declared_length, header_entry, padded, tensors

from .support import assert_refused, peak_rss_of_evaluate

FLAGS = ("--arch", "lenet", "--dataset", "sample")


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("valid") / "lenet.safetensors"
    return save_weights(build("lenet", 1, 10, 28), path)


# case id -> (how to break the valid file, the words the error line holds besides the file's name)
CASES = {
    "empty-file": (file_bytes(lambda data: b""), ["not a readable safetensors file"]),
    "text-file": (file_bytes(lambda data: b"hello, I am not weights\n"), ["not a readable safetensors file"]),
    "truncated-half": (file_bytes(lambda data: data[: len(data) // 2]), ["not a readable safetensors file"]),
    "truncated-in-the-header": (file_bytes(lambda data: data[:100]), ["not a readable safetensors file"]),
    "header-length-of-4-eib": (declared_length(2**62), ["header too large"]),
    "header-not-json": (file_bytes(lambda data: data[:8] + b"[" + data[9:]), ["header"]),
    "declares-a-1-tib-tensor": (header_entry(WEIGHT, shape=[2**38], data_offsets=[0, 2**40]), ["0.weight"]),
    "shape-that-the-bytes-do-not-fit": (header_entry(WEIGHT, shape=[2**38]), ["invalid shape"]),
    "larger-than-the-model-could-be": (padded(3_000_000), ["more than", "refused unread"]),
    "integer-weights": (header_entry(WEIGHT, dtype="I32"), ["0.weight", "integer (int32)"]),
    "bfloat16-weights": (header_entry(WEIGHT, dtype="BF16", shape=[6, 1, 5, 10]), ["0.weight", "BF16"]),
    "missing-key": (tensors(lambda state: state.pop("0.bias")), ["missing keys: ['0.bias']"]),
    "extra-key": (tensors(lambda state: state.update(extra=np.zeros(3, np.float32))), ["unexpected keys: ['extra']"]),
    "wrong-shape": (tensors(lambda state: state.update({WEIGHT: np.zeros((16, 1, 5, 5), np.float32)})), ["0.weight"]),
    "nan-weight": (tensors(lambda state: state[WEIGHT].fill(np.nan)), ["0.weight", "NaN"]),
}


@pytest.mark.parametrize("case", CASES)
def test_evaluate_refuses_a_malformed_weights_file_in_one_line(cli, tmp_path, valid, case):
    build_file, words = CASES[case]
    path = tmp_path / f"{case}.safetensors"
    build_file(valid, path)
    result = cli("evaluate", path.name, *FLAGS)
    assert_refused(result, path.name, *words)
    assert "test accuracy" not in result.stdout


def test_evaluate_tests_a_valid_weights_file_with_the_architecture_named(cli, tmp_path, valid):
    result = cli("evaluate", str(valid), *FLAGS)
    assert result.returncode == 0, result.stderr
    assert "lenet, weights only" in result.stdout and "test accuracy" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["w.safetensors", "--dataset", "sample"], ["holds weights only", "--arch ARCH"]),
        (["w.npz", "--arch", "lenet"], ["--arch is for a .safetensors file", "records its architecture"]),
        (["w.safetensors", *FLAGS, "--option", "pool=median"], ['--option pool="median"', "pool must be"]),
    ],
    ids=["weights-without-arch", "checkpoint-with-arch", "impossible-option"],
)
def test_evaluate_says_which_flags_a_weights_file_needs(cli, tmp_path, valid, arguments, words):
    for name in ("w.safetensors", "w.npz"):
        (tmp_path / name).write_bytes(valid.read_bytes())
    assert_refused(cli("evaluate", *arguments), *words)


MEASURED = ["declares-a-1-tib-tensor", "larger-than-the-model-could-be", "header-length-of-4-eib"]


@pytest.mark.parametrize("case", MEASURED)
def test_refusing_a_hostile_weights_file_peaks_below_200_mib(tmp_path, valid, case):
    path = tmp_path / f"{case}.safetensors"
    CASES[case][0](valid, path)
    peak_mib, code, stderr = peak_rss_of_evaluate(path, tmp_path, *FLAGS)
    assert code == 2 and path.name in stderr and "Traceback" not in stderr, stderr
    print(f"{case}: {path.stat().st_size:,} bytes on disk, refused with a peak RSS of {peak_mib:.0f} MiB")
    assert peak_mib < 200
