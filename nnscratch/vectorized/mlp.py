"""A multilayer perceptron built from the tier's layers: the model of ``nnscratch mlp``.

    build_mlp(784, [256, 128], 10)

gives, for every hidden size h, ``Linear -> [BatchNorm1D] -> activation -> [Dropout]``,
then a last ``Linear`` to the class scores (logits; the loss applies the softmax):

    Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10))

Batch normalisation goes before the activation, as in Ioffe & Szegedy (2015), and dropout
after it, so that it drops the values the next layer reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from .activations import ACTIVATIONS
from .modules import BatchNorm1D, Dropout, Linear, Module, Sequential, make_activation


def build_mlp(
    input_size: int,
    hidden_sizes: Sequence[int],
    num_classes: int,
    activations: str | Sequence[str] = "relu",
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> Sequential:
    """An MLP taking x: (N, input_size) to logits: (N, num_classes).

    activations: one name (or a list of one) for every hidden layer, or one per hidden layer (see
    ``make_activation``). dropout: the probability p of the Dropout after each hidden
    activation (none when 0). batchnorm: a BatchNorm1D after each hidden Linear.

    The first Linear sees the data, which nothing differentiates, so it is built with
    ``needs_input_grad = False`` and ``model.backward`` returns None; set it back to True
    to get dL/dx (e.g. for a saliency map).
    """
    hidden_sizes = list(hidden_sizes)
    names = [activations] if isinstance(activations, str) else list(activations)
    if len(names) == 1:
        names = names * len(hidden_sizes)
    if len(names) != len(hidden_sizes):
        raise ValueError(
            f"build_mlp: got {len(names)} activations {names} for {len(hidden_sizes)} hidden layers "
            f"{hidden_sizes}: give one name, or one per hidden layer"
        )
    unknown = list(dict.fromkeys(name for name in names if name not in ACTIVATIONS))  # each once, in order
    if unknown:
        raise ValueError(f"build_mlp: unknown activation(s) {unknown}; choose from: {', '.join(ACTIVATIONS)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"build_mlp: dropout must be in [0, 1), got {dropout}")
    layers: list[Module] = []
    sizes = [input_size, *hidden_sizes]
    for fan_in, fan_out, name in zip(sizes[:-1], hidden_sizes, names, strict=True):
        layers.append(Linear(fan_in, fan_out))
        if batchnorm:
            layers.append(BatchNorm1D(fan_out))
        layers.append(make_activation(name))
        if dropout > 0:
            layers.append(Dropout(dropout))
    layers.append(Linear(sizes[-1], num_classes))
    layers[0].needs_input_grad = False
    return Sequential(*layers)
