"""Saliency maps: which input values the predicted class's score is most sensitive to.

For one input x and a model's logits z = f(x), the saliency of class c is the gradient of
that class's *logit* (its score before the softmax, not its probability) with respect to
the input (Simonyan, Vedaldi and Zisserman 2014, "Deep Inside Convolutional Networks"):

    S = dz_c / dx          same shape as x

No new derivative is written for it. Training runs the chain rule backwards from
g = dL/dz; here it starts from g = e_c, the one-hot of class c, and the same ``backward``
calls carry it down to dz_c/dx. Two things differ from a training step:

- the model runs in evaluation mode (no dropout; batch norms use their running
  statistics), so each sample's score depends on that sample alone and one backward of a
  batch of one-hots gives every sample's own gradient;
- a network's first layer is usually built with ``needs_input_grad = False`` (nothing
  differentiates the data in training), so every layer is asked for dL/dx for the duration.

The model is left as it was found: its mode, its ``needs_input_grad`` flags and the
parameters' ``.grad`` (which the backward adds into) are all restored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..common.backend import get_array_module
from .module import Module


@contextmanager
def _asking_for_input_gradients(model: Module) -> Iterator[None]:
    """Evaluation mode with dL/dx from every layer; mode, flags and parameter gradients restored on exit."""
    modules = model.modules()
    flags = [module.needs_input_grad for module in modules]
    gradients = [(parameter, parameter.grad.copy()) for parameter in model.parameters()]
    was_training = model.training
    for module in modules:
        module.needs_input_grad = True
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)
        for module, flag in zip(modules, flags, strict=True):
            module.needs_input_grad = flag
        for parameter, gradient in gradients:
            parameter.grad[...] = gradient


def _score_gradient(model: Module, x: Any, choose: Callable[[Any], Any]) -> tuple[Any, Any]:
    """One forward of x (N, ...), ``choose(logits)`` -> classes (N,), one backward of their one-hots.
    Returns (dz_c/dx shaped like x, classes)."""
    xp = get_array_module(x)
    with _asking_for_input_gradients(model):
        logits = model.forward(x)
        classes = xp.asarray(choose(logits))
        if classes.shape != (len(x),):
            raise ValueError(f"saliency: classes must have shape ({len(x)},), got {tuple(classes.shape)}")
        one_hot = xp.zeros_like(logits)
        one_hot[xp.arange(len(x)), classes] = 1
        return model.backward(one_hot), classes


def class_score_gradient(model: Module, x: Any, classes: Any) -> Any:
    """dz_c/dx, the gradient of each sample's logit of class ``classes[n]`` with respect to the sample.

    x: (N, ...) what the model takes, e.g. (N, C, H, W) or (N, features); classes: (N,) integers.
    Returns (N, ...) shaped like x.
    """
    return _score_gradient(model, x, lambda _logits: classes)[0]


def saliency(model: Module, x: Any) -> tuple[Any, Any]:
    """The gradient of each sample's predicted-class logit w.r.t. the sample, and that predicted class.

    x: (N, ...). Returns (gradient (N, ...) shaped like x, predicted (N,) integers), from one
    forward and one backward. To show it as a picture, take the absolute value and its maximum
    over the channels (``saliency_image``).
    """
    return _score_gradient(model, x, lambda logits: get_array_module(logits).argmax(logits, axis=1))


def saliency_image(gradient: Any) -> Any:
    """|dz_c/dx| as one value per pixel: the largest over the channels. gradient: (N, C, H, W) -> (N, H, W)."""
    return get_array_module(gradient).abs(gradient).max(axis=1)
