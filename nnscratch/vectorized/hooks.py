"""Hooks: functions a module calls around its forward and backward, to look inside a network.

``Module.register_forward_pre_hook``, ``register_forward_hook``, ``register_backward_pre_hook`` and
``register_backward_hook`` take PyTorch's shapes (the backward ones those of PyTorch's
``register_full_backward_pre_hook`` and ``register_full_backward_hook``)::

    pre-hook(module, inputs)                          before forward   may return new inputs
    forward hook(module, inputs, output)              after forward    may return a new output
    backward pre-hook(module, grad_output)            before backward  may return a new grad_output
    backward hook(module, grad_input, grad_output)    after backward   may return a new grad_input

Our ``forward`` takes one array x and ``backward`` one array grad_out, but, as in PyTorch,
``inputs``, ``grad_input`` and ``grad_output`` are tuples: ``(x,)``, ``(dL/dx,)``,
``(dL/dy,)``; ``output`` is y itself. A hook returning None changes nothing; a replacement is
a value or a one-element tuple. A replaced output does not change the layer's backward, which
differentiates what the layer itself computed (so a replacement must keep the output's shape).
dL/dx is None in ``grad_input`` when the layer skipped it (``needs_input_grad`` is False).

The hooks run from the wrappers every forward and backward already goes through
(``layer_rules.checked_forward`` / ``checked_backward``), so every layer and every container
has them. A module without hooks keeps ``_hooks`` None: one attribute test per call is all
hooks cost when none is registered. They are private state: ``state_dict`` never holds them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

KINDS = ("forward_pre", "forward", "backward_pre", "backward")
_next_id = itertools.count()


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters that hook (again: no effect)."""

    def __init__(self, module: Any, kind: str, key: int) -> None:
        self.module, self.kind, self.key = module, kind, key

    def remove(self) -> None:
        hooks = self.module._hooks
        if hooks is None:
            return
        hooks.by_kind[self.kind].pop(self.key, None)
        if not any(hooks.by_kind.values()):
            del self.module._hooks  # back to the class's None: the fast path again

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *_: Any) -> None:
        self.remove()


def add_hook(module: Any, kind: str, hook: Callable) -> RemovableHandle:
    """Register ``hook`` of ``kind`` (one of ``KINDS``) on ``module``; hooks of a kind run in registration order."""
    if not callable(hook):
        raise TypeError(f"{type(module).__name__}: a {kind.replace('_', ' ')} hook must be callable, got {hook!r}")
    if module._hooks is None:
        module._hooks = ModuleHooks()
    key = next(_next_id)
    module._hooks.by_kind[kind][key] = hook
    return RemovableHandle(module, kind, key)


def _single(result: Any) -> Any:
    """A hook's replacement: the value itself, or the one element of a tuple."""
    return result[0] if isinstance(result, tuple) else result


class ModuleHooks:
    """The hooks registered on one module, by kind, and the calls that run them around its own.

    ``call("forward", module, checked, ...)`` marks "forward" as ``running`` and calls the wrapper
    ``checked`` again, which then runs the layer itself: so the hooks fire once, also for a
    subclass whose forward calls its parent's (``super().forward(x)``, two wrappers).
    """

    def __init__(self) -> None:
        self.by_kind: dict[str, dict[int, Callable]] = {kind: {} for kind in KINDS}
        self.running: set[str] = set()

    def _each(self, kind: str) -> list[Callable]:
        return list(self.by_kind[kind].values())  # a copy: a hook may remove itself

    def call(self, direction: str, module: Any, run: Callable, value: Any, args: tuple, kwargs: dict) -> Any:
        """``run(module, value)`` with the hooks around it. direction "forward": x -> pre-hooks -> forward ->
        forward hooks -> y; "backward": dL/dy -> backward pre-hooks -> backward -> backward hooks -> dL/dx."""
        self.running.add(direction)
        try:
            for hook in self._each(f"{direction}_pre"):
                replacement = hook(module, (value,))
                value = value if replacement is None else _single(replacement)
            result = run(module, value, *args, **kwargs)
            # forward hooks get (inputs, output), backward hooks (grad_input, grad_output)
            arguments = ((value,), result) if direction == "forward" else ((result,), (value,))
            for hook in self._each(direction):
                replacement = hook(module, *arguments)
                if replacement is not None:
                    result = _single(replacement)
                    arguments = ((value,), result) if direction == "forward" else ((result,), (value,))
            return result
        finally:
            self.running.discard(direction)
