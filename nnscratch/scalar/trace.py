"""Every number of one sample's trip through a network, as tables a learner can check by hand.

The trace walks the layers itself, one at a time, so that it can print what each one
received and produced: first forward (per neuron: its weights under the inputs they
multiply, the bias, z and a), then the loss (logits, softmax, one-hot target), then
backward from the loss to the inputs (per neuron: grad_a, f'(z), dz, dw under the same
columns, db; and the layer's dx). Numbers are rounded to 4 decimals.

Inputs wider than 8 values are shown as their first three, "...", and the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layer import Dropout, Layer
from .loss import cross_entropy, softmax

if TYPE_CHECKING:
    from .network import Network

CELL = 10  # characters per number column
MAX_SHOWN = 8  # a wider row of inputs is shown as 3 values, "...", the last

# The sample of ``nnscratch scalar --trace``: made-up numbers small enough to multiply by hand.
TOY_INPUTS = (0.5, -1.2, 0.3, 0.8)
TOY_TARGET = 1
TOY_CLASSES = 2


@dataclass
class SampleRecord:
    """What one sample's forward and backward passed between the layers of a network.

    layer_inputs[k]: what layer k received (the sample itself for k = 0); logits (C,);
    loss: -log softmax(logits)[target]; grad_logits (C,): softmax - onehot(target);
    grad_outputs[k] and grad_inputs[k]: d loss / d (output of layer k) and / d (its input).
    The neurons keep the rest (z, a, dz, grad_weights, grad_bias).
    """

    layer_inputs: list[Sequence[float]]
    logits: Sequence[float]
    loss: float
    grad_logits: list[float]
    grad_outputs: list[Sequence[float]]
    grad_inputs: list[Sequence[float]]


def run_sample(network: Network, inputs: Sequence[float], target: int) -> SampleRecord:
    """Send one sample (input_size,) of class ``target`` forward and backward, layer by layer.

    Zeroes the gradients first, so what the neurons hold afterwards is this sample's alone.
    """
    network.zero_grad()
    layers = network.layers
    layer_inputs: list[Sequence[float]] = []
    values: Sequence[float] = inputs
    for layer in layers:
        layer_inputs.append(values)
        values = layer.forward(values)
    loss, grad_logits = cross_entropy(values, target)
    grad_outputs: list[Sequence[float]] = [[] for _ in layers]
    grad_inputs: list[Sequence[float]] = [[] for _ in layers]
    grad: Sequence[float] = grad_logits
    for index in reversed(range(len(layers))):
        grad_outputs[index] = grad
        grad = grad_inputs[index] = layers[index].backward(grad)
    return SampleRecord(layer_inputs, values, loss, grad_logits, grad_outputs, grad_inputs)


def format_trace(network: Network, inputs: Sequence[float], target: int) -> str:
    """The trace of ``network`` on one sample (input_size,) with class ``target``; zeroes the gradients first."""
    record = run_sample(network, inputs, target)
    layers = network.layers
    layer_inputs, logits, loss = record.layer_inputs, record.logits, record.loss
    grad_outputs, grad_inputs = record.grad_outputs, record.grad_inputs
    mode = "training mode" if network.training else "evaluation mode"
    lines = [
        f"Trace of one sample through a {network.architecture} network ({mode}), target class y = {target}.",
        "Numbers are rounded to 4 decimals; each one can be recomputed from those above it.",
        "",
        "FORWARD   z = sum_i w_i * x_i + b,   a = f(z)",
    ]
    for number, (layer, x) in enumerate(zip(layers, layer_inputs, strict=True), start=1):
        lines += ["", *_forward_table(number, layer, x)]
    lines += ["", *_loss_table(logits, target, loss)]
    lines += [
        "",
        "BACKWARD   dz = grad_a * f'(z),   dw_i = dz * x_i,   db = dz,   dx_i = sum_j dz_j * w_ji",
        "(x_i are the layer's inputs above; its dx row becomes the grad_a column of the layer before it)",
    ]
    for index in reversed(range(len(layers))):
        lines += ["", *_backward_table(index + 1, layers[index], grad_outputs[index], grad_inputs[index])]
    return "\n".join(lines) + "\n"


def trace_toy_network(
    hidden_sizes: Sequence[int] = (3,),
    activations: str | Sequence[str] = "relu",
    dropout: float | Sequence[float] = 0.0,
    seed: int = 0,
) -> str:
    """The trace of a fresh 4-(hidden_sizes)-2 network on the toy sample ``TOY_INPUTS``, class ``TOY_TARGET``."""
    from .network import Network  # network.py imports this module for Network.trace

    network = Network(len(TOY_INPUTS), hidden_sizes, TOY_CLASSES, activations, dropout, seed)
    header = (
        f"The sample is a toy: x = {TOY_INPUTS} (4 made-up features), target class {TOY_TARGET} of "
        f"{TOY_CLASSES}; weights drawn with seed {seed}.\n"
    )
    return header + network.trace(list(TOY_INPUTS), TOY_TARGET)


# ----------------------------------------------------------------------------- tables


def _number(value: float) -> str:
    text = f"{value:.4f}" if abs(value) < 1e5 else f"{value:.3e}"
    return "0.0000" if text == "-0.0000" else text  # a sign on zero would only distract


def _shown(count: int) -> list[int | None]:
    """Which of ``count`` columns to print; None marks the "..." column."""
    if count <= MAX_SHOWN:
        return list(range(count))
    return [0, 1, 2, None, count - 1]


def _cells(values: Sequence[float], shown: list[int | None]) -> list[str]:
    return ["..." if i is None else _number(values[i]) for i in shown]


def _indexed(name: str, shown: list[int | None]) -> list[str]:
    return ["..." if i is None else f"{name}[{i}]" for i in shown]


def _row(label: str, *groups: Sequence[str]) -> str:
    """``label | cells | cells ...``: every cell right-aligned in CELL characters."""
    line = f"  {label:<8}|" + " |".join("".join(f"{cell:>{CELL}}" for cell in group) for group in groups)
    return line.rstrip()


def _forward_table(number: int, layer: Layer | Dropout, x: Sequence[float]) -> list[str]:
    if isinstance(layer, Dropout):
        if layer.mask is None:
            return [f"layer {number}: dropout (p = {layer.p}) is off in evaluation: values pass unchanged"]
        scale = 1.0 / (1.0 - layer.p)
        lines = [
            f"layer {number}: dropout (p = {layer.p}): each value kept with probability {1 - layer.p:g} "
            f"and scaled by 1/(1 - p) = {scale:.4f}, else set to 0",
            _row("value", ["in", "mask", "out"]),
        ]
        lines += [
            _row(str(i), [_number(v), _number(m), _number(v * m)])
            for i, (v, m) in enumerate(zip(x, layer.mask, strict=True))
        ]
        return lines
    shown = _shown(layer.num_inputs)
    blank = [""]
    lines = [
        f"layer {number}: {layer.num_inputs} inputs -> {layer.num_outputs} neurons, activation {layer.activation}",
        _row("neuron", _indexed("w", shown), ["b"], ["z"], ["a"]),
        _row("input x", _cells(x, shown), blank, blank, blank),
    ]
    for j, neuron in enumerate(layer.neurons):
        numbers = [_number(neuron.bias)], [_number(neuron.z)], [_number(neuron.a)]
        lines.append(_row(str(j), _cells(neuron.weights, shown), *numbers))
    return lines


def _loss_table(logits: Sequence[float], target: int, loss: float) -> list[str]:
    probabilities = softmax(logits)
    lines = [
        "LOSS   p = softmax(z),   loss = -log p[y],   d loss / d z = p - onehot(y)",
        "",
        _row("class", ["logit z", "p", "onehot", "dloss/dz"]),
    ]
    for j, (z, p) in enumerate(zip(logits, probabilities, strict=True)):
        onehot = 1.0 if j == target else 0.0
        lines.append(_row(str(j), [_number(z), _number(p), _number(onehot), _number(p - onehot)]))
    lines.append(f"  loss = -log p[{target}] = {_number(loss)}")
    return lines


def _backward_table(
    number: int, layer: Layer | Dropout, grad_outputs: Sequence[float], grad_inputs: Sequence[float]
) -> list[str]:
    if isinstance(layer, Dropout):
        if layer.mask is None:
            return [f"layer {number}: dropout is off: gradients pass unchanged"]
        lines = [
            f"layer {number}: dropout: d loss / d in = d loss / d out * mask",
            _row("value", ["grad out", "mask", "grad in"]),
        ]
        lines += [
            _row(str(i), [_number(g), _number(m), _number(d)])
            for i, (g, m, d) in enumerate(zip(grad_outputs, layer.mask, grad_inputs, strict=True))
        ]
        return lines
    shown = _shown(layer.num_inputs)
    blank = [""]
    lines = [
        f"layer {number}: {layer.num_inputs} inputs -> {layer.num_outputs} neurons, activation {layer.activation}",
        _row("neuron", ["grad_a", "f'(z)", "dz"], _indexed("dw", shown), ["db"]),
    ]
    for j, (neuron, grad_a) in enumerate(zip(layer.neurons, grad_outputs, strict=True)):
        slope = neuron.activation.slope(neuron.z)
        lines.append(
            _row(
                str(j),
                [_number(grad_a), _number(slope), _number(neuron.dz)],
                _cells(neuron.grad_weights, shown),
                [_number(neuron.grad_bias)],
            )
        )
    lines.append(_row("dx", ["", "", ""], _cells(grad_inputs, shown), blank))
    return lines
