"""The routes of the convolution: one reference, faster algorithms as named alternatives, one table.

Every route computes the same ``Conv2D``, forward and backward, to rounding:

- ``"im2col"`` (``im2col.py``): the reference, ``Conv2D.im2col_forward`` and
  ``Conv2D.col2im_backward``, the algorithm the convolution page teaches; any layer, any
  dilation, any groups;
- ``"wide"`` (``wide.py``): im2col for stride 1 with whole images per copy, cache-sized batch
  slices, and dL/dx as a convolution with the flipped kernel;
- ``"winograd"`` (``winograd.py``): Winograd's minimal filtering, 3x3 kernels, stride 1;
- ``"banded"`` (``banded.py``): one banded matrix per band of image rows, stride 1;
- ``"depthwise"`` (``depthwise.py``): groups = C = F (``DepthwiseConv2D``), one kernel
  position at a time, no matrix product; any kernel, stride and dilation.

Wide, Winograd and banded are written for plain taps, dilation 1 and one group
(``route.plain_taps``): for a dilated or grouped layer they step aside, and auto goes on down
the table to ``depthwise`` or the reference.

Each is a ``Route`` (``route.py``): ``applies`` (can it compute this layer at all),
``pays_off`` (does ``algorithm="auto"`` want it: its measured thresholds), ``forward`` and
``backward``. ``ROUTES`` lists them in the order auto tries them; ``Conv2D(algorithm=...)``
forces one for a layer, ``use_algorithm`` for every layer inside a block of code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from . import banded, depthwise, im2col, wide, winograd
from .route import Route

# In the order ``algorithm="auto"`` tries them: the first that applies to a layer and pays off
# runs. What each needs is its ``needs``: the first three stride 1, dilation 1 and groups 1,
# depthwise one filter per channel. The reference comes last and always applies, so every
# layer has a route.
ROUTES: dict[str, Route] = {
    route.name: route for route in (winograd.ROUTE, banded.ROUTE, wide.ROUTE, depthwise.ROUTE, im2col.ROUTE)
}
ALGORITHMS = ("auto", *ROUTES)
_forced: dict[str, str | None] = {"algorithm": None}


def check_algorithm(owner: str, name: Any) -> str:
    """``name`` if it is "auto" or a route's name, else a ValueError naming ``owner`` and the known names."""
    if name not in ALGORITHMS:
        raise ValueError(f"{owner}: algorithm must be one of {', '.join(ALGORITHMS)}, got {name!r}")
    return name


@contextlib.contextmanager
def use_algorithm(name: str) -> Iterator[None]:
    """Inside this block every ``Conv2D`` takes the route ``name`` ("auto": auto's choice), whatever
    its own ``algorithm``: ``with use_algorithm("im2col"): model.forward(x)`` runs a whole model on
    the reference. Forcing a route where it does not apply is a ValueError from that layer.
    """
    previous = _forced["algorithm"]
    _forced["algorithm"] = check_algorithm("use_algorithm", name)
    try:
        yield
    finally:
        _forced["algorithm"] = previous


def active_algorithm(layer_algorithm: str) -> str:
    """What a layer whose own setting is ``layer_algorithm`` runs now: ``use_algorithm``'s name inside one."""
    return _forced["algorithm"] or layer_algorithm


__all__ = ["ALGORITHMS", "ROUTES", "Route", "active_algorithm", "check_algorithm", "use_algorithm"]
