"""Hostile safetensors files for the tests: a valid weights file with one thing broken, built in the test.

A safetensors file is 8 bytes (the header's length, little-endian), a JSON header (each tensor's
dtype, shape and byte range) and the tensors' bytes. The library writes honest files only, so a
header that lies is put together here: ``parts(path)`` reads a valid file into (header, data), a
test edits the header, and ``write`` joins them again.

    header, data = parts(valid)
    header["0.weight"]["shape"] = [2**40]
    write(tmp_path / "huge.safetensors", header, data)
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import safetensors.numpy

WEIGHT = "0.weight"  # the first layer's weight, in every model of the gallery


def parts(path: str | Path) -> tuple[dict, bytes]:
    """(the JSON header, the bytes after it) of a valid file."""
    raw = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + length]), raw[8 + length :]


def write(path: str | Path, header: dict, data: bytes, declared_length: int | None = None) -> Path:
    """``header`` and ``data`` as a file; ``declared_length`` replaces the header's true length."""
    encoded = json.dumps(header).encode()
    length = len(encoded) if declared_length is None else declared_length
    Path(path).write_bytes(struct.pack("<Q", length) + encoded + data)
    return Path(path)


# ----------------------------------------------------------------------------- ways to break a weights file
# Each returns a builder ``build(valid_path, target_path)`` that writes a broken copy of a valid file.


def tensors(edit: Callable[[dict[str, np.ndarray]], object]) -> Callable[[Path, Path], None]:
    """An honest file (written by the library) whose tensors ``edit`` changed: added, removed, replaced."""

    def build(source: Path, target: Path) -> None:
        state = safetensors.numpy.load_file(str(source))
        edit(state)
        safetensors.numpy.save_file(state, str(target))

    return build


def header_entry(name: str, **changes: object) -> Callable[[Path, Path], None]:
    """A file whose header says something else of tensor ``name`` (its dtype, shape, data_offsets)."""

    def build(source: Path, target: Path) -> None:
        header, data = parts(source)
        header[name].update(changes)
        write(target, header, data)

    return build


def declared_length(length: int) -> Callable[[Path, Path], None]:
    """A file whose first 8 bytes declare a header of ``length`` bytes."""

    def build(source: Path, target: Path) -> None:
        header, data = parts(source)
        write(target, header, data, length)

    return build


def padded(total_bytes: int) -> Callable[[Path, Path], None]:
    """An honest file of about ``total_bytes``: one extra tensor of zeros makes up the size."""
    return tensors(lambda state: state.update(padding=np.zeros(total_bytes // 4, np.float32)))
