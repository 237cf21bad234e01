"""The rules every layer of tiers 2 and 3 follows, written once (``Module.__init_subclass__`` wraps
the ``forward`` and ``backward`` of every subclass with these):

- integer (and boolean) input is cast to the module's float dtype (its first parameter's,
  else float32); complex or non-numeric input is a ValueError naming the layer;
- one backward per forward, as in PyTorch ("Trying to backward through the graph a second
  time"): a second backward without a new forward is a RuntimeError naming the layer;
- dL/dy must have the shape of y: a gradient of another shape is a ValueError naming the
  layer and both shapes (broadcasting it would silently give wrong parameter gradients).

A layer's own ``forward`` and ``backward`` therefore hold only its math.

The same wrappers run the module's hooks (``hooks.py``) around the call, when it has any.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .grad_mode import grad_enabled


def real_input(module: Any, x: Any) -> Any:
    """x if floating point, integers and booleans cast to the module's float dtype, else a ValueError."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind == "f":
        return x
    if dtype.kind in "biu":
        return x.astype(module._float_dtype())
    raise ValueError(
        f"{type(module).__name__} expects real numbers (floating point, or integers, which are cast to "
        f"{module._float_dtype()}), got input of dtype {dtype} and shape {tuple(x.shape)}"
    )


def checked_forward(forward: Callable) -> Callable:
    """``forward`` on real-valued input, remembering the output's shape for the backward that may follow.
    A module with hooks runs them around it (the hooks call this again, to run the layer)."""

    @functools.wraps(forward)
    def checked(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
        hooks = self._hooks  # None without hooks: all that hooks cost then is this test
        if hooks is not None and "forward" not in hooks.running:
            return hooks.call("forward", self, checked, x, args, kwargs)
        y = forward(self, real_input(self, x), *args, **kwargs)
        self._output_shape = tuple(y.shape) if grad_enabled() and hasattr(y, "shape") else None
        return y

    return checked


def checked_backward(backward: Callable) -> Callable:
    """``backward`` of a gradient shaped as forward's output; afterwards, what forward kept is used up.
    A module with hooks runs them around it, as ``checked_forward`` does."""

    @functools.wraps(backward)
    def checked(self: Any, grad_out: Any, *args: Any, **kwargs: Any) -> Any:
        hooks = self._hooks
        if hooks is not None and "backward" not in hooks.running:
            return hooks.call("backward", self, checked, grad_out, args, kwargs)
        expected = self._output_shape
        if expected is not None and hasattr(grad_out, "shape") and tuple(grad_out.shape) != expected:
            raise ValueError(
                f"{type(self).__name__}({self.extra_repr()}).backward got a gradient of shape {tuple(grad_out.shape)}, "
                f"but its forward returned shape {expected}: dL/dy must have the output's shape"
            )
        grad_x = backward(self, grad_out, *args, **kwargs)
        self._cache_used = True
        return grad_x

    return checked
