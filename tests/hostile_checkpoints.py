"""Hostile checkpoint files for the tests: a valid checkpoint with one thing broken, built in the test.

A checkpoint is an ``.npz`` (zip) archive of ``.npy`` members. ``members(path)`` reads a valid
one into ``{name: Member}``; a test changes what it needs and ``write_zip`` puts an archive back
together. ``write_zip`` writes the zip format itself rather than through ``zipfile``, so that a
member can lie: its declared inflated size, its CRC and its compression are what the test says.

    parts = members(valid)
    parts["arrays/model/0.weight.npy"] = Member(npy_declaring((2**40,), "<f4"))
    write_zip(tmp_path / "huge.npz", parts)
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TIB = 2**40
WEIGHT = "arrays/model/0.weight.npy"  # the first layer's weight, in every model of nnscratch


@dataclass
class Member:
    """One zip member: its content and what the zip says about it."""

    data: bytes  # the content once inflated
    method: int = zipfile.ZIP_STORED
    file_size: int | None = None  # the inflated size the zip declares (None: the true one)
    crc: int | None = None  # the CRC-32 the zip declares (None: the true one)
    compressed: bytes | None = None  # the bytes stored (None: data, deflated for ZIP_DEFLATED)


def members(path: str | Path) -> dict[str, Member]:
    """The members of a valid archive, in order."""
    with zipfile.ZipFile(path) as archive:
        return {name: Member(archive.read(name)) for name in archive.namelist()}


def write_zip(path: str | Path, parts: dict[str, Member] | list[tuple[str, Member]]) -> Path:
    """Write ``parts`` as a zip archive (local headers, data, central directory, end record); a list
    of (name, member) pairs may name a member twice."""
    pairs = list(parts.items()) if isinstance(parts, dict) else parts
    body, directory = bytearray(), bytearray()
    for name, member in pairs:
        encoded = name.encode()
        stored = member.compressed
        if stored is None:
            stored = member.data if member.method == zipfile.ZIP_STORED else _deflate(member.data)
        crc = zlib.crc32(member.data) if member.crc is None else member.crc
        size = len(member.data) if member.file_size is None else member.file_size
        sizes = (member.method, 0, 0x21, crc, len(stored), size, len(encoded))  # method, time, date, crc ...
        directory += struct.pack("<IHHHH", 0x02014B50, 20, 20, 0, sizes[0])
        directory += struct.pack("<HHIIIHHHHHII", *sizes[1:], 0, 0, 0, 0, 0, len(body)) + encoded
        body += struct.pack("<IHHH", 0x04034B50, 20, 0, sizes[0]) + struct.pack("<HHIIIHH", *sizes[1:], 0)
        body += encoded + stored
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(pairs), len(pairs), len(directory), len(body), 0)
    Path(path).write_bytes(bytes(body + directory + end))
    return Path(path)


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    return compressor.compress(data) + compressor.flush()


def npy(array: Any) -> bytes:
    """``array`` as the bytes of an ``.npy`` file (object arrays pickled, as ``np.save`` would)."""
    stream = io.BytesIO()
    np.lib.format.write_array(stream, np.asanyarray(array), allow_pickle=True)
    return stream.getvalue()


def npy_declaring(shape: tuple, descr: str, payload: bytes = b"", fortran_order: bool = False) -> bytes:
    """An ``.npy`` header declaring any shape and dtype, followed by ``payload`` (whatever its size)."""
    stream = io.BytesIO()
    header = {"descr": descr, "fortran_order": fortran_order, "shape": shape}
    np.lib.format.write_array_header_1_0(stream, header)
    return stream.getvalue() + payload


def json_npy(value: Any) -> bytes:
    """A JSON value as the checkpoint stores it: UTF-8 bytes in a uint8 array."""
    return npy(np.frombuffer(json.dumps(value).encode(), dtype=np.uint8))


def read_json(member: Member) -> Any:
    """The JSON value of a ``__state__`` or ``__metadata__`` member."""
    return json.loads(np.load(io.BytesIO(member.data)).tobytes())


def read_array(member: Member) -> np.ndarray:
    return np.load(io.BytesIO(member.data))


def deflate_bomb(compressed_bytes: int = 3_600_000, descr: str = "<f4") -> Member:
    """A member of about ``compressed_bytes`` deflated bytes: a valid ``.npy`` array of zeros (dtype
    ``descr``) that inflates about 1000 times (3.6 MB -> 3.6 GB), with honest zip sizes and CRC:
    only a reader that refuses before inflating stays small.

    Built without inflating anything: after a full flush, deflate codes every MiB of zeros the
    same way, so one coded MiB is repeated.
    """
    zeros = bytes(2**20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    coded_mib = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeats = compressed_bytes // len(coded_mib)
    header = npy_declaring((repeats * 2**20 // np.dtype(descr).itemsize,), descr)
    fresh = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = fresh.compress(header) + fresh.flush(zlib.Z_FULL_FLUSH)
    stream = start + coded_mib * repeats + fresh.flush()
    crc = zlib.crc32(header)
    for _ in range(repeats):
        crc = zlib.crc32(zeros, crc)
    size = len(header) + repeats * 2**20
    return Member(b"", zipfile.ZIP_DEFLATED, file_size=size, crc=crc, compressed=stream)


# ----------------------------------------------------------------------------- ways to break a checkpoint
# Each returns a builder ``build(valid_path, target_path)`` that writes a broken copy of a valid checkpoint.


def changed_members(change: Callable[[dict[str, Member]], object]) -> Callable[[Path, Path], None]:
    """A builder: copy the valid archive's members, let ``change`` edit them, write the copy."""

    def build(source: Path, target: Path) -> None:
        parts = members(source)
        change(parts)
        write_zip(target, parts)

    return build


def member(name: str, make: Callable[[Member], Member | None]) -> Callable[[Path, Path], None]:
    """Replace member ``name`` by ``make(the valid member)``, or drop it when that is None."""

    def change(parts: dict[str, Member]) -> None:
        replacement = make(parts[name])
        if replacement is None:
            del parts[name]
        else:
            parts[name] = replacement

    return changed_members(change)


def json_edit(name: str, edit: Callable[[object], object]) -> Callable[[Path, Path], None]:
    """Edit the JSON of ``__metadata__`` or ``__state__``: ``edit`` changes it in place or returns a new value."""

    def make(valid: Member) -> Member:
        value = read_json(valid)
        returned = edit(value)
        return Member(json_npy(value if returned is None else returned))

    return member(f"{name}.npy", make)


def metadata(edit: Callable[[object], object]) -> Callable[[Path, Path], None]:
    return json_edit("__metadata__", edit)


def state(edit: Callable[[object], object]) -> Callable[[Path, Path], None]:
    return json_edit("__state__", edit)


def _holder(record: dict, keys: str) -> tuple[dict, str]:
    """The object holding the entry at the "/"-separated ``keys``, and that entry's own key."""
    *parents, last = keys.split("/")
    for key in parents:
        record = record[key]
    return record, last


def set_entry(keys: str, value: object) -> Callable[[dict], None]:
    """An edit setting the entry at the "/"-separated ``keys`` of a JSON object to ``value``."""

    def edit(record: dict) -> None:
        holder, key = _holder(record, keys)
        holder[key] = value

    return edit


def drop_entry(keys: str) -> Callable[[dict], None]:
    """An edit removing the entry at the "/"-separated ``keys``."""

    def edit(record: dict) -> None:
        holder, key = _holder(record, keys)
        del holder[key]

    return edit


def weight(transform: Callable[[np.ndarray], np.ndarray], name: str = WEIGHT) -> Callable[[Path, Path], None]:
    """Replace a model array by ``transform(array)``."""
    return member(name, lambda valid: Member(npy(transform(read_array(valid)))))


def file_bytes(transform: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    def build(source: Path, target: Path) -> None:
        target.write_bytes(transform(source.read_bytes()))

    return build
