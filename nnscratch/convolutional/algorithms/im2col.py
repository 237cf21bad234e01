"""The reference route, ``"im2col"``: the algorithm the convolution page teaches.

Its forward and backward are ``Conv2D.im2col_forward`` and ``Conv2D.col2im_backward``, in
``modules.py`` next to the layer, so that a learner reading ``Conv2D`` reads them there: pad,
``im2col``, one matrix product; then dL/dW = dY @ cols^T, dL/dcols = W^T @ dY and ``col2im``.
It applies to every layer (any kernel, stride and padding), so it closes the table: every
layer has a route, and every other route is tested against this one.
"""

from __future__ import annotations

from typing import Any

from .route import Route


def always(layer: Any, input_shape: tuple[int, ...]) -> bool:
    """The reference applies everywhere."""
    return True


def forward(layer: Any, x: Any) -> tuple[Any, Any]:
    return layer.im2col_forward(x)


def backward(layer: Any, saved: Any, grad_out: Any) -> Any:
    return layer.col2im_backward(saved, grad_out)


ROUTE = Route("im2col", "nothing", always, always, forward, backward)
