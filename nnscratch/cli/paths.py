"""Output paths checked before any work: a run must not train for an hour and then fail to save.

    output_file_problem("--save", "runs/a.npz")   None, or why the file cannot be written there
    output_folder_problem("--plots", "out/lenet") None (the folder exists now), or why it cannot

Whether a folder can be written to is asked of the folder itself, by creating and removing a
probe file: permission bits say nothing for root, and a read-only mount (``/proc``, ``/sys``, a
write-protected disk) refuses every writer alike.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be created in ``folder`` (None when a probe file could be created there)."""
    try:
        handle, probe = tempfile.mkstemp(prefix=".nnscratch-probe-", dir=folder)
    except OSError as error:
        return f"the folder {folder} cannot be written to ({error.strerror or error})"
    os.close(handle)
    os.unlink(probe)
    return None


def _is_checkpoint(path: Path) -> bool:
    """True when ``path`` looks like a checkpoint nnscratch wrote (a zip holding ``__metadata__.npy``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "__metadata__.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def output_file_problem(
    flag: str, text: str, ours: Callable[[Path], bool] = _is_checkpoint, kind: str = "an nnscratch checkpoint"
) -> str | None:
    """Why ``flag``'s file ``text`` cannot be written (a checkpoint, by default), or None.

    Refused: an empty path, a folder, a folder that does not exist or cannot be written to, and
    an existing file that is not ``kind`` by the test ``ours`` (``--save notes.txt`` would destroy it).
    """
    if not text.strip():
        return f"{flag}: the path is empty"
    path = Path(text)
    if path.is_dir():
        return f"{flag}: {text} is a folder; give a file name, e.g. {path / 'run.npz'}"
    parent = path.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        return f"{flag}: {text}: {parent} {what}"
    if path.exists() and not path.is_symlink() and not ours(path):
        return f"{flag}: {text} exists and is not {kind}; refusing to overwrite it"
    problem = _unwritable(parent)
    return f"{flag}: {text}: {problem}" if problem else None


def output_folder_problem(flag: str, text: str) -> str | None:
    """Why ``flag``'s folder ``text`` cannot hold output files, or None; a missing folder is created."""
    if not text.strip():
        return f"{flag}: the path is empty"
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        return f"{flag}: {text} is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"{flag}: cannot create the folder {text} ({error.strerror or error})"
    problem = _unwritable(folder)
    return f"{flag}: {problem}" if problem else None
