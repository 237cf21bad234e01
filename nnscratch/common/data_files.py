"""Opening a dataset file without trusting it: raw or gzipped, read only as far as it may go.

A dataset file comes from a mirror, a colleague's disk or a test written to break things; its
header may declare anything. So every read here is bounded before it starts:

- a raw file's size is known before reading, so a header asking for more (or less) than the
  file holds is refused at once;
- a gzip file's content size is not known, but deflate cannot inflate to more than about 1032
  bytes per stored byte (a run of one value costs at least 2 bits per 258 bytes), so a header
  asking for more than 1032x the file's size is refused before anything is inflated;
- the content is read in chunks into an array of the declared size, then the stream must end
  there: a gzip bomb (a small header followed by gigabytes of zeros) is refused one byte past
  the declared size, never inflated.

Every failure, ``PermissionError`` and a directory where a file should be included, is a
:class:`DatasetError` whose one-line message starts with the file's path.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .dataset_catalog import DatasetError

CHUNK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
DEFLATE_MAX_RATIO = 1032  # zlib's documented limit: at most 1032:1 for any input


class DataFile:
    """An open dataset file, gunzipped on the fly when it starts with the gzip magic (whatever its name).

    ``stored_size``: the file's size on disk; ``largest_content``: the most bytes its content can
    hold (``stored_size``, or 1032x that when gzipped).
    """

    def __init__(self, path: Path | str, raw: BinaryIO, stored_size: int, gzipped: bool) -> None:
        self.path = path
        self.stored_size = stored_size
        self.gzipped = gzipped
        self.stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw

    @property
    def largest_content(self) -> int:
        return self.stored_size * DEFLATE_MAX_RATIO if self.gzipped else self.stored_size

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only where the content ends): for headers."""
        with self._reading():
            return self.stream.read(size)

    def read_content(self, size: int, start: int, needs: str) -> np.ndarray:
        """The rest of the content, exactly ``size`` bytes after the ``start`` bytes read so far, as uint8 (size,).

        needs: what declared the size, for the message (``"IDX dims (3, 28, 28)"``). A DatasetError
        when the file cannot hold that many bytes, holds fewer, or goes on after them.
        """
        total = start + size
        if not self.gzipped and total != self.stored_size:
            truncated = " (truncated?)" if total > self.stored_size else ""
            raise DatasetError(
                f"{self.path}: {needs} need {total} bytes but the file has {self.stored_size}{truncated}"
            )
        if total > self.largest_content:
            raise DatasetError(
                f"{self.path}: {needs} need {total} bytes but a {self.stored_size:,}-byte gzip file "
                f"inflates to at most {self.largest_content:,}"
            )
        content = np.empty(size, dtype=np.uint8)
        filled = self._fill(content)
        if filled < size:
            raise DatasetError(
                f"{self.path}: {needs} need {total} bytes but the (decompressed) file has {start + filled} (truncated?)"
            )
        self._expect_end(f"{needs} need {total} bytes")
        return content

    def read_rest(self, limit: int, why: str) -> np.ndarray:
        """All the remaining content as uint8 (n,); refused past ``limit`` bytes (``why``: the limit's reason)."""
        if not self.gzipped and self.stored_size > limit:
            raise DatasetError(f"{self.path}: {self.stored_size:,} bytes, more than {limit:,} ({why})")
        content = np.empty(limit, dtype=np.uint8)  # untouched pages cost no memory: only what is read is kept
        filled = self._fill(content)
        if filled == limit:
            self._expect_end(f"at most {limit:,} bytes ({why})")
        return content[:filled]

    def _fill(self, buffer: np.ndarray) -> int:
        """Read into the uint8 ``buffer`` until it is full or the content ends; the number of bytes read."""
        view = memoryview(buffer).cast("B")
        filled = 0
        with self._reading():
            while filled < len(view):
                count = self.stream.readinto(view[filled : filled + CHUNK_BYTES])
                if not count:
                    break
                filled += count
        return filled

    def _expect_end(self, expected: str) -> None:
        with self._reading():
            more = self.stream.read(1)
        if more:
            raise DatasetError(
                f"{self.path}: {expected} but the decompressed file goes on; stopped reading there (a gzip bomb?)"
            )

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except (OSError, EOFError, zlib.error) as error:
            if self.gzipped:
                raise DatasetError(f"{self.path}: corrupt or truncated gzip data ({error})") from error
            raise DatasetError(f"{self.path}: cannot be read ({describe_os_error(error)})") from error


def describe_os_error(error: BaseException) -> str:
    """``Permission denied`` rather than ``[Errno 13] Permission denied: '/the/path'`` (the path is said already)."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


@contextmanager
def open_data_file(path: Path | str) -> Iterator[DataFile]:
    """Open ``path`` for bounded reading; a DatasetError naming it when it cannot be opened."""
    with ExitStack() as stack:
        try:
            raw = stack.enter_context(open(path, "rb"))
            stored_size = os.fstat(raw.fileno()).st_size
            gzipped = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
        except OSError as error:  # PermissionError, IsADirectoryError, an I/O error
            raise DatasetError(f"{path}: cannot be read ({describe_os_error(error)})") from error
        yield DataFile(path, raw, stored_size, gzipped)


def data_in_memory(data: bytes, path: Path | str = "<bytes>") -> DataFile:
    """A DataFile over bytes already in memory (already decompressed: read as they are)."""
    return DataFile(path, io.BytesIO(data), len(data), gzipped=False)
