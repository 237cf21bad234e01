"""One sample through a model, noting every layer as it computes: what ``flops`` and ``summary`` read.

A *layer* here is a leaf module, one without sub-modules. Running the model, rather than
walking its attributes, gives the layers in the order of the forward pass, blocks included,
and the shape of the input each one actually receives (a residual block's shortcut sees the
block's input, not its main branch's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..common.backend import to_device
from .module import Module, no_grad


@dataclass
class LayerCall:
    """One layer's part in a forward pass: its path in the model, the module, and its input and output
    shapes without the batch axis."""

    name: str
    module: Module
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def trace_layers(model: Module, input_shape: tuple[int, ...]) -> list[LayerCall]:
    """Every layer of ``model``, in the order a forward pass of one zero sample of ``input_shape``
    (no batch axis) calls them, in eval mode and inside ``no_grad`` (so nothing is kept and no
    running statistic changes). The model's mode is restored afterwards.
    """
    calls: list[LayerCall] = []
    layers = [(name, module) for name, module in model.named_modules() if not list(module.named_children())]
    for name, module in layers:
        original = module.forward

        def traced(x: Any, name: str = name, module: Module = module, original: Any = original) -> Any:
            y = original(x)
            calls.append(LayerCall(name, module, tuple(x.shape[1:]), tuple(y.shape[1:])))
            return y

        module.forward = traced  # an instance attribute shadows the class's forward for this run only
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model.forward(to_device(np.zeros((1, *input_shape), dtype=np.float32)))
    finally:
        for _, module in layers:
            del module.forward
        model.train(was_training)
    return calls
