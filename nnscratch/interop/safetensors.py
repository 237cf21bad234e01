"""Model weights as safetensors files, with PyTorch's names: the format to hand weights to and from PyTorch.

    save_weights(model, "lenet.safetensors")      # twin.load_state_dict(safetensors.torch.load_file(...)) reads it
    load_weights(model, "lenet.safetensors")      # a file saved by nnscratch, or from a PyTorch twin's state_dict()

A safetensors file is a JSON header (each tensor's name, dtype, shape and byte range) and then
the tensors' raw bytes; nothing in it is code, unlike a pickled ``torch.save`` file. It holds
weights only: training checkpoints stay ``.npz`` (``common/checkpoint.py``), because they also
carry the optimizer's moments and the random generators. Both files are read and written by
the ``safetensors`` library (its NumPy API), never by hand, and it is imported the first time a
function here runs.

Why the header is checked against the model before any tensor is read: a file may come from
anywhere, and a hostile one hurts without code, by declaring tensors of terabytes or of the
wrong kind. So ``load_weights`` follows the rules of the checkpoints, in this order, each
before what it guards:

1. the file's size: at most what the model's weights could take (8 bytes a number) plus
   ``HEADER_ALLOWANCE``, so that neither a giant header nor a giant tensor is ever parsed;
2. the header, parsed by the library (which checks that every declared byte range lies in the
   file): names, shapes and dtypes against ``model.state_dict()``; nothing is allocated yet;
3. the tensors the model has, read one by one, then checked to be finite;
4. ``model.load_state_dict``, which casts to the model's dtype: all weights change, or none.

Every problem is a ``WeightsError`` (a ValueError) naming the file and the key, on one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..common.atomic_file import write_atomically
from ..common.backend import to_cpu
from ..common.checkpoint_rules import kind_problems, non_finite_entries
from ..common.state import state_problems
from ..vectorized.module import Module

HEADER_ALLOWANCE = 2**20  # bytes of JSON header allowed beyond the weights (lenet's takes 2 KB)
# safetensors dtype names -> NumPy; BF16 and the FP8 kinds have no NumPy dtype and are refused by name
DTYPES = {
    "F16": np.float16,
    "F32": np.float32,
    "F64": np.float64,
    "I8": np.int8,
    "I16": np.int16,
    "I32": np.int32,
    "I64": np.int64,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


class WeightsError(ValueError):
    """A safetensors file that cannot be loaded into the model; the message names the file and the key."""


@dataclass(frozen=True)
class TensorHeader:
    """What the header declares of one tensor, before any of its bytes are read."""

    shape: tuple[int, ...]
    dtype: np.dtype


def _safetensors() -> Any:
    """The safetensors package, or an ImportError that says how to install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as error:
        raise ImportError(
            "nnscratch.interop.safetensors needs the safetensors package, which is not installed: "
            "pip install 'nnscratch[interop]'"
        ) from error
    return safetensors


def save_weights(model: Module, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
    """Write every parameter and buffer of ``model`` to ``path`` under its PyTorch name, atomically.

    Each tensor keeps its shape and dtype (float32 weights, int64 ``num_batches_tracked``).
    metadata: strings stored in the header (``{"architecture": "lenet"}``), read back by ``read_metadata``.
    """
    library = _safetensors()
    # order="C": contiguous bytes, as the format stores them (ascontiguousarray would make a 0-d array 1-d)
    tensors = {name: np.asarray(to_cpu(value), order="C") for name, value in model.state_dict().items()}
    return write_atomically(path, lambda stream: stream.write(library.numpy.save(tensors, metadata)))


def load_weights(model: Module, path: str | Path, strict: bool = True) -> None:
    """Load the safetensors file ``path`` into ``model``, checked first as the module docstring says.

    strict: every key of the model must be in the file and every key of the file in the model
    (as ``load_state_dict``); with ``strict=False`` keys the model lacks are never read, and the
    model's keys the file lacks keep their values. Shapes must match either way.
    """
    path = Path(path)
    _check_size(model, path)
    library = _safetensors()
    try:
        with library.safe_open(str(path), framework="numpy") as weights:
            headers = _headers(path, weights)
            own = model.state_dict()
            _refuse(path, state_problems(own, headers, strict) + kind_problems(own, headers))
            tensors = {name: weights.get_tensor(name) for name in own if name in headers}
    except (library.SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({_described(error)})") from None
    bad = non_finite_entries({"model": tensors})
    _refuse(path, [f"the weights hold NaN or infinity ({', '.join(bad)})"] if bad else [])
    model.load_state_dict(tensors, strict)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The strings a safetensors file's header carries (``save_weights(metadata=...)``); {} when none."""
    library = _safetensors()
    try:
        with library.safe_open(str(path), framework="numpy") as weights:
            return dict(weights.metadata() or {})
    except (library.SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({_described(error)})") from None


def _check_size(model: Module, path: Path) -> None:
    """Refuse a path that is no regular file, or a file larger than the model's weights could make it."""
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file" if not path.exists() else f"{path}: not a regular file")
    numbers = sum(math.prod(value.shape) for value in model.state_dict().values())
    limit, size = 8 * numbers + HEADER_ALLOWANCE, path.stat().st_size
    if size > limit:
        raise WeightsError(
            f"{path}: {size:,} bytes, more than the {limit:,} that the model's {numbers:,} weights "
            "could take (8 bytes each, plus the header): not weights of this model; refused unread"
        )


def _headers(path: Path, weights: Any) -> dict[str, TensorHeader]:
    """Every tensor's declared shape and dtype, read from the header only."""
    headers = {}
    for name in weights.keys():
        declared = weights.get_slice(name)
        dtype = declared.get_dtype()
        if dtype not in DTYPES:
            raise WeightsError(f"{path}: the tensor {name!r} is {dtype}, which NumPy cannot hold; save it as F32")
        headers[name] = TensorHeader(tuple(declared.get_shape()), np.dtype(DTYPES[dtype]))
    return headers


def _refuse(path: Path, problems: list[str]) -> None:
    if problems:
        raise WeightsError(f"{path}: cannot load into the model: " + "; ".join(problems))


def _described(error: BaseException) -> str:
    """An error's message on one line (the library's can span several)."""
    return " ".join(str(error).split()) or type(error).__name__
