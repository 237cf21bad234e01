"""The array backend: one code path for NumPy (CPU) and CuPy (GPU).

Compute code never imports ``numpy`` for its math. It writes ``xp.exp(x)`` where ``xp``
stands for whichever array module is active, or asks an array which module it belongs to
with :func:`get_array_module`. Switching the whole library to the GPU is then one call::

    from nnscratch.common.backend import use_device, to_device, xp
    use_device("gpu")            # CuPy from now on (a clear error if it is missing)
    x = to_device(images)        # NumPy -> GPU copy; a no-op when already there
    y = xp.maximum(x, 0)         # runs on the GPU

The idea (and the name ``get_array_module``) follows CuPy's own helper of that name.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

DEVICES = ("cpu", "gpu")

_active = {"device": "cpu", "module": np}

_CUPY_INSTALL_HINT = (
    "install CuPy for your CUDA version, e.g. `pip install 'nnscratch[gpu]'` "
    "(CUDA 12; see https://docs.cupy.dev/en/stable/install.html), or use --device cpu"
)


class _ActiveArrayModule:
    """A stand-in for the active array module: ``xp.zeros`` is ``numpy.zeros`` or ``cupy.zeros``.

    Attribute lookups are forwarded at call time, so modules that did ``from ... import xp``
    at import time still follow a later :func:`use_device`.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(_active["module"], name)

    def __repr__(self) -> str:
        return f"<xp: {_active['module'].__name__} ({_active['device']})>"


xp = _ActiveArrayModule()


def _import_cupy() -> ModuleType:
    """Import CuPy and check that it sees a CUDA device; raise a RuntimeError saying what is missing."""
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(f"the GPU backend needs CuPy, which is not installed: {_CUPY_INSTALL_HINT}") from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CuPy raises its own CUDARuntimeError subclasses
        raise RuntimeError(
            f"CuPy is installed but cannot talk to a CUDA device ({error}); "
            "check the NVIDIA driver, or use --device cpu"
        ) from error
    if count < 1:
        raise RuntimeError("CuPy is installed but no CUDA device is visible; use --device cpu")
    return cupy


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        _import_cupy()
    except RuntimeError:
        return False
    return True


def use_device(device: str) -> str:
    """Make ``device`` ("cpu", "gpu" or "auto") the active backend and return the one chosen.

    "auto" picks the GPU when CuPy and a CUDA device are there, else the CPU. Asking for
    "gpu" without them raises a ``RuntimeError`` that says what is missing and how to install it.
    """
    if device == "auto":
        device = "gpu" if gpu_available() else "cpu"
    if device == "cpu":
        _active.update(device="cpu", module=np)
    elif device == "gpu":
        _active.update(device="gpu", module=_import_cupy())
    else:
        raise ValueError(f"use_device: device must be 'cpu', 'gpu' or 'auto', got {device!r}")
    return device


def current_device() -> str:
    """The active device: "cpu" or "gpu"."""
    return _active["device"]


def get_array_module(*arrays: Any) -> ModuleType:
    """The array module (``numpy`` or ``cupy``) that owns ``arrays``; NumPy for anything else.

    CuPy is only consulted when it has already been imported, so CPU-only code never pays
    for importing it.
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None and any(isinstance(a, cupy.ndarray) for a in arrays):
        return cupy
    return np


def on_cpu(a: Any) -> bool:
    """True when ``a`` lives in the computer's memory (not a CuPy array): reading its values is free.

    Reading a GPU array's values (``bool(x.any())``, ``float(x)``) makes the host wait until
    the device has finished everything queued before; code that would do that at every batch
    asks this first.
    """
    return get_array_module(a) is np


def to_device(a: Any, dtype: Any = None) -> Any:
    """Put ``a`` on the active backend as an array of ``dtype`` (keeps its dtype when None).

    A no-op (no copy) when ``a`` is already there with that dtype.
    """
    if _active["device"] == "cpu":
        return np.asarray(to_cpu(a), dtype=dtype)
    return _active["module"].asarray(a, dtype=dtype)


def to_cpu(a: Any) -> np.ndarray:
    """Bring ``a`` back to a NumPy array (for logging, plotting and saving)."""
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(a, cupy.ndarray):
        return cupy.asnumpy(a)
    return np.asarray(a)


__all__ = [
    "DEVICES",
    "current_device",
    "get_array_module",
    "gpu_available",
    "on_cpu",
    "to_cpu",
    "to_device",
    "use_device",
    "xp",
]
