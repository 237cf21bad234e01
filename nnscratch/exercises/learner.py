"""Import the learner's files by path, and run one exercise with the others' functions set aside.

A file is imported under a private name and taken out of ``sys.modules`` again, so checking
twice sees the learner's latest edit and nothing of theirs shadows a real module. An error
while importing it (a syntax error, a NameError at the top level) is kept as one line,
``step3_layers.py line 12: SyntaxError: invalid syntax``, for the rows of that file's exercises.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from .catalog import EXERCISES, Exercise


def where(error: BaseException, path: Path) -> str:
    """`` (step3_layers.py line 12)`` for the deepest line of ``path`` the error passed through; "" if none."""
    if isinstance(error, SyntaxError) and error.filename == str(path):
        return f" ({path.name} line {error.lineno})"
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)]
    return f" ({path.name} line {lines[-1]})" if lines else ""


def describe(error: BaseException, path: Path | None = None) -> str:
    """``TypeError: message (file line N)``, on one line."""
    message = " ".join(str(error).split()) or "(no message)"
    if isinstance(error, SyntaxError):
        message = error.msg
    return f"{type(error).__name__}: {message}" + (where(error, path) if path else "")


def load(path: Path) -> ModuleType | str:
    """The learner's module at ``path``, or a one-line reason why it could not be imported."""
    if not path.is_file():
        return f"{path.name} is missing (nnscratch exercises start writes it)"
    name = f"_nnscratch_exercise_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # while it runs, as for any import (dataclasses and pickling look it up)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the learner's code: report it, never a traceback
        return f"{path.name} does not import: {describe(error, path)}"
    finally:
        sys.modules.pop(name, None)
    return module


@contextlib.contextmanager
def alone(module: ModuleType, exercise: Exercise) -> Iterator[None]:
    """While ``exercise`` is checked, the other exercises' functions of its file are the library's, so a
    wrong ``col2im`` shows on col2im's row only, not on Conv2D's too."""
    saved = {}
    for other in EXERCISES:
        if other.file != exercise.file or other is exercise:
            continue
        for qualname in other.targets:
            if "." not in qualname and qualname in vars(module):
                saved[qualname] = vars(module)[qualname]
                setattr(module, qualname, getattr(importlib.import_module(other.module), qualname))
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
