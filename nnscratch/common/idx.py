"""The IDX format of LeCun's MNIST files: a 4-byte magic, big-endian dimensions, then the bytes.

    magic   00 00 08 <ndim>      two zero bytes, data type 0x08 (unsigned byte), number of dimensions
    dims    ndim x uint32        big-endian, e.g. 60000, 28, 28 for the training images
    data    prod(dims) bytes     row-major

The header is checked before the data is read: magic, data type, number of dimensions, each
dimension against what the file must hold (``ndim``, ``item_shape``), and the size it implies,
computed with Python integers (four uint32 dimensions can declare 2**128 bytes; NumPy's product
would overflow silently). The data is then read bounded by that size (see ``data_files.py``).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from .data_files import DataFile, data_in_memory, open_data_file
from .dataset_catalog import DatasetError

UNSIGNED_BYTE = 0x08  # the one IDX data type these datasets use
MAX_DIMENSIONS = 4


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array (the inverse of :func:`parse_idx`)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, UNSIGNED_BYTE, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def parse_idx(data: bytes, path: Path | str = "<bytes>") -> np.ndarray:
    """Decode the (decompressed) bytes of an IDX file of unsigned bytes into an array of its header's shape.

    Raises DatasetError naming ``path`` with the expected and found magic or size.
    """
    return read_idx_data(data_in_memory(data, path))[0]


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a uint8 array of the shape its header gives."""
    with open_data_file(path) as data_file:
        return read_idx_data(data_file)[0]


def read_idx_data(
    data_file: DataFile, ndim: int | None = None, item_shape: tuple[int, ...] | None = None, what: str = "arrays"
) -> tuple[np.ndarray, str]:
    """The array an open IDX file holds and the sha256 of its decompressed bytes.

    ndim, item_shape: what the file must hold (e.g. 3 and (28, 28) for images: (N, 28, 28));
    what: the file's role in messages ("images", "labels"). Refused before the data is read.
    """
    path = data_file.path
    magic = data_file.read(4)
    if len(magic) < 4:
        raise DatasetError(f"{path}: too short for an IDX file ({len(magic)} bytes, need at least 4)")
    if magic[:3] != bytes([0, 0, UNSIGNED_BYTE]) or not 1 <= magic[3] <= MAX_DIMENSIONS:
        raise DatasetError(
            f"{path}: not an IDX file of unsigned bytes: magic {magic.hex()} "
            f"(expected 000008 followed by the number of dimensions, 1 to {MAX_DIMENSIONS}, e.g. 00000803 for images)"
        )
    if ndim is not None and magic[3] != ndim:
        raise DatasetError(
            f"{path}: IDX header gives {magic[3]} dimension(s); {what} need {ndim} (magic 0000080{ndim})"
        )
    header = magic + data_file.read(4 * magic[3])
    if len(header) < 4 + 4 * magic[3]:
        raise DatasetError(f"{path}: IDX header truncated ({len(header)} bytes, need {4 + 4 * magic[3]})")
    dims = tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(magic[3]))
    _check_dims(path, dims, item_shape, what)
    content = data_file.read_content(math.prod(dims), len(header), f"IDX dims {dims}")
    digest = hashlib.sha256(header)
    digest.update(content)
    return content.reshape(dims), digest.hexdigest()


def _check_dims(path: Path | str, dims: tuple[int, ...], item_shape: tuple[int, ...] | None, what: str) -> None:
    if item_shape is not None and dims[1:] != item_shape:
        expected = "x".join(str(size) for size in item_shape) or "single values"
        found = "x".join(str(size) for size in dims[1:]) or "single values"
        raise DatasetError(f"{path}: {what} of {found}, expected {expected} (IDX dims {dims})")
    if item_shape is not None and dims[0] == 0:
        raise DatasetError(f"{path}: holds no {what} (IDX dims {dims})")
