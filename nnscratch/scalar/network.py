"""A multilayer perceptron of scalar neurons, trained with softmax cross-entropy.

    inputs (input_size,) -> [Layer -> Dropout?] per hidden layer -> Layer("linear") -> logits (num_classes,)

Each hidden layer is a fully connected ``Layer`` with its activation, followed by a
``Dropout`` when its probability is > 0; the last layer is linear and gives one logit per
class. Samples go through one at a time: a batch is a loop over samples, and its gradient is
the mean of theirs (``forward_backward``).

Reaching the numbers (e.g. to copy in a vectorized MLP's weights, or to read gradients)::

    network.dense_layers[k].set_weights(linear.weight.data, linear.bias.data)   # (out, in), (out,)
    network.dense_layers[k].neurons[j].weights / .bias / .grad_weights / .grad_bias
    network.parameters()   # every weight and bias, with .value and .grad, for an optimizer
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence

from ..common.checks import check_int
from ..common.seed import next_seed
from ..common.state import state_problems
from .activations import get_activation
from .layer import Dropout, Layer
from .loss import cross_entropy
from .neuron import Bias, Weight
from .trace import format_trace


def layer_plan(
    hidden_sizes: Sequence[int], activations: str | Sequence[str] = "relu", dropout: float | Sequence[float] = 0.0
) -> list[tuple[int, str, float]]:
    """(size, activation, dropout probability) for each hidden layer, with every option checked.

    activations and dropout: one value (or a one-element list) for every hidden layer, or
    one per hidden layer. Raises ValueError saying which option is wrong and what was expected.
    """
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise ValueError(f"Network: hidden_sizes must be a list of positive integers, got {hidden_sizes!r}")
    sizes = list(hidden_sizes)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise ValueError(f"Network: hidden sizes must be positive integers, got {sizes}")
    names = _one_per_layer("activations", activations, len(sizes))
    for layer_number, name in enumerate(names, start=1):
        try:
            get_activation(name)
        except ValueError as error:
            raise ValueError(f"Network: hidden layer {layer_number}: {error}") from None
    probabilities = _one_per_layer("dropout", dropout, len(sizes))
    for layer_number, p in enumerate(probabilities, start=1):
        if not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ValueError(f"Network: hidden layer {layer_number}: dropout must be in [0, 1), got {p!r}")
    return [(int(size), name, float(p)) for size, name, p in zip(sizes, names, probabilities, strict=True)]


def _one_per_layer(option: str, value: object, num_layers: int) -> list:
    """``value`` repeated for each layer, or the list itself when it has one entry per layer."""
    if isinstance(value, (str, numbers.Number)):
        return [value] * num_layers
    values = list(value)
    if len(values) == 1:
        return values * num_layers
    if len(values) != num_layers:
        raise ValueError(
            f"Network: got {len(values)} {option} {values} for {num_layers} hidden layer(s): "
            "give one value for all of them or one per hidden layer"
        )
    return values


class Network:
    """input_size -> hidden_sizes -> num_classes logits; softmax cross-entropy as the loss.

    activations, dropout: one for every hidden layer or one per hidden layer (see
    :func:`layer_plan`). seed: the initial weights and dropout masks (None: drawn from
    ``manual_seed``'s root). ``layers`` lists the Layers and Dropouts in order;
    ``dense_layers`` only the Layers. A new network is in training mode.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        num_classes: int,
        activations: str | Sequence[str] = "relu",
        dropout: float | Sequence[float] = 0.0,
        seed: int | None = 0,
    ) -> None:
        input_size = check_int("Network", "input_size", input_size)
        num_classes = check_int("Network", "num_classes", num_classes)
        plan = layer_plan(hidden_sizes, activations, dropout)
        rng = random.Random(next_seed() if seed is None else seed)
        self.input_size = input_size
        self.num_classes = num_classes
        self.layers: list[Layer | Dropout] = []
        fan_in = input_size
        for size, activation, p in plan:
            self.layers.append(Layer(fan_in, size, activation, rng))
            if p > 0:
                self.layers.append(Dropout(p, seed=rng.getrandbits(63)))
            fan_in = size
        self.layers.append(Layer(fan_in, num_classes, "linear", rng))
        self.training = True

    @property
    def dense_layers(self) -> list[Layer]:
        return [layer for layer in self.layers if isinstance(layer, Layer)]

    @property
    def architecture(self) -> str:
        """Layer sizes like ``784-32-10``."""
        return "-".join(str(n) for n in [self.input_size] + [layer.num_outputs for layer in self.dense_layers])

    def __repr__(self) -> str:
        return f"Network({self.architecture}, layers={self.layers})"

    def forward(self, inputs: Sequence[float]) -> list[float]:
        """The logits (num_classes,) of one sample (input_size,)."""
        if len(inputs) != self.input_size:
            raise ValueError(
                f"Network(input_size={self.input_size}) got a sample of {len(inputs)} values: "
                f"expected {self.input_size}"
            )
        values = inputs
        for layer in self.layers:
            values = layer.forward(values)
        return values

    def backward(self, grad_logits: Sequence[float], input_grad: bool = False) -> list[float] | None:
        """Given d loss / d logits of the last forward: add every parameter's gradient.

        Returns d loss / d inputs (input_size,) when input_grad=True, else None (the default:
        the gradient of the pixels is not needed to train, and costs as much as the first
        layer's weight gradients).
        """
        grad = grad_logits
        for layer in reversed(self.layers[1:]):
            grad = layer.backward(grad)
        return self.layers[0].backward(grad, input_grad)

    def forward_backward(
        self, batch_inputs: Sequence[Sequence[float]], batch_targets: Sequence[int]
    ) -> tuple[float, int]:
        """Mean cross-entropy over a batch, adding d(mean loss)/d(parameter) into every gradient.

        Each sample goes forward, then backward with (softmax - onehot) / N: the 1/N belongs to
        the mean, so the samples' contributions add up to the gradient of the mean loss,
        exactly what PyTorch's ``CrossEntropyLoss()`` gives. Returns (mean loss, number of
        samples whose largest logit is the target).
        """
        num_samples = _check_batch(batch_inputs, batch_targets)
        total_loss, correct = 0.0, 0
        for inputs, target in zip(batch_inputs, batch_targets, strict=True):
            logits = self.forward(inputs)
            loss, grad_logits = cross_entropy(logits, target)
            self.backward([g / num_samples for g in grad_logits])
            total_loss += loss
            correct += argmax(logits) == target
        return total_loss / num_samples, correct

    def evaluate(self, batch_inputs: Sequence[Sequence[float]], batch_targets: Sequence[int]) -> tuple[float, int]:
        """(mean loss, number correct) over a batch, forward only (in the current mode)."""
        num_samples = _check_batch(batch_inputs, batch_targets)
        total_loss, correct = 0.0, 0
        for inputs, target in zip(batch_inputs, batch_targets, strict=True):
            logits = self.forward(inputs)
            total_loss += cross_entropy(logits, target)[0]
            correct += argmax(logits) == target
        return total_loss / num_samples, correct

    def predict(self, inputs: Sequence[float]) -> int:
        """The class with the largest logit for one sample."""
        return argmax(self.forward(inputs))

    def parameters(self) -> list[Weight | Bias]:
        """Every weight and bias, layer by layer and neuron by neuron, with ``.value`` and ``.grad``."""
        return [parameter for layer in self.dense_layers for parameter in layer.parameters()]

    def zero_grad(self) -> None:
        for layer in self.dense_layers:
            layer.zero_grad()

    def train(self, mode: bool = True) -> Network:
        """Training mode (dropout on) or, with mode=False, evaluation mode (dropout off)."""
        self.training = mode
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.training = mode
        return self

    def eval(self) -> Network:
        return self.train(False)

    # ------------------------------------------------------------------ state (checkpoints)

    def state_dict(self) -> dict[str, list]:
        """Every weight and bias as (nested) lists of floats, named as the vectorized tier names them:
        ``{"0.weight": [[w_ji]] (out, in), "0.bias": [b_j] (out,), "2.weight": ...}``, by each
        Layer's position in ``layers``. New lists: changing them changes nothing here."""
        state = {}
        for index, layer in enumerate(self.layers):
            if isinstance(layer, Layer):
                state[f"{index}.weight"] = [list(neuron.weights) for neuron in layer.neurons]
                state[f"{index}.bias"] = [neuron.bias for neuron in layer.neurons]
        return state

    def load_state_dict(self, state: dict[str, Sequence], strict: bool = True) -> None:
        """Copy weights and biases from a ``state_dict()`` (lists or arrays of the same shapes).

        With ``strict``, missing and unexpected names are errors; mis-shaped entries always are.
        Every problem is named in one ValueError, and then nothing is changed.
        """
        own = self.state_dict()
        problems = state_problems(own, state, strict)
        if problems:
            raise ValueError("Network.load_state_dict: " + " | ".join(problems))
        try:
            self._set_weights(state)
        except (KeyError, TypeError, ValueError):
            self._set_weights(own)
            raise

    def _set_weights(self, state: dict[str, Sequence]) -> None:
        for index, layer in enumerate(self.layers):
            if f"{index}.weight" in state:
                layer.set_weights(state[f"{index}.weight"], state[f"{index}.bias"])

    def extra_state_dict(self) -> dict[str, dict]:
        """``{position: Dropout.extra_state()}``: every dropout layer's mask stream."""
        return {
            str(index): layer.extra_state() for index, layer in enumerate(self.layers) if isinstance(layer, Dropout)
        }

    def load_extra_state_dict(self, states: dict[str, dict]) -> None:
        """Restore an ``extra_state_dict()`` (the same dropout positions, else a ValueError naming them)."""
        own = {str(index): layer for index, layer in enumerate(self.layers) if isinstance(layer, Dropout)}
        problems = state_problems(dict.fromkeys(own), states)
        if problems:
            raise ValueError("Network.load_extra_state_dict: " + " | ".join(problems))
        before = self.extra_state_dict()
        try:
            for position, layer in own.items():
                layer.load_extra_state(states[position])
        except (KeyError, TypeError, ValueError):
            for position, layer in own.items():
                layer.load_extra_state(before[position])
            raise

    def trace(self, inputs: Sequence[float], target: int) -> str:
        """Every value and gradient of one sample's forward and backward, as text tables.

        Zeroes the gradients first, so the dw columns are this sample's alone. See ``trace.py``.
        """
        return format_trace(self, inputs, target)


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value (the first one on a tie, as PyTorch)."""
    return max(range(len(values)), key=values.__getitem__)


def _check_batch(batch_inputs: Sequence, batch_targets: Sequence) -> int:
    if len(batch_inputs) != len(batch_targets) or len(batch_inputs) == 0:
        raise ValueError(
            f"Network: a batch needs as many targets as samples (at least one), "
            f"got {len(batch_inputs)} samples and {len(batch_targets)} targets"
        )
    return len(batch_inputs)
