"""One sample through a model, noting every layer as it computes: what ``flops`` and ``summary`` read.

A *layer* here is a leaf module, one without sub-modules. Running the model, rather than
walking its attributes, gives the layers in the order of the forward pass, blocks included,
and the shape of the input each one actually receives (a residual block's shortcut sees the
block's input, not its main branch's).
"""

from __future__ import annotations

import functools
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

    def note(module: Module, inputs: tuple, output: Any, name: str) -> None:
        calls.append(LayerCall(name, module, tuple(inputs[0].shape[1:]), tuple(output.shape[1:])))

    layers = [(name, module) for name, module in model.named_modules() if not list(module.named_children())]
    handles = [module.register_forward_hook(functools.partial(note, name=name)) for name, module in layers]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model.forward(to_device(np.zeros((1, *input_shape), dtype=np.float32)))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return calls
