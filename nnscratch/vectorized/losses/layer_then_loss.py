"""A loss taken of a layer's output: how ``--loss nll`` puts ``LogSoftmax`` before ``NLLLoss``.

The trainers call ``loss.forward(model_output, targets)`` and ``model.backward(loss.backward())``.
A loss that needs its input transformed first (NLL needs log-probabilities, the model gives
logits) could have the layer appended to the model, but then the model's parameters would be
renamed and its predictions would change form. Wrapping the loss instead leaves the model as it
is: forward runs the layer then the loss, backward runs the chain rule the other way::

    L = loss(layer(z))          d L / d z = layer.backward(loss.backward())
"""

from __future__ import annotations

from typing import Any

from ..module import Module


class LayerThenLoss:
    """``loss`` applied to ``layer(input)``; forward(input, target) -> L, backward() -> d L / d input.

    layer: a module (e.g. ``LogSoftmax(axis=1)``); loss: a loss (e.g. ``NLLLoss()``). Its
    ``reduction`` is the loss's.
    """

    def __init__(self, layer: Module, loss: Any) -> None:
        if not isinstance(layer, Module):
            raise TypeError(f"LayerThenLoss: layer must be a Module such as LogSoftmax, got {type(layer).__name__}")
        self.layer = layer
        self.loss = loss

    @property
    def reduction(self) -> str:
        return self.loss.reduction

    def forward(self, input: Any, target: Any) -> Any:
        return self.loss.forward(self.layer.forward(input), target)

    __call__ = forward

    def backward(self, grad_loss: Any = None) -> Any:
        return self.layer.backward(self.loss.backward(grad_loss))

    def __repr__(self) -> str:
        return f"LayerThenLoss({self.layer!r}, {type(self.loss).__name__}())"
