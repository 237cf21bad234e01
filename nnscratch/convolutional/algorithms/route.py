"""What every route of the convolution provides: one small interface, so ``Conv2D`` can pick from a table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class Route(NamedTuple):
    """One way to compute ``Conv2D``: the same numbers as the reference, by another algorithm.

    - ``name``: what ``Conv2D(algorithm=...)``, ``use_algorithm`` and ``summary`` call it;
    - ``applies(layer, input_shape) -> bool``: whether it can compute this layer on an input of
      ``input_shape`` (N, C, H, W) at all; ``needs`` says what it requires, for the error when a
      route is forced where it does not apply;
    - ``pays_off(layer, input_shape) -> bool``: whether ``algorithm="auto"`` takes it where it
      applies (its thresholds, measured: docs/performance.md);
    - ``forward(layer, x) -> (y, saved)``: y (N, F, H', W') with the bias added, and what
      backward needs;
    - ``backward(layer, saved, grad_y) -> grad_x``: adds dL/dW into ``layer.weight.grad`` and
      returns dL/dx, or None when ``layer.needs_input_grad`` is False (``Conv2D.backward`` adds
      dL/db, which is the same for every route).
    """

    name: str
    needs: str
    applies: Callable[[Any, tuple[int, ...]], bool]
    pays_off: Callable[[Any, tuple[int, ...]], bool]
    forward: Callable[[Any, Any], tuple[Any, Any]]
    backward: Callable[[Any, Any, Any], Any]


def plain_taps(layer: Any) -> bool:
    """No dilation and one group: what the fast routes are written for (the reference takes any)."""
    return layer.dilation == (1, 1) and layer.groups == 1


def stride_one(layer: Any, input_shape: tuple[int, ...]) -> bool:
    """The rule of the routes that slide one pixel at a time: stride (1, 1), on plain taps."""
    return layer.stride == (1, 1) and plain_taps(layer)


# what ``stride_one`` routes say they need, in the error when one is forced where it does not apply
STRIDE_ONE = "stride 1, dilation 1 and groups 1"
