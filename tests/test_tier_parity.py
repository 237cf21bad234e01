"""Tier parity: the scalar network (tier 1) and the vectorized MLP (tier 2) compute the same thing.

Given the same weights, a scalar ``Network`` (Python floats, one sample at a time, the batch
gradient as the mean of the samples' gradients) and a ``build_mlp`` model in float64 (one
matrix product per layer for the whole batch) give the same logits, the same mean
cross-entropy, the same gradient for every weight and bias, and, stepping from those
gradients with SGD (momentum, Nesterov, dampening, weight decay) or Adam, the same weights
after 5 steps: all to a relative 1e-9 (issue 4). Two implementations written independently
agreeing this closely is the evidence that both are right; PyTorch parity is tested per tier.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch import scalar
from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.seed import manual_seed
from nnscratch.scalar.activations import ACTIVATIONS as SCALAR_ACTIVATIONS
from nnscratch.vectorized import optim
from nnscratch.vectorized.activations import ACTIVATIONS as VECTORIZED_ACTIVATIONS
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import Dropout, Linear, Sequential
from tests.support import assert_close, seeds

TIER_RTOL = 1e-9  # issue 4: "the same weights (1e-9, float64)"
TIER_ATOL = 1e-12  # for values that should be 0 and come out as rounding noise in one tier
STEPS = 5

SHARED_ACTIVATIONS = sorted(set(SCALAR_ACTIVATIONS) & set(VECTORIZED_ACTIVATIONS))

# The same optimizer in both tiers: both accept these keyword arguments, with torch.optim's meaning.
OPTIMIZERS = {"SGD": (scalar.SGD, optim.SGD), "Adam": (scalar.Adam, optim.Adam)}
OPTIMIZER_SETTINGS = [
    pytest.param("SGD", dict(lr=0.1, momentum=0.9), id="sgd-momentum"),
    pytest.param("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), id="sgd-nesterov-weight-decay"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1), id="sgd-dampening-weight-decay"),
    pytest.param("Adam", dict(lr=0.01), id="adam"),
    pytest.param("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05), id="adam-betas-weight-decay"),
]


class Architecture(NamedTuple):
    """An MLP input_size -> hidden_sizes -> num_classes, and a batch size for it."""

    input_size: int
    hidden_sizes: list[int]
    activations: list[str]
    num_classes: int
    batch_size: int
    seed: int


@st.composite
def architectures(draw: Any, min_hidden_layers: int = 0) -> Architecture:
    """Small MLPs with ``min_hidden_layers`` to 3 hidden layers, each with any activation the two tiers share."""
    hidden_sizes = draw(st.lists(st.integers(1, 5), min_size=min_hidden_layers, max_size=3))
    return Architecture(
        input_size=draw(st.integers(1, 6)),
        hidden_sizes=hidden_sizes,
        activations=[draw(st.sampled_from(SHARED_ACTIVATIONS)) for _ in hidden_sizes],
        num_classes=draw(st.integers(2, 4)),
        batch_size=draw(st.integers(2, 6)),
        seed=draw(seeds()),
    )


def twin_networks(arch: Architecture, dropout: float = 0.0) -> tuple[scalar.Network, Sequential]:
    """A float64 vectorized MLP (PyTorch's initialisation, so biases are not 0) and a scalar
    network holding copies of its weights."""
    manual_seed(arch.seed)
    model = build_mlp(arch.input_size, arch.hidden_sizes, arch.num_classes, arch.activations, dropout).to(np.float64)
    network = scalar.Network(
        arch.input_size, arch.hidden_sizes, arch.num_classes, arch.activations, dropout, seed=arch.seed
    )
    for layer, linear in zip(network.dense_layers, linear_layers(model), strict=True):
        layer.set_weights(linear.weight.data, linear.bias.data)
    return network, model


def batches(arch: Architecture, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` batches (x: (batch_size, input_size) float64, y: (batch_size,) class indices)."""
    rng = np.random.default_rng(arch.seed)
    return [
        (rng.standard_normal((arch.batch_size, arch.input_size)), rng.integers(0, arch.num_classes, arch.batch_size))
        for _ in range(count)
    ]


def linear_layers(model: Sequential) -> list[Linear]:
    return [layer for layer in model if isinstance(layer, Linear)]


def vectorized_loss_and_gradients(model: Sequential, x: np.ndarray, y: np.ndarray) -> Any:
    """Zero the gradients, then forward and backward the batch's mean cross-entropy; return the loss (an array)."""
    model.zero_grad()
    loss = CrossEntropyLoss()
    value = loss.forward(model(x), y)
    model.backward(loss.backward())
    return value


def scalar_loss_and_gradients(network: scalar.Network, x: np.ndarray, y: np.ndarray) -> float:
    """Zero the gradients, then the mean loss over the batch, sample by sample; return the loss."""
    network.zero_grad()
    loss, _ = network.forward_backward(x.tolist(), y.tolist())
    return loss


def scalar_weights(layer: scalar.Layer) -> tuple[np.ndarray, np.ndarray]:
    """A scalar layer's weights (out, in) and biases (out,) as arrays, laid out as a Linear's."""
    return np.array([neuron.weights for neuron in layer.neurons]), np.array([neuron.bias for neuron in layer.neurons])


def scalar_gradients(layer: scalar.Layer) -> tuple[np.ndarray, np.ndarray]:
    """d loss / d weights (out, in) and d loss / d biases (out,) of a scalar layer, as arrays."""
    return (
        np.array([neuron.grad_weights for neuron in layer.neurons]),
        np.array([neuron.grad_bias for neuron in layer.neurons]),
    )


def assert_same_parameters(network: scalar.Network, model: Sequential, gradients: bool, context: str) -> None:
    """Every weight and bias (or, with gradients=True, their gradients) agree, layer by layer."""
    read_scalar = scalar_gradients if gradients else scalar_weights
    what = "gradient of " if gradients else ""
    for k, (layer, linear) in enumerate(zip(network.dense_layers, linear_layers(model), strict=True)):
        pairs = zip(("weight", "bias"), read_scalar(layer), (linear.weight, linear.bias), strict=True)
        for name, scalar_array, parameter in pairs:
            vectorized_array = parameter.grad if gradients else parameter.data
            assert_close(scalar_array, vectorized_array, TIER_RTOL, TIER_ATOL, f"{context}: {what}layer {k} {name}")


# ----------------------------------------------------------------------------- tests


def test_the_tiers_share_relu_leaky_relu_gelu_silu_tanh_and_sigmoid():
    assert set(SHARED_ACTIVATIONS) >= {"relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid"}


@given(architectures())
def test_same_weights_give_the_same_logits_and_mean_loss(arch):
    network, model = twin_networks(arch)
    ((x, y),) = batches(arch, 1)
    logits = model(x)
    assert logits.dtype == np.float64
    assert_close(np.array([network.forward(sample) for sample in x.tolist()]), logits, TIER_RTOL, TIER_ATOL, "logits")
    mean_loss, _ = network.evaluate(x.tolist(), y.tolist())
    assert_close(mean_loss, CrossEntropyLoss().forward(logits, y), TIER_RTOL, TIER_ATOL, "mean loss")


@given(architectures())
def test_same_weights_give_the_same_gradient_for_every_weight_and_bias(arch):
    network, model = twin_networks(arch)
    ((x, y),) = batches(arch, 1)
    scalar_loss = scalar_loss_and_gradients(network, x, y)
    vectorized_loss = vectorized_loss_and_gradients(model, x, y)
    assert_close(scalar_loss, vectorized_loss, TIER_RTOL, TIER_ATOL, "mean loss")
    assert_same_parameters(network, model, gradients=True, context="after one backward")


@given(architectures())
def test_the_scalar_batch_gradient_is_the_mean_of_its_samples_gradients_and_equals_the_matrix_gradient(arch):
    network, model = twin_networks(arch)
    ((x, y),) = batches(arch, 1)
    per_sample = []
    for sample, target in zip(x, y, strict=True):
        scalar_loss_and_gradients(network, sample[None], target[None])
        per_sample.append([scalar_gradients(layer) for layer in network.dense_layers])
    vectorized_loss_and_gradients(model, x, y)
    for k, linear in enumerate(linear_layers(model)):
        mean_weight = np.mean([gradients[k][0] for gradients in per_sample], axis=0)
        mean_bias = np.mean([gradients[k][1] for gradients in per_sample], axis=0)
        assert_close(mean_weight, linear.weight.grad, TIER_RTOL, TIER_ATOL, f"mean gradient of layer {k} weight")
        assert_close(mean_bias, linear.bias.grad, TIER_RTOL, TIER_ATOL, f"mean gradient of layer {k} bias")


@given(architectures())
def test_the_gradient_of_the_inputs_is_the_same_when_asked_for(arch):
    network, model = twin_networks(arch)
    ((x, y),) = batches(arch, 1)
    model[0].needs_input_grad = True  # build_mlp turns it off: nothing needs d loss / d pixels to train
    loss = CrossEntropyLoss()
    loss.forward(model(x), y)
    grad_x = model.backward(loss.backward())
    scalar_grad_x = []
    for sample, target in zip(x.tolist(), y.tolist(), strict=True):
        _, grad_logits = scalar.cross_entropy(network.forward(sample), target)
        # the mean's 1/N on each sample's d loss / d logits, as Network.forward_backward puts it
        scalar_grad_x.append(network.backward([g / len(x) for g in grad_logits], input_grad=True))
    assert_close(np.array(scalar_grad_x), grad_x, TIER_RTOL, TIER_ATOL, "d loss / d inputs")


@pytest.mark.parametrize(("optimizer", "settings"), OPTIMIZER_SETTINGS)
@given(arch=architectures())
def test_five_optimizer_steps_from_the_same_weights_end_at_the_same_weights(optimizer, settings, arch):
    network, model = twin_networks(arch)
    scalar_class, vectorized_class = OPTIMIZERS[optimizer]
    scalar_optimizer = scalar_class(network.parameters(), **settings)
    vectorized_optimizer = vectorized_class(model.parameters(), **settings)
    for step, (x, y) in enumerate(batches(arch, STEPS), start=1):
        scalar_loss = scalar_loss_and_gradients(network, x, y)
        vectorized_loss = vectorized_loss_and_gradients(model, x, y)
        assert_close(scalar_loss, vectorized_loss, TIER_RTOL, TIER_ATOL, f"loss before step {step}")
        scalar_optimizer.step()
        vectorized_optimizer.step()
    assert_same_parameters(network, model, gradients=False, context=f"after {STEPS} {optimizer} steps")


@given(architectures(min_hidden_layers=1), st.sampled_from([0.2, 0.5]))
def test_with_dropout_switched_off_by_eval_the_tiers_give_the_same_loss_and_gradients(arch, p):
    # training-mode dropout is not compared: each tier draws its masks from its own generator
    network, model = twin_networks(arch, dropout=p)
    assert any(isinstance(layer, scalar.Dropout) for layer in network.layers)
    assert any(isinstance(layer, Dropout) for layer in model)
    network.eval()
    model.eval()
    ((x, y),) = batches(arch, 1)
    scalar_loss = scalar_loss_and_gradients(network, x, y)
    vectorized_loss = vectorized_loss_and_gradients(model, x, y)
    assert_close(scalar_loss, vectorized_loss, TIER_RTOL, TIER_ATOL, "mean loss in eval mode")
    assert_same_parameters(network, model, gradients=True, context="eval mode")
