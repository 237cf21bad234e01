"""Grad mode: whether forward passes keep what backward needs (training) or nothing (inference).

    with no_grad():
        predictions = model.forward(x)     # nothing is cached: memory stays flat

The trainers evaluate and predict inside ``no_grad()``; a module asks ``grad_enabled()``
before it caches anything for backward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_grad_mode = {"enabled": True}


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, forward passes keep nothing for backward (inference)."""
    previous = _grad_mode["enabled"]
    _grad_mode["enabled"] = False
    try:
        yield
    finally:
        _grad_mode["enabled"] = previous


def grad_enabled() -> bool:
    """False inside :func:`no_grad`: modules should then not cache anything."""
    return _grad_mode["enabled"]
