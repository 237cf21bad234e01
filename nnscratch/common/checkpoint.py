"""Checkpoints: one ``.npz`` file with everything needed to resume or share a run, and no pickle.

A checkpoint holds a *nested state*: dictionaries and lists whose leaves are arrays,
numbers, strings, booleans or None (model weights and buffers, optimizer moments and step
counts, schedule state, trainer state with history and RNG states). It is stored as

    "arrays/<path>"   one .npz entry per array leaf, e.g. "arrays/model/0.weight"
    "__state__"       the nested structure as JSON (UTF-8 bytes in a uint8 array), each
                      array leaf replaced by {"__array__": "<path>"}
    "__metadata__"    JSON: format version, nnscratch version, time, and the caller's record
                      (architecture and options, dataset, normalisation ...)

Why not pickle: unpickling runs code chosen by whoever wrote the file. ``np.load`` with
``allow_pickle=False`` reads only plain numeric arrays, so a downloaded checkpoint can be
inspected safely; an array that would need pickle is refused, never loaded.

Why atomic: the file is written under a temporary name in the same folder, flushed to disk,
then renamed over the old one with ``os.replace``. A crash at any moment leaves either the
old checkpoint or the new one, never a torn file.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backend import get_array_module, to_cpu

FORMAT_VERSION = 1
_STATE_KEY = "__state__"
_METADATA_KEY = "__metadata__"
_ARRAY_PREFIX = "arrays/"


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message names the file and what is wrong."""


@dataclass
class Checkpoint:
    """What a checkpoint file holds: the nested state and the metadata record."""

    state: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- nested state <-> arrays + JSON


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or get_array_module(value) is not np


def pack_state(state: Any, path: str = "") -> tuple[Any, dict[str, np.ndarray]]:
    """Split a nested state into (JSON-able skeleton, {path: NumPy array}).

    Raises CheckpointError naming the path of anything that is not a dict/list/tuple, an
    array, or a JSON scalar (such objects could only be stored with pickle).
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {str(key): walk(item, f"{where}/{key}" if where else str(key)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item, f"{where}/{index}") for index, item in enumerate(value)]
        if _is_array(value):
            array = np.ascontiguousarray(to_cpu(value))
            if array.dtype == object:
                raise CheckpointError(f"checkpoint state {where!r}: object arrays need pickle and are not stored")
            arrays[where] = array
            return {"__array__": where}
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise CheckpointError(f"checkpoint state {where!r}: cannot store a {type(value).__name__} without pickle")

    return walk(state, path), arrays


def unpack_state(skeleton: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of :func:`pack_state`: put the arrays back into the skeleton."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {"__array__"}:
            return arrays[skeleton["__array__"]]
        return {key: unpack_state(item, arrays) for key, item in skeleton.items()}
    if isinstance(skeleton, list):
        return [unpack_state(item, arrays) for item in skeleton]
    return skeleton


def _json_bytes(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode("utf-8"), dtype=np.uint8)


# ----------------------------------------------------------------------------- writing


def write_checkpoint(path: str | Path, state: dict[str, Any], metadata: dict[str, Any] | None = None) -> Path:
    """Write ``state`` (nested, see the module docstring) and ``metadata`` to ``path`` atomically."""
    from .. import __version__

    path = Path(path)
    skeleton, arrays = pack_state(state)
    record = {
        "format_version": FORMAT_VERSION,
        "nnscratch_version": __version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(metadata or {}),
    }
    entries = {_ARRAY_PREFIX + key: value for key, value in arrays.items()}
    entries[_STATE_KEY] = _json_bytes(skeleton)
    entries[_METADATA_KEY] = _json_bytes(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            np.savez(stream, **entries)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        # KeyboardInterrupt included: never leave the temporary file behind
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    # temporaries of earlier writes that were killed midway are garbage now
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    return path


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


# ----------------------------------------------------------------------------- reading


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check a checkpoint file; every problem is a CheckpointError naming the file.

    Checked: the file exists and is a complete zip archive written by nnscratch, every
    member passes its CRC, no array needs pickle, and the format version is one this
    version of nnscratch understands.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not zipfile.is_zipfile(path):
        size = path.stat().st_size
        raise CheckpointError(
            f"{path}: not a checkpoint (not an .npz archive; {size} bytes, truncated or another file)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if _METADATA_KEY not in names or _STATE_KEY not in names:
                raise CheckpointError(f"{path}: an .npz archive but not an nnscratch checkpoint (no {_METADATA_KEY})")
            entries = {name: archive[name] for name in names}
    except CheckpointError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise CheckpointError(
                f"{path}: contains an object array that only pickle could load; refused (it was not unpickled)"
            ) from error
        raise CheckpointError(f"{path}: corrupt checkpoint ({error})") from error
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({error})") from error
    metadata = _decode_json(path, entries.pop(_METADATA_KEY), "metadata")
    skeleton = _decode_json(path, entries.pop(_STATE_KEY), "state")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version} is newer than this nnscratch understands "
            f"({FORMAT_VERSION}); upgrade nnscratch (it was written by {metadata.get('nnscratch_version')})"
        )
    arrays = {name[len(_ARRAY_PREFIX) :]: value for name, value in entries.items() if name.startswith(_ARRAY_PREFIX)}
    try:
        state = unpack_state(skeleton, arrays)
    except KeyError as error:
        raise CheckpointError(f"{path}: corrupt checkpoint (array {error} is missing)") from error
    return Checkpoint(state, metadata)


def _decode_json(path: Path, raw: np.ndarray, what: str) -> Any:
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: corrupt checkpoint {what} ({error})") from error
