import random

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.scalar import SGD, Adam, Network

STEPS = 20
RTOL = 1e-10  # float64 on both sides; the issue asks for 1e-7 or better


class Scalar:
    """The smallest parameter an optimizer accepts: a value and a gradient."""

    def __init__(self, value):
        self.value = value
        self.grad = 0.0


def run_both(make_ours, make_torch, seed):
    """The same 20 steps of random gradients through our optimizer and torch's; compare the values each step."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(6)
    ours = [Scalar(float(v)) for v in start]
    reference = torch.tensor(start, requires_grad=True)
    optimizer, torch_optimizer = make_ours(ours), make_torch([reference])
    for step in range(STEPS):
        grads = rng.standard_normal(6) * 10.0 ** rng.integers(-3, 2)
        for parameter, g in zip(ours, grads, strict=True):
            parameter.grad = float(g)
        reference.grad = torch.tensor(grads)
        optimizer.step()
        torch_optimizer.step()
        np.testing.assert_allclose([p.value for p in ours], reference.detach().numpy(), RTOL, 0, err_msg=f"step {step}")


@given(
    lr=st.floats(1e-4, 0.5),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    dampening=st.sampled_from([0.0, 0.3]),
    weight_decay=st.sampled_from([0.0, 1e-2]),
    nesterov=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_sgd_matches_torch_for_20_steps(lr, momentum, dampening, weight_decay, nesterov, seed):
    if nesterov and (momentum == 0 or dampening):
        nesterov = False  # torch refuses that combination too (tested below)
    options = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay}
    run_both(
        lambda params: SGD(params, nesterov=nesterov, **options),
        lambda params: torch.optim.SGD(params, nesterov=nesterov, **options),
        seed,
    )


@given(
    lr=st.floats(1e-4, 0.1),
    beta1=st.sampled_from([0.0, 0.9]),
    beta2=st.sampled_from([0.9, 0.999]),
    eps=st.sampled_from([1e-8, 1e-3]),
    weight_decay=st.sampled_from([0.0, 1e-2]),
    seed=st.integers(0, 1000),
)
def test_adam_matches_torch_for_20_steps(lr, beta1, beta2, eps, weight_decay, seed):
    options = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay}
    run_both(lambda params: Adam(params, **options), lambda params: torch.optim.Adam(params, **options), seed)


def test_defaults_are_torchs():
    ours_sgd, ours_adam = SGD([Scalar(0.0)]), Adam([Scalar(0.0)])
    torch_sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)]).defaults
    torch_adam = torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults
    for name in ("lr", "momentum", "dampening", "weight_decay", "nesterov"):
        assert getattr(ours_sgd, name) == torch_sgd[name], name
    assert (ours_adam.lr, (ours_adam.beta1, ours_adam.beta2), ours_adam.eps, ours_adam.weight_decay) == (
        torch_adam["lr"],
        torch_adam["betas"],
        torch_adam["eps"],
        torch_adam["weight_decay"],
    )


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.01)])
def test_optimizers_update_a_networks_weights_through_its_parameters(make):
    network = Network(3, [2], 2, seed=0)
    optimizer = make(network.parameters())
    before = [p.value for p in network.parameters()]
    network.zero_grad()
    network.forward_backward([[1.0, -0.5, 2.0]], [1])
    grads = [p.grad for p in network.parameters()]
    optimizer.step()
    after = [p.value for p in network.parameters()]
    # the first step of either moves each weight against its gradient (Adam by about lr)
    for b, a, g in zip(before, after, grads, strict=True):
        assert (a - b) * g < 0 or g == 0 == a - b
    assert network.dense_layers[0].neurons[0].weights[0] == after[0]


def test_training_a_tiny_problem_lowers_the_loss():
    rng = random.Random(0)
    inputs = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(20)]
    targets = [int(x[0] + x[1] > 0) for x in inputs]
    network = Network(2, [4], 2, "tanh", seed=0)
    optimizer = SGD(network.parameters(), lr=0.5, momentum=0.9, nesterov=True)
    losses = []
    for _ in range(30):
        network.zero_grad()
        losses.append(network.forward_backward(inputs, targets)[0])
        optimizer.step()
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SGD([]), r"SGD: got an empty parameter list"),
        (lambda: SGD([Scalar(0.0)], lr=-0.1), r"SGD: lr must be >= 0, got -0.1"),
        (lambda: SGD([Scalar(0.0)], lr=float("nan")), r"SGD: lr must be >= 0, got nan"),
        (lambda: SGD([Scalar(0.0)], momentum=-0.5), r"SGD: momentum must be >= 0, got -0.5"),
        (lambda: SGD([Scalar(0.0)], weight_decay=-1.0), r"SGD: weight_decay must be >= 0, got -1.0"),
        (lambda: SGD([Scalar(0.0)], nesterov=True), r"SGD: nesterov=True needs momentum > 0 and dampening = 0"),
        (
            lambda: SGD([Scalar(0.0)], momentum=0.9, dampening=0.1, nesterov=True),
            r"got momentum=0.9, dampening=0.1",
        ),
        (lambda: Adam([]), r"Adam: got an empty parameter list"),
        (lambda: Adam([Scalar(0.0)], lr=-1.0), r"Adam: lr must be >= 0, got -1.0"),
        (lambda: Adam([Scalar(0.0)], eps=-1e-8), r"Adam: eps must be >= 0, got -1e-08"),
        (lambda: Adam([Scalar(0.0)], weight_decay=-0.1), r"Adam: weight_decay must be >= 0, got -0.1"),
        (lambda: Adam([Scalar(0.0)], betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
        (lambda: Adam([Scalar(0.0)], betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\), got -0.1"),
    ],
)
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
