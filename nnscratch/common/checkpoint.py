"""Checkpoints: one ``.npz`` file with everything needed to resume or share a run, and no pickle.

A checkpoint holds a *nested state*: dictionaries and lists whose leaves are arrays,
numbers, strings, booleans or None (model weights and buffers, optimizer moments and step
counts, schedule state, trainer state with history and RNG states). It is stored as

    "arrays/<path>"   one .npz entry per array leaf, e.g. "arrays/model/0.weight"
    "__state__"       the nested structure as JSON (UTF-8 bytes in a uint8 array), each
                      array leaf replaced by {"__array__": "<path>"}
    "__metadata__"    JSON: format version, nnscratch version, time, and the caller's record
                      (architecture and options, dataset, normalisation ...)

Why not pickle: unpickling runs code chosen by whoever wrote the file. The arrays are read
with ``numpy.lib.format``'s header parser, which reads only plain numeric arrays, so a
downloaded checkpoint can be inspected safely; an array that would need pickle is refused,
never loaded.

Why checked before it is read: a hostile file can hurt without code, by declaring a 3 TiB
array or inflating 3 MB into 3 GB. ``npz_reader`` reads each array's ``.npy`` header first and
checks it against the zip's sizes, the cap (``INFLATE_FACTOR`` x the file: the writer stores
arrays uncompressed, so only a bomb or a lie gets near it) and, when a model is given, the
model's own shapes and dtypes; only arrays the state refers to are read. ``checkpoint_rules``
checks the metadata, the state's structure and the weights (finite, the model's kind of
number), so that bad content is named here, never met later as a ``KeyError`` or a NaN loss.

Why atomic (``atomic_file``): the file is written under a temporary name in the same folder,
flushed to disk, then renamed over the old one with ``os.replace``. A crash at any moment
leaves either the old checkpoint or the new one, never a torn file; two runs saving to one
path never remove each other's temporary.

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
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_atomically
from .backend import get_array_module, to_cpu
from .checkpoint_rules import (
    ARRAY_KEY,
    FORMAT_VERSION,
    array_references,
    kind_problems,
    metadata_differences,
    metadata_problems,
    non_finite_entries,
)
from .npz_reader import ArchiveError, NpzReader
from .state import copy_state, state_problems

INFLATE_FACTOR = 4  # the arrays may inflate to this many times the file's size ...
INFLATE_FLOOR = 16 * 2**20  # ... or to this many bytes, whichever is more
JSON_LIMIT = 16 * 2**20  # bytes of the state's or the metadata's JSON (a long run's history is far less)
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
        if model is not None and hasattr(model, "state_dict") and isinstance(self.state.get("model"), dict):
            # load_state_dict casts to the model's dtype: an integer or complex array would load quietly
            problems = kind_problems(model.state_dict(), self.state["model"])
            if problems:
                raise CheckpointError(f"{self.path}: cannot load its model state: " + "; ".join(problems))
        loaded: list[tuple[Callable, Any]] = []
        key = ""
        try:
            for key, get_state, load_state in parts:
                loaded.append((load_state, copy_state(get_state())))
                load_state(self.state[key])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RuntimeError) as error:
            # RuntimeError: state that cannot be read here, such as a Dropout stream on the GPU (or
            # nested too deeply); AttributeError, OverflowError: a malformed part (a list for a dict ...)
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
        if where in arrays:  # {"a/b": x} and {"a": {"b": y}} would share one name in the file
            raise CheckpointError(f"checkpoint state {where!r}: two entries of the state have this name")
        if isinstance(value, dict):
            return {str(key): walk(item, f"{where}/{key}" if where else str(key)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item, f"{where}/{index}") for index, item in enumerate(value)]
        if _is_array(value):
            array = np.asarray(to_cpu(value), order="C")  # (ascontiguousarray would make a 0-d array 1-d)
            if array.dtype == object:
                raise CheckpointError(f"checkpoint state {where!r}: object arrays need pickle and are not stored")
            arrays[where] = array
            return {ARRAY_KEY: where}
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise CheckpointError(f"checkpoint state {where!r}: cannot store a {type(value).__name__} without pickle")

    return walk(state, path), arrays


def unpack_state(skeleton: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of :func:`pack_state`: put the arrays back into the skeleton."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {ARRAY_KEY}:
            return arrays[skeleton[ARRAY_KEY]]
        return {key: unpack_state(item, arrays) for key, item in skeleton.items()}
    if isinstance(skeleton, list):
        return [unpack_state(item, arrays) for item in skeleton]
    return skeleton


def _json_bytes(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode("utf-8"), dtype=np.uint8)


# ----------------------------------------------------------------------------- writing


def write_checkpoint(path: str | Path, state: dict[str, Any], metadata: dict[str, Any] | None = None) -> Path:
    """Write ``state`` (nested, see the module docstring) and ``metadata`` to ``path`` atomically.

    What ``read_checkpoint`` would refuse is not written: a CheckpointError names the model
    weights that hold NaN or infinity, or the metadata entry of the wrong type.
    """
    from .. import __version__

    path = Path(path)
    skeleton, arrays = pack_state(state)
    record = {
        "format_version": FORMAT_VERSION,
        "nnscratch_version": __version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(metadata or {}),
    }
    problems = metadata_problems(json.loads(json.dumps(record)))
    bad = non_finite_entries(state)
    if bad:
        problems.append(f"the model's weights hold NaN or infinity ({', '.join(bad)}): not a state worth keeping")
    if problems:
        raise CheckpointError(f"{path}: not written: " + "; ".join(problems))
    entries = {_ARRAY_PREFIX + key: value for key, value in arrays.items()}
    entries[_STATE_KEY] = _json_bytes(skeleton)
    entries[_METADATA_KEY] = _json_bytes(record)
    return write_atomically(path, lambda stream: np.savez(stream, **entries))


# ----------------------------------------------------------------------------- reading


def read_checkpoint(path: str | Path, model_state: dict[str, Any] | None = None) -> Checkpoint:
    """Read and check a checkpoint file; every problem is a CheckpointError naming the file.

    Checked, in this order, each before anything it guards is read: the path is a readable
    regular file and a complete zip archive written by nnscratch; its metadata (format version
    and the records' types) and the structure of its state; each array's header against the
    zip's sizes, against ``model_state`` (a model's ``state_dict()``, when given: names, shapes
    and kinds of number) and against the size cap (see the module docstring); then each
    array's data (its CRC, its exact length) and the model's weights (all finite). Only
    arrays the state refers to are read. No array needs pickle.
    """
    path = Path(path)
    _check_readable_file(path)
    try:
        with NpzReader(path) as archive:
            return _read_archive(path, archive, model_state)
    except ArchiveError as error:
        raise CheckpointError(f"{path}: {error}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: its state or metadata is nested too deeply to be a checkpoint") from None


def _check_readable_file(path: Path) -> None:
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a regular file (a device, pipe or socket cannot be a checkpoint)")
    try:
        with path.open("rb") as stream:
            is_zip = zipfile.is_zipfile(stream)
    except OSError as error:
        raise CheckpointError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not is_zip:
        size = path.stat().st_size
        raise CheckpointError(
            f"{path}: not a checkpoint (not an .npz archive; {size} bytes, truncated or another file)"
        )


def _read_archive(path: Path, archive: NpzReader, model_state: dict[str, Any] | None) -> Checkpoint:
    absent = [name for name in (_METADATA_KEY, _STATE_KEY) if name not in archive.names()]
    if absent:
        raise CheckpointError(f"{path}: an .npz archive but not an nnscratch checkpoint (no {' and no '.join(absent)})")
    metadata = _read_json(path, archive, _METADATA_KEY, "metadata")
    _refuse(path, metadata_problems(metadata))
    skeleton = _read_json(path, archive, _STATE_KEY, "state")
    references, problems = array_references(skeleton)
    _refuse(path, problems)
    headers = {name: archive.header(_ARRAY_PREFIX + name) for name in references}
    problems = [
        f"the array {name!r} holds complex numbers ({header.dtype}); a checkpoint holds real numbers only"
        for name, header in headers.items()
        if header.dtype.kind == "c"
    ]
    if model_state is not None:
        declared = {name.removeprefix("model/"): h for name, h in headers.items() if name.startswith("model/")}
        real = {name: header for name, header in declared.items() if header.dtype.kind != "c"}  # complex: named above
        fit = state_problems(model_state, declared, strict=False) + kind_problems(model_state, real)
        problems += [f"cannot load its model state: {problem}" for problem in fit]
    _refuse(path, problems)
    archive.check_total(list(headers.values()), INFLATE_FACTOR, INFLATE_FLOOR)
    arrays = {name: archive.read(header) for name, header in headers.items()}
    state = unpack_state(skeleton, arrays)
    bad = non_finite_entries(state)
    if bad:
        _refuse(path, [f"the model's weights hold NaN or infinity ({', '.join(bad)}): not a usable checkpoint"])
    return Checkpoint(state, metadata, path)


def _refuse(path: Path, problems: list[str]) -> None:
    if problems:
        raise CheckpointError(f"{path}: " + "; ".join(problems))


def _read_json(path: Path, archive: NpzReader, name: str, what: str) -> Any:
    """The JSON value stored as UTF-8 bytes in array ``name``, at most JSON_LIMIT bytes of it."""
    header = archive.header(name)
    if header.dtype != np.uint8 or len(header.shape) != 1:
        raise CheckpointError(f"{path}: its {what} is a {header.shape} {header.dtype} array, not JSON bytes (uint8)")
    if header.nbytes > JSON_LIMIT:
        raise CheckpointError(f"{path}: its {what} takes {header.nbytes:,} bytes, more than the {JSON_LIMIT:,} allowed")
    try:
        return json.loads(archive.read(header).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        raise CheckpointError(f"{path}: corrupt checkpoint {what} ({error})") from None


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
    evaluate`` rebuilds the model from its "architecture" and tests it on its "dataset" (name,
    classes, image_shape, mean, std: see ``checkpoint_rules``, which checks both).
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
    ``read_checkpoint``; the model's arrays are compared with the file's headers before they
    are read), metadata that differs from ``expected`` (each difference named), a part that is
    absent or does not fit its object (missing, unexpected or mis-shaped arrays, by name and
    shape; weights of another kind of number). Nothing is changed unless everything fits. Returns the
    Checkpoint (its metadata, and ``state["trainer"]`` for a trainer loaded later).
    """
    model_state = model.state_dict() if model is not None and hasattr(model, "state_dict") else None
    checkpoint = read_checkpoint(path, model_state)
    checkpoint.check_metadata(expected)
    checkpoint.restore(model, optimizer, schedule, trainer)
    return checkpoint
