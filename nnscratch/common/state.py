"""Nested states, as ``state_dict()`` returns them: their shapes, their differences, their copies.

A state is a dictionary (or list) whose leaves are arrays, numbers, strings, booleans or None;
the scalar tier uses nested lists of floats where the vectorized tier uses arrays. These
helpers treat both alike, so that every tier reports a mismatch in the same words:

    state_problems({"0.weight": w}, {"0.weight": w_other_shape, "9.bias": b})
    -> ["unexpected keys: ['9.bias']", "mis-shaped: 0.weight: expected (32, 784), got (16, 784)"]
"""

from __future__ import annotations

from typing import Any


def shape_of(value: Any) -> tuple:
    """The shape of an array, of a (nested) list of numbers, or () for a number.

    A ragged list (rows of different lengths) gets ``"ragged"`` where its inner shape would be.
    """
    if hasattr(value, "shape"):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        inner = {shape_of(item) for item in value}
        if len(inner) > 1:
            return (len(value), "ragged")
        return (len(value), *(inner.pop() if inner else ()))
    return ()


def state_problems(own: dict[str, Any], given: dict[str, Any], strict: bool = True) -> list[str]:
    """What keeps ``given`` from being loaded into a module whose state is ``own``, one string per kind.

    Missing and unexpected keys count only when ``strict``; mis-shaped entries always do.
    Empty when ``given`` fits.
    """
    problems = []
    missing = [name for name in own if name not in given]
    unexpected = [name for name in given if name not in own]
    if missing and strict:
        problems.append(f"missing keys: {missing}")
    if unexpected and strict:
        problems.append(f"unexpected keys: {unexpected}")
    misshaped = [
        f"{name}: expected {shape_of(own[name])}, got {shape_of(given[name])}"
        for name in own
        if name in given and shape_of(own[name]) != shape_of(given[name])
    ]
    if misshaped:
        problems.append("mis-shaped: " + "; ".join(misshaped))
    return problems


def copy_state(state: Any) -> Any:
    """A deep copy of a nested state: new dicts and lists, every array copied (on its own device)."""
    if isinstance(state, dict):
        return {key: copy_state(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return [copy_state(value) for value in state]
    if hasattr(state, "copy") and hasattr(state, "shape"):
        return state.copy()
    return state
