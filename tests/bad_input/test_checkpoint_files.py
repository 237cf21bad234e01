"""Malformed checkpoint files given to the real command: one clean line naming the file or the key, nothing trained.

Each case starts from a valid checkpoint that the command itself wrote (``--save`` on the bundled
sample, once per module) and breaks one thing in a copy: the archive, the JSON inside it, an
array's header or data. ``nnscratch evaluate PATH`` gets most of them; ``--resume PATH`` of
``mlp``, ``train lenet`` and ``scalar`` gets those that reach each command's own checks. The
last tests measure the memory a 3 TiB-declaring file and a deflate bomb cost to refuse.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.hostile_checkpoints import (
    TIB,
    WEIGHT,
    Member,
    deflate_bomb,
    drop_entry,
    file_bytes,
    member,
    members,
    metadata,
    npy,
    npy_declaring,
    set_entry,
    state,
    weight,
    write_zip,
)

from .support import assert_no_training_started, assert_refused, peak_rss_of_evaluate, run_cli

SAVE_FLAGS = {  # the flags that wrote each valid checkpoint, repeated when resuming it
    "mlp": ["mlp", "--dataset", "sample", "--hidden-sizes", "8"],
    "lenet": ["train", "lenet", "--dataset", "sample"],
    "scalar": ["scalar", "--dataset", "sample", "--hidden-sizes", "4", "--limit-train", "300"],
}


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, Path]:
    """One valid checkpoint per command, written by the command itself (one epoch on the sample)."""
    folder = tmp_path_factory.mktemp("valid")
    paths = {}
    for name, flags in SAVE_FLAGS.items():
        paths[name] = folder / f"{name}.npz"
        result = run_cli(*flags, "--epochs", "1", "--quiet", "--save", str(paths[name]), cwd=folder)
        assert result.returncode == 0, result.stderr
    return paths


# ----------------------------------------------------------------------------- ways to break a checkpoint


def set_first_weight(name: str, value: object) -> Callable[[dict], None]:
    """For the scalar tier's JSON weights: set the first number of model entry ``name``."""

    def edit(record: dict) -> None:
        row = record["model"][name]
        while isinstance(row[0], list):
            row = row[0]
        row[0] = value

    return edit


def as_integers(name: str) -> Callable[[dict], None]:
    def edit(record: dict) -> None:
        record["model"][name] = [round(value) for value in record["model"][name]]

    return edit


def raw_weight(make: Callable[[Member], Member]) -> Callable[[Path, Path], None]:
    return member(WEIGHT, make)


def json_bytes(name: str, data: bytes, dtype: str = "u1") -> Callable[[Path, Path], None]:
    return member(f"{name}.npy", lambda valid: Member(npy(np.frombuffer(data, dtype))))


def flip_byte_in(name: str) -> Callable[[Path, Path], None]:
    """Flip one byte inside member ``name``'s data (its CRC no longer matches)."""

    def build(source: Path, target: Path) -> None:
        data = bytearray(source.read_bytes())
        with zipfile.ZipFile(source) as archive:
            info = archive.getinfo(name)
        data[info.header_offset + 30 + len(info.filename) + info.file_size - 3] ^= 0xFF
        target.write_bytes(bytes(data))

    return build


def not_a_file(make: Callable[[Path], object]) -> Callable[[Path, Path], None]:
    return lambda source, target: make(target)


def encrypted(source: Path, target: Path) -> None:
    """Every member flagged as encrypted (general-purpose flag bit 0, in both headers)."""
    data = bytearray(source.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        found = data.find(signature)
        while found != -1:
            data[found + flags_at] |= 1
            found = data.find(signature, found + 4)
    target.write_bytes(bytes(data))


def duplicated_weight(source: Path, target: Path) -> None:
    parts = list(members(source).items())
    write_zip(target, [*parts, (WEIGHT, Member(npy(np.zeros((8, 784), np.float32))))])


def nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def stored_beyond_the_file(valid: Member) -> Member:
    """Header and zip agree on 4 GiB, stored (so the bytes should be in the file): they are not."""
    declared = 2**32 - 2
    return Member(npy_declaring(((declared - 128) // 4,), "<f4"), file_size=declared, compressed=valid.data)


def deflate_stream_cut(valid: Member) -> Member:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(valid.data) + compressor.flush()
    return Member(valid.data, zipfile.ZIP_DEFLATED, compressed=stream[: len(stream) // 2])


def long_header(valid: Member) -> Member:
    """A version-2 .npy header that says it is a million bytes long."""
    return Member(b"\x93NUMPY\x02\x00" + (10**6).to_bytes(4, "little") + b" " * 20_000)


# case id -> (how to break the valid checkpoint, the words the error line holds besides the file's name)
EVALUATE_CASES = {
    "empty-file": (file_bytes(lambda data: b""), ["not a checkpoint"]),
    "text-file": (file_bytes(lambda data: b"hello, I am not a zip\n"), ["not a checkpoint"]),
    "truncated-half": (file_bytes(lambda data: data[: len(data) // 2]), ["not a checkpoint"]),
    "truncated-end-record": (file_bytes(lambda data: data[:-10]), ["not a checkpoint"]),
    "middle-cut-out": (file_bytes(lambda data: data[:1000] + data[-22:]), ["zip"]),
    "flipped-byte-in-weights": (flip_byte_in(WEIGHT), ["0.weight", "CRC"]),
    "flipped-byte-in-metadata": (flip_byte_in("__metadata__.npy"), ["__metadata__", "CRC"]),
    "directory": (not_a_file(lambda target: target.mkdir()), []),
    "symlink-to-dev-zero": (not_a_file(lambda target: target.symlink_to("/dev/zero")), []),
    "fifo": (not_a_file(os.mkfifo), []),
    "foreign-npz": (not_a_file(lambda target: np.savez(target, x=np.zeros(3))), ["not an nnscratch checkpoint"]),
    "no-metadata-member": (member("__metadata__.npy", lambda valid: None), ["__metadata__"]),
    "no-state-member": (member("__state__.npy", lambda valid: None), ["not an nnscratch checkpoint"]),
    "missing-weight-array": (member(WEIGHT, lambda valid: None), ["model/0.weight", "missing"]),
    "metadata-not-json": (json_bytes("__metadata__", b"{oops"), ["metadata"]),
    "metadata-not-utf8": (json_bytes("__metadata__", b"\xff\xfe{}"), ["metadata"]),
    "metadata-floats-not-bytes": (json_bytes("__metadata__", bytes(32), "<f8"), ["metadata", "float64"]),
    "metadata-is-a-list": (metadata(lambda record: [record]), ["metadata", "list"]),
    "metadata-int-of-5000-digits": (
        json_bytes("__metadata__", b'{"format_version": 1%s}' % (b"0" * 5000)),
        ["metadata"],
    ),
    "format-version-string": (metadata(set_entry("format_version", "1")), ["format_version", "'1'"]),
    "format-version-99": (metadata(set_entry("format_version", 99)), ["format version 99", "newer"]),
    "format-version-negative": (metadata(set_entry("format_version", -1)), ["format_version", "-1"]),
    "format-version-fraction": (metadata(set_entry("format_version", 1.5)), ["format_version", "1.5"]),
    "format-version-true": (metadata(set_entry("format_version", True)), ["format_version", "True"]),
    "format-version-missing": (metadata(drop_entry("format_version")), ["format_version"]),
    "architecture-a-string": (metadata(set_entry("architecture", "mlp")), ["architecture"]),
    "architecture-without-name": (metadata(drop_entry("architecture/name")), ["architecture.name"]),
    "architecture-of-millions": (metadata(set_entry("architecture/hidden_sizes", [200_000])), ["far larger"]),
    "architecture-size-a-string": (metadata(set_entry("architecture/hidden_sizes", ["e"])), ["cannot be built"]),
    "architecture-unknown": (metadata(set_entry("architecture/name", "transformer")), ["transformer"]),
    "dataset-name-a-number": (metadata(set_entry("dataset/name", 7)), ["dataset.name"]),
    "dataset-image-shape-negative": (metadata(set_entry("dataset/image_shape", [1, -28, 28])), ["dataset.image_shape"]),
    "dataset-std-zero": (metadata(set_entry("dataset/std", [0.0])), ["dataset.std"]),
    "dataset-classes-not-strings": (metadata(set_entry("dataset/classes", list(range(10)))), ["dataset.classes"]),
    "dataset-without-mean": (metadata(drop_entry("dataset/mean")), ["dataset.mean", "missing"]),
    "state-is-a-list": (state(lambda value: [value]), ["state", "list"]),
    "state-not-json": (json_bytes("__state__", b'{"model": '), ["state"]),
    "state-names-another-array": (state(set_entry("model/0.bias", {"__array__": "model/3.bias"})), ["model/0.bias"]),
    "state-trainer-epoch-a-string": (state(set_entry("trainer/epoch", "3")), ["trainer/epoch"]),
    "state-model-part-a-list": (state(set_entry("model", [1, 2])), ["'model'"]),
    "state-nested-too-deeply": (state(set_entry("trainer/history", nested(200))), ["nested"]),
    "nan-weight": (weight(lambda array: np.where(array > 0, np.nan, array)), ["0.weight", "NaN"]),
    "inf-bias": (weight(lambda array: array + np.inf, "arrays/model/3.bias.npy"), ["3.bias", "infinity"]),
    "complex-weights": (weight(lambda array: array.astype(np.complex64)), ["model/0.weight", "complex"]),
    "integer-weights": (weight(lambda array: (array * 100).astype(np.int32)), ["0.weight", "integer"]),
    "bool-weights": (weight(lambda array: array > 0), ["0.weight", "bool"]),
    "wrong-shape": (weight(lambda array: np.zeros((16, 784), np.float32)), ["0.weight", "(16, 784)"]),
    "string-array": (weight(lambda array: np.array(["abc"] * 4)), ["0.weight", "not a plain number type"]),
    "structured-dtype": (weight(lambda array: np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")])), ["0.weight"]),
    "pickled-object-array": (weight(lambda array: np.array([{"x": 1}, None], dtype=object)), ["pickle"]),
    "declares-3-tib": (
        raw_weight(lambda valid: Member(npy_declaring((3 * TIB // 4,), "<f4", bytes(4096)))),
        ["0.weight"],
    ),
    "negative-shape": (raw_weight(lambda valid: Member(npy_declaring((-5, 784), "<f4", bytes(64)))), ["negative"]),
    "deflate-bomb": (raw_weight(lambda valid: deflate_bomb(100_000)), ["bomb"]),
    "zip-size-lies": (raw_weight(lambda valid: Member(valid.data, file_size=len(valid.data) + 4096)), ["0.weight"]),
    "stored-beyond-the-file": (raw_weight(stored_beyond_the_file), ["0.weight"]),
    "deflate-stream-cut": (raw_weight(deflate_stream_cut), ["0.weight"]),
    "duplicate-member": (duplicated_weight, ["0.weight", "twice"]),
    "encrypted-members": (encrypted, ["encrypted"]),
    "bzip2-method": (raw_weight(lambda valid: Member(valid.data, zipfile.ZIP_BZIP2, compressed=valid.data)), ["12"]),
    "npy-version-3": (raw_weight(lambda valid: Member(b"\x93NUMPY\x03\x00" + valid.data[8:])), ["0.weight"]),
    "npy-header-too-long": (raw_weight(long_header), ["0.weight", "header"]),
}

# (valid checkpoint, case id) -> (how to break it, words): what reaches each command's own --resume checks
RESUME_CASES = {
    **{("mlp", case): EVALUATE_CASES[case] for case in ("nan-weight", "integer-weights", "deflate-bomb")},
    ("mlp", "no-optimizer-part"): (state(drop_entry("optimizer")), ["optimizer"]),
    ("mlp", "trainer-epoch-negative"): (state(set_entry("trainer/epoch", -1)), ["trainer/epoch"]),
    ("mlp", "moments-of-another-shape"): (
        weight(lambda array: np.zeros((3, 3), np.float32), "arrays/optimizer/state/0/exp_avg.npy"),
        ["optimizer"],
    ),
    **{("lenet", case): EVALUATE_CASES[case] for case in ("nan-weight", "integer-weights", "deflate-bomb")},
    ("scalar", "nan-weight-in-json"): (state(set_first_weight("0.weight", float("nan"))), ["0.weight", "NaN"]),
    ("scalar", "integer-weights-in-json"): (state(as_integers("0.bias")), ["0.bias", "integer"]),
    ("scalar", "string-weight-in-json"): (state(set_first_weight("0.bias", "0.5")), ["0.bias"]),
    ("scalar", "state-is-a-bomb"): (member("__state__.npy", lambda valid: deflate_bomb(100_000, "|u1")), ["state"]),
}
RESUME_COMMANDS = {name: [*flags, "--epochs", "2"] for name, flags in SAVE_FLAGS.items()}


@pytest.mark.parametrize("case", EVALUATE_CASES)
def test_evaluate_refuses_a_malformed_checkpoint_in_one_line(cli, tmp_path, valid, case):
    build, words = EVALUATE_CASES[case]
    path = tmp_path / f"{case}.npz"
    build(valid["mlp"], path)
    result = cli("evaluate", path.name, "--dataset", "sample")
    assert_refused(result, path.name, *words)
    assert_no_training_started(result)


@pytest.mark.parametrize(("base", "case"), RESUME_CASES, ids=[f"{base}-{case}" for base, case in RESUME_CASES])
def test_resume_refuses_a_malformed_checkpoint_before_training(cli, tmp_path, valid, base, case):
    build, words = RESUME_CASES[base, case]
    path = tmp_path / f"{case}.npz"
    build(valid[base], path)
    result = cli(*RESUME_COMMANDS[base], "--resume", path.name)
    assert_refused(result, path.name, *words)
    assert_no_training_started(result)


def test_members_the_state_never_names_are_never_read(cli, tmp_path, valid):
    """A huge declared array, a bomb and a pickle beside the real arrays: the checkpoint still works."""
    parts = members(valid["mlp"])
    parts["arrays/extra/huge.npy"] = Member(npy_declaring((3 * TIB,), "<f8", bytes(1000)))
    parts["arrays/extra/bomb.npy"] = deflate_bomb(100_000)
    parts["arrays/extra/pickle.npy"] = Member(npy(np.array([object()], dtype=object)))
    path = write_zip(tmp_path / "with-extras.npz", parts)
    result = cli("evaluate", path.name, "--dataset", "sample")
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout


# ----------------------------------------------------------------------------- memory


@pytest.mark.parametrize("case", ["declares-3-tib", "deflate-bomb", "architecture-of-millions"])
def test_refusing_a_hostile_checkpoint_peaks_below_200_mib(tmp_path, valid, case):
    parts = members(valid["mlp"])
    if case == "declares-3-tib":  # about 3 MB on disk
        parts[WEIGHT] = Member(npy_declaring((3 * TIB // 4,), "<f4", bytes(3_000_000)))
    elif case == "deflate-bomb":  # 3.6 MB that inflate to 3.6 GB
        parts[WEIGHT] = deflate_bomb()
    else:  # small weights, and a record asking for a 784-200000-10 MLP (1.3 GB of float64 draws) to put them in
        edit = metadata(set_entry("architecture/hidden_sizes", [200_000]))
        edit(valid["mlp"], tmp_path / "edited.npz")
        parts = members(tmp_path / "edited.npz")
    path = write_zip(tmp_path / f"{case}.npz", parts)
    if case != "architecture-of-millions":
        assert 2_900_000 < path.stat().st_size < 3_800_000
    peak_mib, code, stderr = peak_rss_of_evaluate(path, tmp_path)
    assert code == 2 and path.name in stderr and "Traceback" not in stderr, stderr
    print(f"{case}: {path.stat().st_size:,} bytes on disk, refused with a peak RSS of {peak_mib:.0f} MiB")
    assert peak_mib < 200
