"""One neuron, written as the equations a learner reads on paper. Python floats and ``math`` only.

Forward, for inputs x_1 .. x_n::

    z = sum_i w_i x_i + b        (the weighted sum plus bias: the pre-activation)
    a = f(z)                     (the activation, see ``activations.py``)

Backward, given grad_a = d loss / d a from whatever uses a::

    dz    = grad_a * f'(z)       (chain rule through f)
    dw_i += dz * x_i             (z changes by x_i per unit of w_i)
    db   += dz                   (z changes by 1 per unit of b)
    dx_i  = dz * w_i             (z changes by w_i per unit of x_i)

The parameter gradients *accumulate* (+=): over the samples of a batch, and over the several
places a value is used. ``zero_grad`` starts a fresh sum.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..common.checks import check_int
from ..common.seed import next_seed
from .activations import get_activation, init_std


class Neuron:
    """z = sum_i w_i x_i + b, a = f(z) for ``num_inputs`` inputs.

    Attributes (plain Python values, free to read and set):
        weights: list[float], one per input; bias: float.
        grad_weights: list[float] and grad_bias: float, d loss / d w_i and d loss / d b,
            added to by ``backward`` (each call rebinds ``grad_weights`` to a new list).
        inputs, z, a: what the last ``forward`` saw and computed (``inputs`` is the caller's
            sequence itself, not a copy); dz: what the last ``backward`` computed.

    Initial weights: normal with mean 0 and the standard deviation that suits the activation
    (He or Glorot, see ``activations.py``; ``fan_out`` is the size of the neuron's layer),
    drawn from ``rng`` (a ``random.Random``; a fresh one from ``manual_seed``'s root when None).
    The bias starts at 0.
    """

    def __init__(
        self, num_inputs: int, activation: str = "relu", fan_out: int = 1, rng: random.Random | None = None
    ) -> None:
        num_inputs = check_int("Neuron", "num_inputs", num_inputs)
        fan_out = check_int("Neuron", "fan_out", fan_out)
        self.activation = get_activation(activation)
        rng = random.Random(next_seed()) if rng is None else rng
        std = init_std(self.activation, num_inputs, fan_out)
        self.weights = [rng.gauss(0.0, std) for _ in range(num_inputs)]
        self.bias = 0.0
        self.grad_weights = [0.0] * num_inputs
        self.grad_bias = 0.0
        self.inputs: Sequence[float] | None = None
        self.z = 0.0
        self.a = 0.0
        self.dz = 0.0

    def __repr__(self) -> str:
        return f"Neuron(num_inputs={len(self.weights)}, activation={self.activation.name!r})"

    def forward(self, inputs: Sequence[float]) -> float:
        """a = f(sum_i w_i x_i + b) for inputs (num_inputs,); saves inputs, z and a."""
        if len(inputs) != len(self.weights):
            raise ValueError(f"Neuron(num_inputs={len(self.weights)}) got {len(inputs)} inputs")
        self.inputs = inputs
        # a list inside sum() runs faster than a generator, and the order of the sum is the same
        self.z = sum([w * x for w, x in zip(self.weights, inputs, strict=True)]) + self.bias
        self.a = self.activation.function(self.z)
        return self.a

    def backward(self, grad_a: float, input_grad: bool = True) -> list[float] | None:
        """Given d loss / d a: add dz * x_i to each dw_i and dz to db; return dx (num_inputs,).

        input_grad=False skips dx and returns None: a network's first layer does that, since
        nobody needs the gradient of the pixels, and it is as much work as the dw.
        """
        if self.inputs is None:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        dz = grad_a * self.activation.slope(self.z)
        self.dz = dz
        if dz != 0.0:  # a ReLU that was off gets no gradient: adding dz * x_i = 0 would change nothing
            self.grad_weights = [g + dz * x for g, x in zip(self.grad_weights, self.inputs, strict=True)]
            self.grad_bias += dz
        if not input_grad:
            return None
        return [dz * w for w in self.weights]

    def parameters(self) -> list[Weight | Bias]:
        """Every weight, then the bias, as objects with ``.value`` (read/write) and ``.grad`` (read)."""
        return [Weight(self, i) for i in range(len(self.weights))] + [Bias(self)]

    def zero_grad(self) -> None:
        """Start the gradient sums afresh: dw_i = 0, db = 0."""
        self.grad_weights = [0.0] * len(self.weights)
        self.grad_bias = 0.0


class Weight:
    """Weight ``index`` of ``neuron`` seen as one parameter: ``value`` is ``neuron.weights[index]``,
    ``grad`` is ``neuron.grad_weights[index]``. What an optimizer reads and writes."""

    __slots__ = ("neuron", "index")

    def __init__(self, neuron: Neuron, index: int) -> None:
        self.neuron = neuron
        self.index = index

    def __repr__(self) -> str:
        return f"Weight({self.neuron!r}, index={self.index})"

    @property
    def value(self) -> float:
        return self.neuron.weights[self.index]

    @value.setter
    def value(self, new_value: float) -> None:
        self.neuron.weights[self.index] = new_value

    @property
    def grad(self) -> float:
        return self.neuron.grad_weights[self.index]


class Bias:
    """The bias of ``neuron`` seen as one parameter: ``value`` is ``neuron.bias``, ``grad`` is ``neuron.grad_bias``."""

    __slots__ = ("neuron",)

    def __init__(self, neuron: Neuron) -> None:
        self.neuron = neuron

    def __repr__(self) -> str:
        return f"Bias({self.neuron!r})"

    @property
    def value(self) -> float:
        return self.neuron.bias

    @value.setter
    def value(self, new_value: float) -> None:
        self.neuron.bias = new_value

    @property
    def grad(self) -> float:
        return self.neuron.grad_bias
