"""A layer of neurons, and dropout: lists of Python floats in, lists out.

A fully connected ``Layer`` is a list of neurons that all see the same inputs. Its backward
hands each neuron the gradient of its own output, and since every input x_i feeds every
neuron j, the gradient of x_i is the sum of what the neurons send back::

    dx_i = sum_j dz_j * w_ji

Neuron j's weights are row j of the vectorized tier's ``Linear`` weight (out, in), and its
bias is element j of the bias (out,): ``set_weights`` copies them in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from ..common.checks import check_int
from ..common.seed import next_seed
from .neuron import Bias, Neuron, Weight
from .rng_state import random_state, restored_random


class Layer:
    """``num_outputs`` neurons, each z_j = sum_i w_ji x_i + b_j, a_j = f(z_j).

    inputs: (num_inputs,) -> outputs: (num_outputs,). ``neurons[j]`` holds row j of the
    weights (see :class:`Neuron` for its attributes). Initial weights come from ``rng``
    (a ``random.Random``; a fresh one from ``manual_seed``'s root when None).
    """

    def __init__(
        self, num_inputs: int, num_outputs: int, activation: str = "relu", rng: random.Random | None = None
    ) -> None:
        num_outputs = check_int("Layer", "num_outputs", num_outputs)
        rng = random.Random(next_seed()) if rng is None else rng
        self.neurons = [Neuron(num_inputs, activation, fan_out=num_outputs, rng=rng) for _ in range(num_outputs)]

    @property
    def num_inputs(self) -> int:
        return len(self.neurons[0].weights)

    @property
    def num_outputs(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation.name

    def __repr__(self) -> str:
        return f"Layer(num_inputs={self.num_inputs}, num_outputs={self.num_outputs}, activation={self.activation!r})"

    def forward(self, inputs: Sequence[float]) -> list[float]:
        """[a_1 .. a_m]: every neuron's output for inputs (num_inputs,)."""
        if len(inputs) != self.num_inputs:
            raise ValueError(f"{self!r} got {len(inputs)} inputs: expected {self.num_inputs}")
        return [neuron.forward(inputs) for neuron in self.neurons]

    def backward(self, grad_outputs: Sequence[float], input_grad: bool = True) -> list[float] | None:
        """Given d loss / d a_j (num_outputs,): fill each neuron's gradients; return dx (num_inputs,).

        input_grad=False skips dx and returns None (see :meth:`Neuron.backward`).
        """
        if len(grad_outputs) != self.num_outputs:
            raise ValueError(f"{self!r}: backward got {len(grad_outputs)} gradients: expected {self.num_outputs}")
        grad_inputs = [0.0] * self.num_inputs if input_grad else None
        for neuron, grad_a in zip(self.neurons, grad_outputs, strict=True):
            from_neuron = neuron.backward(grad_a, input_grad)
            if input_grad:
                grad_inputs = [total + part for total, part in zip(grad_inputs, from_neuron, strict=True)]
        return grad_inputs

    def parameters(self) -> list[Weight | Bias]:
        """Each neuron's weights then bias, neuron by neuron (see :meth:`Neuron.parameters`)."""
        return [parameter for neuron in self.neurons for parameter in neuron.parameters()]

    def zero_grad(self) -> None:
        for neuron in self.neurons:
            neuron.zero_grad()

    def set_weights(self, weight_rows: Sequence[Sequence[Any]], biases: Sequence[Any]) -> None:
        """Copy in weights (num_outputs, num_inputs) and biases (num_outputs,) as Python floats.

        Any nested sequence of numbers works, e.g. a vectorized ``Linear``'s weight and bias
        arrays (on the CPU). Everything is converted and checked before anything is changed.
        """
        shape = (self.num_outputs, self.num_inputs)
        rows = [[float(w) for w in row] for row in weight_rows]
        new_biases = [float(b) for b in biases]
        row_lengths = sorted({len(row) for row in rows})
        if len(rows) != shape[0] or row_lengths != [shape[1]]:
            raise ValueError(
                f"{self!r}.set_weights: weights must have shape {shape}, "
                f"got {len(rows)} rows of length(s) {row_lengths}"
            )
        if len(new_biases) != shape[0]:
            raise ValueError(f"{self!r}.set_weights: biases must have length {shape[0]}, got {len(new_biases)}")
        for neuron, row, bias in zip(self.neurons, rows, new_biases, strict=True):
            neuron.weights = row
            neuron.bias = bias


class Dropout:
    """Inverted dropout (Srivastava et al. 2014), value by value.

    In training, each value is kept with probability 1 - p and scaled by 1 / (1 - p), or set
    to 0; the scaling keeps the expected value unchanged, so in evaluation (``training =
    False``) the layer passes values through untouched. Backward multiplies by the same mask.

    inputs: (n,) -> outputs: (n,). ``mask`` holds the last forward's factors (0 or 1/(1-p)),
    None in evaluation. The masks come from ``random.Random(seed)`` (seed drawn from
    ``manual_seed``'s root when None); ``restart()`` rewinds that stream, so the forward
    passes after it draw the same masks again: that is how a gradient check holds the mask fixed.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.seed = next_seed() if seed is None else seed
        self.rng = random.Random(self.seed)
        self.training = True
        self.mask: list[float] | None = None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

    def restart(self) -> None:
        """Rewind the mask stream to its seed: the next forwards repeat the masks drawn since construction."""
        self.rng.seed(self.seed)

    def extra_state(self) -> dict[str, Any]:
        """The mask stream, for checkpoints: ``{"seed": int, "generator": random_state(rng)}``."""
        return {"seed": self.seed, "generator": random_state(self.rng)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Continue the mask stream that ``extra_state()`` described; a ValueError (nothing changed) if malformed."""
        try:
            rng = restored_random(state["generator"])
        except ValueError as error:
            raise ValueError(f"{self!r}.load_extra_state: {error}") from None
        self.seed, self.rng = state["seed"], rng

    def forward(self, inputs: Sequence[float]) -> list[float]:
        if not self.training or self.p == 0.0:
            self.mask = None
            return list(inputs)
        keep_scale = 1.0 / (1.0 - self.p)
        self.mask = [keep_scale if self.rng.random() >= self.p else 0.0 for _ in inputs]
        return [x * m for x, m in zip(inputs, self.mask, strict=True)]

    def backward(self, grad_outputs: Sequence[float]) -> list[float]:
        """d loss / d inputs = d loss / d outputs * mask (the mask of the last forward)."""
        if self.mask is None:
            return list(grad_outputs)
        if len(grad_outputs) != len(self.mask):
            raise ValueError(f"{self!r}: backward got {len(grad_outputs)} gradients: expected {len(self.mask)}")
        return [g * m for g, m in zip(grad_outputs, self.mask, strict=True)]
