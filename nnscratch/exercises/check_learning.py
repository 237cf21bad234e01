"""The checks of the exercises outside the layer protocol: the scalar neuron, the loss, the optimizers."""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

import numpy as np

from ..common import cross_entropy
from ..scalar.neuron import Neuron
from ..testing import central_difference, numerical_gradient
from ..vectorized import optim
from ..vectorized.module import Parameter
from .compare import expect, expect_close
from .layer_pair import random_array


def check_neuron(learner: ModuleType) -> None:
    """Two samples through both neurons: the gradients must accumulate, and match central differences."""
    draw = random.Random(0)
    for activation in ("relu", "tanh", "sigmoid"):
        library_neuron = Neuron(4, activation, rng=random.Random(1))
        mine = learner.Neuron(4, activation, rng=random.Random(1))
        name = f"Neuron(4, {activation!r})"
        for sample in (1, 2):
            inputs, grad_a = [draw.gauss(0, 1) for _ in range(4)], draw.gauss(0, 1)
            library_neuron.forward(inputs)
            mine.forward(inputs)
            expected_dx = library_neuron.backward(grad_a)
            expect_close(f"{name}, sample {sample}: dx (what backward returns)", expected_dx, mine.backward(grad_a))
            expect_close(f"{name}, after sample {sample}: grad_weights", library_neuron.grad_weights, mine.grad_weights)
            expect_close(f"{name}, after sample {sample}: grad_bias", library_neuron.grad_bias, mine.grad_bias)
        mine.zero_grad()
        mine.forward(inputs)
        expect(
            mine.backward(grad_a, input_grad=False) is None, f"{name}: backward(..., input_grad=False) must return None"
        )
        numeric = numeric_weight_gradients(mine, inputs, grad_a)
        expect_close(f"{name}: grad_weights against central differences", numeric, mine.grad_weights, 1e-5, 1e-8)


def numeric_weight_gradients(neuron: Any, inputs: list[float], grad_a: float) -> list[float]:
    """d(grad_a * a)/dw_i for each weight, by central differences: what backward's grad_weights must be."""

    def loss() -> float:
        return grad_a * neuron.forward(inputs)

    def writer(index: int) -> Any:
        def write(value: float) -> None:
            neuron.weights[index] = value

        return write

    return [
        central_difference(loss, lambda index=index: neuron.weights[index], writer(index))
        for index in range(len(neuron.weights))
    ]


def check_cross_entropy(learner: ModuleType) -> None:
    logits = random_array((5, 4), seed=0)
    indices = np.array([0, 3, 1, 1, 2])
    probabilities = np.random.default_rng(1).dirichlet(np.ones(4), size=5)
    cases = [
        ("class indices, reduction 'mean'", {}, indices),
        ("class indices, reduction 'sum'", {"reduction": "sum"}, indices),
        ("class indices, reduction 'none'", {"reduction": "none"}, indices),
        ("probability rows", {}, probabilities),
        ("label_smoothing 0.1", {"label_smoothing": 0.1}, indices),
    ]
    for name, options, targets in cases:
        library_loss, mine = cross_entropy.CrossEntropyLoss(**options), learner.CrossEntropyLoss(**options)
        library_loss.forward(logits, targets)
        mine.forward(logits, targets)
        expect_close(f"CrossEntropyLoss, {name}: d loss / d logits", library_loss.backward(), mine.backward())
    numeric = numerical_gradient(lambda: float(mine.forward(logits, indices).sum()), logits)
    mine.forward(logits, indices)
    expect_close("CrossEntropyLoss, label_smoothing 0.1: against central differences", numeric, mine.backward(), 1e-5)


SGD_SETTINGS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
]
ADAM_SETTINGS = [
    {"lr": 0.01},
    {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
]


def expect_same_trajectory(library_class: type, learner_class: type, settings: dict, steps: int = 5) -> None:
    """Both optimizers over two parameters with the same start and the same gradient at every step."""
    shapes = [(3, 4), (4,)]
    starts = [random_array(shape, seed) for seed, shape in enumerate(shapes)]
    library_params = [Parameter(start.copy()) for start in starts]
    mine = [Parameter(start.copy()) for start in starts]
    library_optimizer, learner_optimizer = library_class(library_params, **settings), learner_class(mine, **settings)
    said = ", ".join(f"{key}={value}" for key, value in settings.items())
    for step in range(1, steps + 1):
        for index, (theirs, ours) in enumerate(zip(library_params, mine, strict=True)):
            theirs.grad[...] = random_array(theirs.shape, 10 * step + index)
            ours.grad[...] = theirs.grad
        library_optimizer.step()
        learner_optimizer.step()
        for index, (theirs, ours) in enumerate(zip(library_params, mine, strict=True)):
            expect_close(
                f"{library_class.__name__}({said}) after step {step}: parameter {index}", theirs.data, ours.data
            )


def check_sgd(learner: ModuleType) -> None:
    for settings in SGD_SETTINGS:
        expect_same_trajectory(optim.SGD, learner.SGD, settings)


def check_adam(learner: ModuleType) -> None:
    for settings in ADAM_SETTINGS:
        expect_same_trajectory(optim.Adam, learner.Adam, settings)
