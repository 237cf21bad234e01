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

On top of that file format, ``save_checkpoint`` and ``load_checkpoint`` store and restore a
training run. The state holds these parts (each only when given):

    "model"         model.state_dict(): every parameter and buffer
    "model_extra"   model.extra_state_dict(): module state that is neither (Dropout's mask streams)
    "optimizer"     optimizer.state_dict(): moments, step counts, Lookahead's slow weights, lr
    "schedule"      schedule.state_dict(): its epoch (and ReduceLROnPlateau's counters)
    "trainer"       trainer.state_dict(): epoch, history, every generator's state, early stopping

Any object with ``state_dict()`` / ``load_state_dict(state)`` fits, so the scalar tier's
network, optimizers and trainer are saved the same way. ``load_checkpoint`` checks the
metadata against what the caller expects and every part against the objects it is loaded
into, and loads all parts or none.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backend import get_array_module, to_cpu
from .state import copy_state

FORMAT_VERSION = 1
_STATE_KEY = "__state__"
_METADATA_KEY = "__metadata__"
_ARRAY_PREFIX = "arrays/"


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message names the file and what is wrong."""


@dataclass
class Checkpoint:
    """What a checkpoint file holds: the nested state and the metadata record, read from ``path``."""

    state: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def epoch(self) -> int | None:
        """The number of epochs the saved run had completed (None without trainer state)."""
        return self.state.get("trainer", {}).get("epoch")

    def check_metadata(self, expected: dict[str, Any] | None) -> None:
        """Raise a CheckpointError naming every entry of ``expected`` that the metadata records differently.

        Only the entries in ``expected`` are compared (dictionaries entry by entry), so a caller
        can check the architecture before it knows everything else.
        """
        differences = metadata_differences(self.metadata, expected or {})
        if differences:
            raise CheckpointError(
                f"{self.path}: saved with a different architecture or options: " + "; ".join(differences)
            )

    def restore(self, model: Any = None, optimizer: Any = None, schedule: Any = None, trainer: Any = None) -> None:
        """Load the saved parts into the objects given (None: that part is not loaded).

        Each object's ``load_state_dict`` checks its part (names, shapes, types); the first
        problem becomes a CheckpointError naming the file and the part, and every object is
        put back as it was: all parts are loaded, or none.
        """
        parts = [
            (key, getattr(owner, getter), getattr(owner, loader))
            for key, owner, getter, loader in (
                ("model", model, "state_dict", "load_state_dict"),
                ("model_extra", model, "extra_state_dict", "load_extra_state_dict"),
                ("optimizer", optimizer, "state_dict", "load_state_dict"),
                ("schedule", schedule, "state_dict", "load_state_dict"),
                ("trainer", trainer, "state_dict", "load_state_dict"),
            )
            if owner is not None and hasattr(owner, loader)
        ]
        absent = [key for key, _, _ in parts if key not in self.state]
        if absent:
            held = ", ".join(self.state) or "nothing"
            raise CheckpointError(f"{self.path}: holds no {' and no '.join(absent)} state (it holds: {held})")
        loaded: list[tuple[Callable, Any]] = []
        key = ""
        try:
            for key, get_state, load_state in parts:
                loaded.append((load_state, copy_state(get_state())))
                load_state(self.state[key])
        except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as error:
            # RuntimeError: state that cannot be read here, such as a Dropout stream on the GPU
            for load_state, previous in reversed(loaded):
                load_state(previous)
            detail = f"the entry {error} is missing" if isinstance(error, KeyError) else str(error)
            raise CheckpointError(f"{self.path}: cannot load its {key} state: {detail}") from error


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
            array = np.asarray(to_cpu(value), order="C")  # (ascontiguousarray would make a 0-d array 1-d)
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
            if hasattr(os, "fchmod"):  # (not on Windows) mkstemp makes the file private (0600):
                os.fchmod(stream.fileno(), 0o666 & ~_umask())  # give it the permissions of any new file
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
    return Checkpoint(state, metadata, path)


def _decode_json(path: Path, raw: np.ndarray, what: str) -> Any:
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: corrupt checkpoint {what} ({error})") from error


# ----------------------------------------------------------------------------- training runs


def checkpoint_state(
    model: Any, optimizer: Any = None, schedule: Any = None, trainer_state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The nested state of a run (see the module docstring), with the live arrays (no copies)."""
    state = {"model": model.state_dict()}
    if hasattr(model, "extra_state_dict"):
        state["model_extra"] = model.extra_state_dict()
    for key, value in (("optimizer", optimizer), ("schedule", schedule)):
        if value is not None:
            state[key] = value.state_dict()
    if trainer_state is not None:
        state["trainer"] = trainer_state
    return state


def save_checkpoint(
    path: str | Path,
    model: Any,
    optimizer: Any = None,
    schedule: Any = None,
    trainer_state: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write model, optimizer, schedule and trainer state and a metadata record to ``path``, atomically.

    metadata: the caller's record, e.g. ``{"architecture": {"name": "mlp", ...}, "dataset": ...}``:
    plain values only. ``load_checkpoint(path, expected=...)`` compares it; ``nnscratch
    evaluate`` rebuilds the model from its "architecture".
    """
    return write_checkpoint(path, checkpoint_state(model, optimizer, schedule, trainer_state), metadata)


def load_checkpoint(
    path: str | Path,
    model: Any = None,
    optimizer: Any = None,
    schedule: Any = None,
    trainer: Any = None,
    expected: dict[str, Any] | None = None,
) -> Checkpoint:
    """Read ``path``, check its metadata against ``expected``, load its parts into the objects given.

    Every problem is a CheckpointError naming the file: unreadable files (see
    ``read_checkpoint``), metadata that differs from ``expected`` (each difference named), a
    part that is absent or does not fit its object (missing, unexpected or mis-shaped
    arrays, by name and shape). Nothing is changed unless everything fits. Returns the
    Checkpoint (its metadata, and ``state["trainer"]`` for a trainer loaded later).
    """
    checkpoint = read_checkpoint(path)
    checkpoint.check_metadata(expected)
    checkpoint.restore(model, optimizer, schedule, trainer)
    return checkpoint


def metadata_differences(saved: dict[str, Any], expected: dict[str, Any], where: str = "") -> list[str]:
    """``["architecture.hidden_sizes is [32] in the checkpoint, [64] now", ...]`` for every entry of
    ``expected`` that ``saved`` records differently (compared as JSON values: tuples are lists)."""
    expected = json.loads(json.dumps(expected))
    differences = []
    for key, value in expected.items():
        name = f"{where}{key}"
        if key not in saved:
            differences.append(f"{name} is not recorded in the checkpoint ({value!r} now)")
        elif isinstance(value, dict) and isinstance(saved[key], dict):
            differences += metadata_differences(saved[key], value, f"{name}.")
        elif saved[key] != value:
            differences.append(f"{name} is {saved[key]!r} in the checkpoint, {value!r} now")
    return differences
