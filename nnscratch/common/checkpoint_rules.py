"""What a checkpoint must hold before any of it is used: the rules ``read_checkpoint`` applies, and why.

A checkpoint may come from anywhere (a download, a colleague, a disk that failed), and the code
that uses one trusts its shape: ``nnscratch evaluate`` rebuilds a model from the metadata,
``restore`` copies arrays into live weights. So the file is checked first, and every problem
is named where it is, never left to surface as a ``KeyError`` three calls later:

- the metadata: a JSON object with an integer ``format_version`` this nnscratch knows, and
  the records nnscratch's commands write (architecture, dataset ...) of the right types;
- the state: JSON objects and lists, each array named once, at its own place (so one array
  cannot be loaded into two parameters), at most ``MAX_DEPTH`` levels deep;
- the weights: finite numbers (a NaN weight makes every later output NaN; such a state is
  not a "last good" one) of the kind the model holds (an integer or complex array would be
  cast silently: a complex one loses its imaginary part).

The checks return the problems they find as strings naming the key (empty when none), so the
same rules check a state being written: what could not be read again is not written.
``metadata_differences`` compares the metadata with what the caller expects (the flags of a
resumed run).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from .backend import get_array_module
from .state import shape_of

FORMAT_VERSION = 1
MAX_DEPTH = 64  # levels of nesting in a state: a run's state has fewer than ten
ARRAY_KEY = "__array__"
# Options that runs record only since nnscratch learned them, with the value every run had before:
# a checkpoint written earlier lacks the entry, and resuming it with that value is the same run.
# (An option left unset, None, is that too: e.g. --augment-rotate-p not given is the old behaviour.)
RECORDED_SINCE = {"training.loss": "cross-entropy"}
PARTS = ("model", "model_extra", "optimizer", "schedule", "trainer")  # the parts of a training run


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_finite_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    # an int beyond a float's range (10**400) becomes infinity in any computation
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= sys.float_info.max


def _list_of(check):
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


# entries that nnscratch's commands record, with what each must be when present; "!" marks an entry
# that must be present whenever the record holding it is
_RECORD_RULES = {
    "nnscratch_version": ("a string", _is_text),
    "saved_at": ("a string", _is_text),
    "epochs": ("a non-negative integer", _is_count),
    "training": ("a JSON object", lambda value: isinstance(value, dict)),
    "architecture": ("a JSON object", lambda value: isinstance(value, dict)),
    "architecture.name!": ("a string", _is_text),
    "dataset": ("a JSON object", lambda value: isinstance(value, dict)),
    # what nnscratch evaluate reads to test a model on the data it was trained on: all or nothing
    "dataset.name!": ("a string", _is_text),
    "dataset.classes!": ("a list of strings", _list_of(_is_text)),
    "dataset.image_shape!": ("a list of positive integers", _list_of(lambda size: _is_count(size) and size > 0)),
    "dataset.mean!": ("a list of finite numbers", _list_of(_is_finite_number)),
    "dataset.std!": ("a list of positive finite numbers", _list_of(lambda std: _is_finite_number(std) and std > 0)),
    # what nnscratch reconstruct's image-to-image models learn to output (absent for classifiers)
    "task": ("a JSON object", lambda value: isinstance(value, dict)),
    "task.loss!": ("a string", _is_text),
    "task.target!": ("a string", _is_text),
}


def format_version_problem(metadata: Any) -> str | None:
    """Why the metadata's ``format_version`` cannot be read by this nnscratch (None: it can)."""
    if not isinstance(metadata, dict):
        return f"the metadata is a JSON {type(metadata).__name__}, expected an object"
    if "format_version" not in metadata:
        return "the metadata has no format_version"
    version = metadata["format_version"]
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        return (
            f"checkpoint format version {_shown(version)} is newer than this nnscratch understands ({FORMAT_VERSION}); "
            f"upgrade nnscratch (it was written by {_shown(metadata.get('nnscratch_version'))})"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"format_version must be an integer from 1 to {FORMAT_VERSION}, got {_shown(version)}"
    return None


def metadata_problems(metadata: Any) -> list[str]:
    """Every entry of the metadata that is missing or of the wrong type, by its dotted name."""
    version = format_version_problem(metadata)
    if version is not None:
        return [version]
    problems = []
    for rule, (expected, check) in _RECORD_RULES.items():
        *parents, key = rule.rstrip("!").split(".")
        record = metadata
        for parent in parents:
            record = record.get(parent) if isinstance(record, dict) else None
        if not isinstance(record, dict):
            continue
        if key not in record:
            if rule.endswith("!"):
                problems.append(f"metadata {rule.rstrip('!')} is missing")
        elif not check(record[key]):
            problems.append(f"metadata {rule.rstrip('!')} must be {expected}, got {_shown(record[key])}")
    return problems


def metadata_differences(saved: dict[str, Any], expected: dict[str, Any], where: str = "") -> list[str]:
    """``["architecture.hidden_sizes is [32] in the checkpoint, [64] now", ...]`` for every entry of
    ``expected`` that ``saved`` records differently (compared as JSON values: tuples are lists)."""
    expected = json.loads(json.dumps(expected))
    differences = []
    for key, value in expected.items():
        name = f"{where}{key}"
        if key not in saved:
            if value is None or RECORDED_SINCE.get(name, object()) == value:
                continue
            differences.append(f"{name} is not recorded in the checkpoint ({value!r} now)")
        elif isinstance(value, dict) and isinstance(saved[key], dict):
            differences += metadata_differences(saved[key], value, f"{name}.")
        elif saved[key] != value:
            differences.append(f"{name} is {saved[key]!r} in the checkpoint, {value!r} now")
    return differences


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def array_references(skeleton: Any) -> tuple[list[str], list[str]]:
    """(the arrays the state names, the problems of its structure) for a state read from JSON.

    The writer puts ``{"__array__": path}`` at ``path`` itself; any other reference (a name that
    is not a string, an array named from two places) is a problem, as is a part of a training
    run that is not an object, a trainer epoch that is not a count, or nesting beyond MAX_DEPTH.
    """
    if not isinstance(skeleton, dict):
        return [], [f"the state is a JSON {type(skeleton).__name__}, expected an object"]
    references: list[str] = []
    problems: list[str] = []

    def walk(value: Any, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            problems.append(f"state {_shown(where)} is nested deeper than {MAX_DEPTH} levels")
        elif isinstance(value, dict) and set(value) == {ARRAY_KEY}:
            if value[ARRAY_KEY] != where:
                problems.append(f"state {where!r} refers to the array {_shown(value[ARRAY_KEY])}, not its own")
            else:
                references.append(where)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}/{key}" if where else key, depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}/{index}", depth + 1)

    walk(skeleton, "", 0)
    problems += [
        f"state part {part!r} must be a JSON object" for part in PARTS if not _is_dict_or_absent(skeleton, part)
    ]
    trainer = skeleton.get("trainer")
    if isinstance(trainer, dict) and "epoch" in trainer and not _is_count(trainer["epoch"]):
        problems.append(f"state trainer/epoch must be a non-negative integer, got {_shown(trainer['epoch'])}")
    if isinstance(trainer, dict) and not isinstance(trainer.get("history", []), list):
        problems.append("state trainer/history must be a list")
    return references, problems


def _is_dict_or_absent(state: dict, part: str) -> bool:
    return part not in state or isinstance(state[part], dict)


# ----------------------------------------------------------------------------- weights


def _numbers(value: Any) -> list[Any]:
    """The leaves of a (nested) list, or the value itself."""
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _numbers(item)]
    return [value]


def _all_finite(value: Any) -> bool:
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        if value.dtype.kind not in "fc":
            return True  # integers and booleans have no NaN
        return bool(get_array_module(value).isfinite(value).all())
    return all(math.isfinite(leaf) for leaf in _numbers(value) if isinstance(leaf, float))


def non_finite_entries(state: dict[str, Any]) -> list[str]:
    """The names of the model's weights and buffers that hold NaN or infinity, in a run's nested state.

    ``state["model"]`` is ``model.state_dict()`` (arrays, or nested lists of floats for the
    scalar tier). Empty when every value is finite: then the state is one worth keeping.
    """
    model = state.get("model") if isinstance(state, dict) else None
    if not isinstance(model, dict):
        return []
    return [name for name, value in model.items() if not _all_finite(value)]


def number_kind(value: Any) -> str:
    """What kind of numbers ``value`` holds: "float", "integer", "bool", "complex", "mixed" or a type's name.

    Works for arrays, array headers (anything with a ``dtype``), numbers and nested lists.
    """
    if hasattr(value, "dtype"):
        return {"f": "float", "i": "integer", "u": "integer", "b": "bool", "c": "complex"}.get(
            value.dtype.kind, str(value.dtype)
        )
    if isinstance(value, (list, tuple)):
        kinds = {number_kind(leaf) for leaf in _numbers(value)}
        return kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "none")
    if isinstance(value, bool):
        return "bool"
    return {int: "integer", float: "float", complex: "complex"}.get(type(value), type(value).__name__)


def kind_problems(own: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """The weights saved with another kind of number than the model holds (a float parameter saved as
    integers, as complex numbers ...), by name; for ``own`` a model's ``state_dict()``.

    ``saved`` may hold arrays or array headers (their dtype, read before the data). Names that
    are missing, unexpected or mis-shaped are left to ``state_problems`` and ``load_state_dict``.
    """
    return [
        f"{name} holds {_kind_shown(saved[name])} values, the model's are {number_kind(value)}"
        for name, value in own.items()
        if name in saved and shape_of(saved[name]) == shape_of(value) and number_kind(saved[name]) != number_kind(value)
    ]


def _kind_shown(value: Any) -> str:
    kind = number_kind(value)
    return f"{kind} ({value.dtype})" if hasattr(value, "dtype") else kind
