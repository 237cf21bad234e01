"""Reading an ``.npz`` archive that may have been made to hurt: headers first, sizes checked, bounded reads.

An ``.npz`` file is a zip archive with one ``.npy`` member per array. Each member is a small
header (a Python literal: dtype, memory order, shape) followed by the array's raw bytes.
``np.load`` trusts both parts: it allocates what the header declares and inflates what the
zip holds. A 3 MB file whose header declares a 3 TiB array, or a 3.6 MB member of deflated
zeros that inflates to 3.7 GB, takes the machine's memory before any check can run.

``NpzReader`` reads in two steps, so that a caller can check everything before allocating:

    with NpzReader(path) as archive:
        header = archive.header("arrays/w")     # (shape, dtype) read from the first few hundred bytes
        ... compare header.shape, header.dtype with what is expected ...
        archive.check_total([header], 4, 2**24)  # the bytes it will inflate to, all together
        array = archive.read(header)             # only now: allocate, read, verify

``header`` reads at most ``HEADER_LIMIT`` bytes of the member (with ``numpy.lib.format``,
never pickle) and checks that the two declared sizes agree: the header's shape x item size
must be exactly what the zip says the member inflates to, and a member's compressed bytes
must lie inside the file. Neither is trusted alone: ``read`` fills an array of the declared
size chunk by chunk and refuses a member that yields fewer or more bytes or fails its CRC.
Every problem is an ``ArchiveError`` naming the member.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

HEADER_LIMIT = 10_000  # characters of a .npy header dictionary (NumPy's own default limit)
_CHUNK = 1 << 20  # bytes read at a time: a member is never held twice in memory
_PLAIN_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex: raw numbers, no objects
# what reading a damaged zip can raise, besides our own checks
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    struct.error,
    NotImplementedError,
    RuntimeError,
    OverflowError,
)


class ArchiveError(ValueError):
    """An archive member cannot be read safely; the message names the member and what is wrong."""


@dataclass(frozen=True)
class ArrayHeader:
    """What a member's ``.npy`` header declares, checked against the zip's sizes."""

    name: str  # the member's name without ".npy"
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    data_offset: int  # bytes of the header (magic, length, dictionary, padding) before the data
    inflated_size: int  # bytes the member inflates to: data_offset + nbytes

    @property
    def nbytes(self) -> int:
        """Bytes of the array's data, from the declared shape and dtype (Python integers: no overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize


class _BoundedStream:
    """A read-only view of a stream that refuses to read past ``limit`` bytes and counts what it read."""

    def __init__(self, stream: IO[bytes], limit: int, name: str):
        self.stream, self.limit, self.name, self.position = stream, limit, name, 0

    def read(self, size: int = -1) -> bytes:
        if size < 0 or self.position + size > self.limit:
            raise ArchiveError(f"member {self.name!r}: its .npy header is longer than {self.limit} bytes")
        data = self.stream.read(size)
        self.position += len(data)
        return data


class NpzReader:
    """An ``.npz`` archive opened for checked reading (see the module docstring). Use it in a ``with`` block."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:  # opened here, not by zipfile, so that a folder or a denied file is told from a damaged zip
            self.stream = open(self.path, "rb")  # closed by __exit__, or below when it is no zip
        except OSError as error:
            raise ArchiveError(f"cannot be read ({error.strerror or _described(error)})") from None
        self.file_size = os.fstat(self.stream.fileno()).st_size
        try:
            self.zip = zipfile.ZipFile(self.stream)
        except _ZIP_ERRORS as error:
            self.stream.close()
            raise ArchiveError(f"not a readable zip archive ({_described(error)})") from None
        members: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            if info.filename in members:  # zipfile would quietly use the last one
                raise ArchiveError(f"member {info.filename!r} appears twice")
            members[info.filename] = info
        self.members = members

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.zip.close()
        self.stream.close()  # zipfile leaves a stream it was given open

    def names(self) -> list[str]:
        """The arrays the archive holds, by name without ".npy"."""
        return [name.removesuffix(".npy") for name in self.members if name.endswith(".npy")]

    def header(self, name: str, text: bool = False) -> ArrayHeader:
        """Read and check the header of array ``name``: nothing of its data is read.

        text: accept fixed-width unicode strings too (dtype ``<U...``, plain characters, no pickle),
        for arrays of names such as a dataset's ``class_names``.
        """
        info = self._member(name)
        try:
            with self.zip.open(info) as raw:
                stream = _BoundedStream(raw, HEADER_LIMIT + 16, info.filename)
                version = npy_format.read_magic(stream)
                if version == (1, 0):
                    shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream, HEADER_LIMIT)
                elif version == (2, 0):
                    shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream, HEADER_LIMIT)
                else:
                    raise ArchiveError(f"member {info.filename!r}: .npy format version {version} is not read here")
                data_offset = stream.position
        except _ZIP_ERRORS as error:
            raise ArchiveError(f"member {info.filename!r}: corrupt or truncated ({_described(error)})") from None
        except (ValueError, SyntaxError) as error:  # (ArchiveError, a ValueError, is raised as it is)
            if isinstance(error, ArchiveError):
                raise
            raise ArchiveError(f"member {info.filename!r}: not a valid .npy array ({_described(error)})") from None
        header = ArrayHeader(name, shape, dtype, fortran_order, data_offset, info.file_size)
        self._check_dtype(header, text)
        if any(size < 0 for size in shape):
            raise ArchiveError(f"member {info.filename!r}: its header declares a negative shape {shape}")
        if data_offset + header.nbytes != info.file_size:
            raise ArchiveError(
                f"member {info.filename!r}: its header declares {shape} {dtype} ({header.nbytes:,} bytes of data) "
                f"but the zip says it inflates to {info.file_size:,} bytes with a {data_offset}-byte header"
            )
        return header

    def check_total(self, headers: list[ArrayHeader], factor: int, floor: int = 0) -> None:
        """Refuse before reading when ``headers`` together would inflate to more than ``factor`` times
        the file's size (or ``floor`` bytes, whichever is more)."""
        total, limit = sum(header.inflated_size for header in headers), max(factor * self.file_size, floor)
        if total > limit:
            at_least = f", at least {floor:,}" if floor else ""
            raise ArchiveError(
                f"its arrays would take {total:,} bytes once inflated, more than the {limit:,} allowed "
                f"({factor} x the file's {self.file_size:,} bytes{at_least}): a compression bomb "
                "or sizes that lie; refused unread"
            )

    def read(self, header: ArrayHeader) -> np.ndarray:
        """The array ``header`` describes: exactly its declared bytes, read in chunks, CRC checked."""
        info = self._member(header.name)
        raw_bytes = np.empty(header.nbytes, dtype=np.uint8)
        view = memoryview(raw_bytes)
        filled = 0
        try:
            with self.zip.open(info) as stream:
                stream.read(header.data_offset)
                while filled < header.nbytes:
                    chunk = stream.read(min(_CHUNK, header.nbytes - filled))
                    if not chunk:
                        break
                    view[filled : filled + len(chunk)] = chunk
                    filled += len(chunk)
                extra = stream.read(1)  # reaching the end is what makes zipfile check the CRC
        except _ZIP_ERRORS as error:
            raise ArchiveError(f"member {info.filename!r}: corrupt or truncated ({_described(error)})") from None
        if filled < header.nbytes or extra:
            held = f"only {filled:,} of" if filled < header.nbytes else "more than"
            raise ArchiveError(
                f"member {info.filename!r}: holds {held} the {header.nbytes:,} bytes its header declares"
            )
        return _as_array(raw_bytes, header)

    def _member(self, name: str) -> zipfile.ZipInfo:
        info = self.members.get(f"{name}.npy")
        if info is None:
            raise ArchiveError(f"the array {name!r} is missing (no member {name + '.npy'!r})")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"member {info.filename!r}: compression method {info.compress_type} is not read here")
        stored_mismatch = info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size
        if stored_mismatch or info.header_offset + info.compress_size > self.file_size:
            raise ArchiveError(
                f"member {info.filename!r}: the zip declares {info.compress_size:,} stored bytes "
                f"({info.file_size:,} inflated) at offset {info.header_offset:,} of a {self.file_size:,}-byte file"
            )
        return info

    @staticmethod
    def _check_dtype(header: ArrayHeader, text: bool) -> None:
        member = f"{header.name}.npy"
        if header.dtype.hasobject:
            raise ArchiveError(
                f"member {member!r} is an object array that only pickle could load; refused (it was not unpickled)"
            )
        kinds, plain = (_PLAIN_KINDS + "U", "number or text") if text else (_PLAIN_KINDS, "number")
        if header.dtype.kind not in kinds or header.dtype.fields is not None or header.dtype.subdtype:
            raise ArchiveError(f"member {member!r}: dtype {header.dtype} is not a plain {plain} type")


def _described(error: BaseException) -> str:
    """An error's message on one line (NumPy's can span several; EOFError's is empty)."""
    return " ".join(str(error).split()) or type(error).__name__


def _as_array(raw_bytes: np.ndarray, header: ArrayHeader) -> np.ndarray:
    """The bytes read, seen as the declared array (native byte order; Fortran order as a transposed view)."""
    flat = raw_bytes.view(header.dtype)
    if not header.dtype.isnative:
        flat = flat.byteswap(inplace=True).view(header.dtype.newbyteorder("="))
    if header.fortran_order:
        return flat.reshape(header.shape[::-1]).transpose()
    return flat.reshape(header.shape)
