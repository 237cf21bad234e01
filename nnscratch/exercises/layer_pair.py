"""Run a learner's layer beside the library's on the same numbers: the check every layer exercise shares.

The two layers get the same random parameters in float64, see the same input and the same
upstream gradient; their outputs, their dL/dx and every parameter gradient must agree. Then
``gradcheck_module`` compares the learner's backward with central differences of its own
forward, so a wrong backward is caught even where it happens to agree with nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..common.backend import to_device
from ..testing import GradcheckError, gradcheck_module
from .compare import Mismatch, expect_close


def random_array(shape: tuple[int, ...], seed: int) -> Any:
    """Standard normal float64 numbers of ``shape`` on the active backend, the same for a seed."""
    return to_device(np.random.default_rng(seed).standard_normal(shape))


def same_parameters(library_layer: Any, learner_layer: Any, seed: int) -> None:
    """Both layers in float64, the library's parameters redrawn at random and copied into the learner's.

    Random rather than the initial values, so that a weight of 1 or a bias of 0 cannot hide a wrong term.
    """
    library_layer.to(np.float64)
    learner_layer.to(np.float64)
    mine = learner_layer.parameters()
    for index, parameter in enumerate(library_layer.parameters()):
        parameter.data[...] = random_array(parameter.shape, seed + 100 + index)
        mine[index].data[...] = parameter.data


def expect_same_layer(name: str, library_layer: Any, learner_layer: Any, x: Any, seed: int = 0) -> None:
    """Forward and backward of both layers on x; the output, dL/dx and each parameter's grad compared."""
    for layer in (library_layer, learner_layer):
        layer.zero_grad()
    expected_y = library_layer.forward(x.copy())
    expect_close(f"{name}: the forward output", expected_y, learner_layer.forward(x.copy()))
    grad_out = random_array(expected_y.shape, seed + 1)
    expected_dx = library_layer.backward(grad_out.copy())
    expect_close(f"{name}: dL/dx (what backward returns)", expected_dx, learner_layer.backward(grad_out.copy()))
    mine = dict(learner_layer.named_parameters())
    for parameter_name, parameter in library_layer.named_parameters():
        expect_close(f"{name}: {parameter_name}.grad", parameter.grad, mine[parameter_name].grad)


def expect_central_differences(name: str, layer: Any, x: Any) -> None:
    """``gradcheck_module`` on the learner's layer, its failure as a ``Mismatch`` naming the layer."""
    try:
        gradcheck_module(layer, x.copy())
    except GradcheckError as error:
        raise Mismatch(f"{name}: central differences disagree: {error}") from None


def expect_layers_agree(
    library_class: type, learner_class: type, cases: Sequence[tuple[tuple, dict, tuple[int, ...]]]
) -> None:
    """For each case (constructor args, constructor kwargs, input shape): both layers built alike, then
    ``expect_same_layer`` and ``expect_central_differences`` (in training mode)."""
    for seed, (args, kwargs, shape) in enumerate(cases):
        library_layer, learner_layer = library_class(*args, **kwargs), learner_class(*args, **kwargs)
        same_parameters(library_layer, learner_layer, seed)
        name = repr(library_layer)
        x = random_array(shape, seed)
        expect_same_layer(name, library_layer, learner_layer, x, seed)
        expect_central_differences(name, learner_layer, x)
