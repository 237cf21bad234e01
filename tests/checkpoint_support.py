"""Helpers of the checkpoint and resume tests (no torch here: resume scripts import this in a new process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent


def assert_same_state(a: Any, b: Any, where: str = "state") -> None:
    """Nested states equal exactly: same keys, same lengths, arrays of the same dtype and bits, equal scalars."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            assert_same_state(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: lengths differ"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{where}/{index}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{where}: {type(b).__name__} is not an array"
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        assert np.array_equal(a, b, equal_nan=True), f"{where}: values differ"
    else:
        assert a == b and type(a) is type(b), f"{where}: {a!r} != {b!r}"


def run_python(*arguments: str, cwd: str | Path = REPOSITORY, check: bool = True) -> subprocess.CompletedProcess:
    """``python *arguments`` in a new process, in folder ``cwd``, with this process's import path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPOSITORY), *sys.path])}
    result = subprocess.run([sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"python {' '.join(arguments)} failed ({result.returncode}):\n{result.stderr}")
    return result
