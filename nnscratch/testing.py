"""Gradient checking by central differences: does a hand-written backward agree with the math?

For a scalar loss L and one input element x_i,

    dL/dx_i  ~=  (L(x_i + eps) - L(x_i - eps)) / (2 * eps)

with an error of order eps**2 (the first-order terms cancel, which is why central beats
one-sided differences). In float64 with eps ~ 1e-6 that matches an exact gradient to
about 1e-8 relative; float32 is far too coarse for this, so check in float64.

    from nnscratch.testing import gradcheck, gradcheck_module
    gradcheck(lambda: float((x ** 3).sum()), {"x": x}, {"x": 3 * x ** 2})
    gradcheck_module(layer, x)   # any object with forward/backward/parameters()
    module_gradients(layer, x)   # the same pairs (backward's, central difference's), to report on

A failure names the array and the element, with both numbers:

    GradcheckError: gradient of 'weight' at index (2, 0): received 0.31 from backward,
    expected 0.29 from central difference (|diff| 0.02 > tolerance 3e-06); 1 of 12 elements differ
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .common.backend import get_array_module, to_cpu

DEFAULT_EPS = 1e-6
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


def central_difference(
    loss: Callable[[], float], read: Callable[[], float], write: Callable[[float], None], eps: float = DEFAULT_EPS
) -> float:
    """dL/dv for one scalar v reached through ``read``/``write``; ``v`` is restored afterwards.

    This form works for anything that holds a number: an array element, or a Python float
    attribute of a scalar-tier neuron.
    """
    original = read()
    try:
        write(original + eps)
        loss_plus = float(loss())
        write(original - eps)
        loss_minus = float(loss())
    finally:
        write(original)
    return (loss_plus - loss_minus) / (2.0 * eps)


def numerical_gradient(loss: Callable[[], float], x: Any, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Central-difference gradient of ``loss()`` with respect to every element of array ``x``.

    x is perturbed in place (one element at a time) and restored; ``loss`` must read it.
    Returns a NumPy float64 array shaped like x.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(*x.shape):

        def write(value: float, index: tuple = index) -> None:
            x[index] = value

        grad[index] = central_difference(loss, lambda index=index: float(x[index]), write, eps)
    return grad


def assert_gradient_close(
    name: str, analytic: Any, numeric: Any, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> None:
    """Raise GradcheckError naming the worst element when ``|analytic - numeric| > atol + rtol*|numeric|``."""
    analytic = np.asarray(to_cpu(analytic), dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise GradcheckError(
            f"gradient of {name!r} has shape {analytic.shape}, but its input has shape {numeric.shape}"
        )
    difference = np.abs(analytic - numeric)
    tolerance = atol + rtol * np.abs(numeric)
    bad = ~(difference <= tolerance)  # written this way so NaN counts as bad
    if bad.any():
        worst = np.unravel_index(np.argmax(np.where(bad, difference - tolerance, -np.inf)), bad.shape)
        if np.isnan(difference[worst]):
            worst = np.unravel_index(np.argmax(np.isnan(difference)), bad.shape)
        raise GradcheckError(
            f"gradient of {name!r} at index {tuple(int(i) for i in worst)}: received {float(analytic[worst])!r} "
            f"from backward, expected {float(numeric[worst])!r} from central difference "
            f"(|diff| {difference[worst]:.3g} > tolerance {tolerance[worst]:.3g}); "
            f"{int(bad.sum())} of {bad.size} elements differ"
        )


def gradcheck(
    loss: Callable[[], float],
    inputs: Mapping[str, Any],
    analytic: Mapping[str, Any],
    eps: float = DEFAULT_EPS,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> None:
    """Check ``analytic[name]`` against the central-difference gradient of ``loss()`` for each input.

    inputs: name -> array that ``loss`` reads (perturbed in place, then restored).
    analytic: name -> the gradient your backward computed, same shape.
    """
    for name, x in inputs.items():
        assert_gradient_close(name, analytic[name], numerical_gradient(loss, x, eps), rtol, atol)


def module_gradients(
    module: Any, x: Any, *, seed: int = 0, check_input: bool = True, eps: float = DEFAULT_EPS
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (gradient from ``backward``, gradient by central differences), as float64 NumPy arrays,
    for the input x ("input", unless ``check_input`` is False) and every parameter of the layer.

    The loss is ``sum(module.forward(x) * g)`` for a fixed random g, so its gradient with
    respect to the output is g, and ``module.backward(g)`` must return dL/dx and fill each
    ``parameter.grad``. Works with any object that has ``forward``, ``backward`` and
    ``named_parameters()`` (or ``parameters()``).
    """
    xp = get_array_module(x)
    rng = np.random.default_rng(seed)
    output = module.forward(x)
    upstream = xp.asarray(rng.standard_normal(output.shape), dtype=output.dtype)

    def loss() -> float:
        return float((module.forward(x) * upstream).sum())

    named = list(_named_parameters(module))
    for _, parameter in named:
        parameter.grad[...] = 0
    module.forward(x)
    grad_x = module.backward(upstream)
    inputs = ([("input", x, grad_x)] if check_input else []) + [
        (name, parameter.data, parameter.grad.copy()) for name, parameter in named
    ]
    return {
        name: (np.asarray(to_cpu(analytic), dtype=np.float64), numerical_gradient(loss, values, eps))
        for name, values, analytic in inputs
    }


def gradcheck_module(
    module: Any,
    x: Any,
    *,
    seed: int = 0,
    check_input: bool = True,
    eps: float = DEFAULT_EPS,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> None:
    """Gradcheck a layer's backward for its input and every parameter (see ``module_gradients``).
    Use float64 arrays and deterministic layers (for dropout, fix the mask)."""
    for name, (analytic, numeric) in module_gradients(module, x, seed=seed, check_input=check_input, eps=eps).items():
        assert_gradient_close(name, analytic, numeric, rtol, atol)


def worst_relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max over elements of |analytic - numeric| / max(|analytic|, |numeric|), 0 where both are 0: a
    scale-free summary (1e-10 is agreement to ten digits; near 1, the two disagree outright)."""
    difference = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    ratios = np.divide(difference, scale, out=np.zeros_like(difference), where=scale > 0)
    ratios[np.isnan(difference)] = np.inf
    return float(ratios.max()) if ratios.size else 0.0


def _named_parameters(module: Any) -> list[tuple[str, Any]]:
    if hasattr(module, "named_parameters"):
        return list(module.named_parameters())
    if hasattr(module, "parameters"):
        return [(f"parameter[{i}]", p) for i, p in enumerate(module.parameters())]
    return []
