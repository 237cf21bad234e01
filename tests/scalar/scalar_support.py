"""Helpers for the scalar tier's tests: central differences over Python float attributes, and
the same network rebuilt in PyTorch (float64) from a scalar network's weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from nnscratch.scalar import Dropout, Layer, Network
from nnscratch.testing import assert_gradient_close, central_difference

TORCH_ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,  # negative_slope 0.01, as ours
    "gelu": F.gelu,  # exact (erf), as ours
    "silu": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda z: z,
}


def assert_parameter_gradients(loss: Callable[[], float], parameters: Sequence, name: str) -> None:
    """Each parameter's ``.grad`` equals the central difference of ``loss()`` in its ``.value``."""
    numeric = [
        central_difference(loss, lambda p=p: p.value, lambda value, p=p: setattr(p, "value", value)) for p in parameters
    ]
    assert_gradient_close(name, [p.grad for p in parameters], numeric)


def assert_list_gradient(loss: Callable[[], float], values: list[float], analytic: Sequence[float], name: str) -> None:
    """``analytic[i]`` equals the central difference of ``loss()`` in ``values[i]`` (changed in place)."""

    def writer(i: int) -> Callable[[float], None]:
        return lambda value: values.__setitem__(i, value)

    numeric = [central_difference(loss, lambda i=i: values[i], writer(i)) for i in range(len(values))]
    assert_gradient_close(name, list(analytic), numeric)


def restart_dropout(network: Network) -> None:
    """Rewind every dropout mask stream: the next forwards draw the same masks as the last time."""
    for layer in network.layers:
        if isinstance(layer, Dropout):
            layer.restart()


def torch_weights(layer: Layer) -> tuple[torch.Tensor, torch.Tensor]:
    """A dense layer's weights (out, in) and biases (out,) as leaf tensors that collect gradients."""
    weight = torch.tensor([neuron.weights for neuron in layer.neurons], requires_grad=True)
    bias = torch.tensor([neuron.bias for neuron in layer.neurons], requires_grad=True)
    return weight, bias


def torch_forward(
    network: Network,
    parameters: list[tuple[torch.Tensor, torch.Tensor]],
    x: torch.Tensor,
    masks: list[list[float]] | None = None,
) -> torch.Tensor:
    """The logits (num_classes,) of one sample x (input_size,) through ``network``'s layers in PyTorch.

    masks: the dropout masks our network drew for this sample, in layer order (dropout in training mode).
    """
    masks = list(masks or [])
    dense = iter(parameters)
    for layer in network.layers:
        if isinstance(layer, Dropout):
            if layer.training:
                x = x * torch.tensor(masks.pop(0))
        else:
            weight, bias = next(dense)
            x = TORCH_ACTIVATIONS[layer.activation](F.linear(x, weight, bias))
    return x


def record_masks(network: Network, batch: Sequence[Sequence[float]]) -> list[list[list[float]]]:
    """The dropout masks the network draws for each sample of ``batch`` after a restart (then restarts again)."""
    restart_dropout(network)
    masks = []
    for sample in batch:
        network.forward(sample)
        masks.append([list(layer.mask) for layer in network.layers if isinstance(layer, Dropout) and layer.mask])
    restart_dropout(network)
    return masks
