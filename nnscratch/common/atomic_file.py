"""Writing a file so that it is either the old one or the new one, never half of each.

    write_atomically("run.npz", lambda stream: np.savez(stream, **arrays))

The content goes to a temporary file in the same folder (``mkstemp``: a new, unique name),
is flushed to disk, then renamed over ``path`` with ``os.replace``, which is atomic within
one file system. A crash (or ``kill -9``) at any moment leaves the old file or the new one.
The rename also replaces a symbolic link planted at ``path`` instead of writing through it.

The temporary is named ``.NAME.PID.XXXXXXXX.tmp``: the writer's process id makes it possible
to tell a temporary that a killed writer left behind (its process is gone) from one that
another process is writing right now. After each write, only the former are removed, so two
runs saving to the same path never delete each other's temporary.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it to ``path`` (see above).

    The file gets the permissions of any new file (the umask's); on any error, Ctrl-C included,
    the temporary is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if hasattr(os, "fchmod"):  # (not on Windows) mkstemp makes the file private (0600)
                os.fchmod(stream.fileno(), 0o666 & ~_umask())
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    remove_stale_temporaries(path)
    return path


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporaries of ``path`` whose writer's process is gone; return them.

    Only names of exactly the writer's pattern (NAME escaped in the glob, then matched in
    full); a temporary whose process still runs, or whose process cannot be checked, is kept.
    """
    path = Path(path)
    own_pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[a-z0-9_]{{8}}\.tmp")
    removed = []
    for candidate in path.parent.glob(glob.escape(f".{path.name}.") + "*.tmp"):
        match = own_pattern.fullmatch(candidate.name)
        if match and not _process_alive(int(match[1])):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (True when that cannot be known)."""
    if os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would send a Ctrl-C event
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it exists, as another user's
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the OS allows opening a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
