"""The learning-rate range test: its geometric rates, its smoothing, its stop, its suggestion, and a
model that comes out of the sweep exactly as it went in."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.common.seed import manual_seed
from nnscratch.vectorized.lr_finder import (
    geometric_rates,
    lr_range_test,
    smooth_losses,
    steepest_descent_rate,
)
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.optim import make_optimizer
from nnscratch.vectorized.trainer import Trainer


def small_problem(seed: int = 0):
    """300 random samples of 12 features, 3 classes, with a class signal an MLP can learn."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 300)
    x = (rng.normal(size=(300, 12)) + np.eye(3, 12)[y] * 2).astype(np.float32)
    return x, y


def mlp_trainer(optimizer: str = "sgd", lookahead: bool = False, seed: int = 0) -> Trainer:
    """An MLP with BatchNorm and Dropout (buffers and generators the sweep must put back)."""
    manual_seed(seed)
    model = build_mlp(12, [16, 16], 3, dropout=0.2, batchnorm=True)
    lr = 0.05 if optimizer == "sgd" else 0.005
    return Trainer(
        model, make_optimizer(optimizer, model.parameters(), lr, 0.9, optimizer == "sgd", 1e-4, lookahead), quiet=True
    )


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(1e-9, 1.0),
    decades=st.floats(0.01, 12.0),
    steps=st.integers(2, 400),
)
def test_rates_are_exactly_geometric_from_start_to_end(start, decades, steps):
    end = start * 10**decades
    rates = geometric_rates(start, end, steps)
    assert rates.shape == (steps,)
    assert rates[0] == pytest.approx(start, rel=1e-12) and rates[-1] == pytest.approx(end, rel=1e-12)
    factor = (end / start) ** (1 / (steps - 1))
    np.testing.assert_allclose(rates[1:] / rates[:-1], factor, rtol=1e-9)


@pytest.mark.parametrize(
    ("start", "end", "steps", "words"),
    [
        (1e-3, 1e-3, 10, "start_lr < end_lr"),
        (0.1, 1e-3, 10, "start_lr < end_lr"),
        (0.0, 1.0, 10, "start_lr"),
        (1e-3, math.inf, 10, "end_lr"),
        (1e-3, 1.0, 1, "steps"),
    ],
)
def test_impossible_sweeps_are_refused_by_name(start, end, steps, words):
    with pytest.raises(ValueError, match=words):
        geometric_rates(start, end, steps)


@settings(max_examples=30, deadline=None)
@given(
    losses=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=60),
    beta=st.floats(0.0, 0.99),
)
def test_smoothing_with_bias_correction_equals_the_weighted_mean_of_the_losses(losses, beta):
    # directly: step i weighs loss j by (1 - beta) beta^(i - j); those weights sum to 1 - beta^(i + 1)
    direct = []
    for i in range(len(losses)):
        weights = np.array([(1 - beta) * beta ** (i - j) for j in range(i + 1)])
        direct.append(np.dot(weights, losses[: i + 1]) / weights.sum())
    np.testing.assert_allclose(smooth_losses(losses, beta), direct, rtol=1e-9, atol=1e-9)


def training_state(trainer: Trainer) -> dict:
    model = trainer.model
    return {
        "model": {name: array.copy() for name, array in model.state_dict().items()},
        "grads": [parameter.grad.copy() for parameter in model.parameters()],
        "extra": repr(model.extra_state_dict()),
        "optimizer": repr(trainer.optimizer.state_dict()),
        "lr": trainer.optimizer.lr,
        "generators": repr({name: rng.bit_generator.state for name, rng in trainer.named_generators().items()}),
    }


def assert_same_state(before: dict, after: dict) -> None:
    for name in before["model"]:
        np.testing.assert_array_equal(after["model"][name], before["model"][name], err_msg=name)
    for old, new in zip(before["grads"], after["grads"], strict=True):
        np.testing.assert_array_equal(new, old)
    for key in ("extra", "optimizer", "lr", "generators"):
        assert after[key] == before[key], key


@pytest.mark.parametrize(("optimizer", "lookahead"), [("sgd", False), ("adam", False), ("sgd", True)])
def test_the_sweep_leaves_model_optimizer_and_trainer_as_they_were(optimizer, lookahead):
    x, y = small_problem()
    trainer, twin = mlp_trainer(optimizer, lookahead), mlp_trainer(optimizer, lookahead)
    for each in (trainer, twin):  # one epoch first: momentum buffers, moments and running stats exist
        each.fit(x, y, epochs=1, batch_size=32)
    before = training_state(trainer)
    result = lr_range_test(trainer, x, y, batch_size=32, start_lr=1e-4, end_lr=10.0, steps=40)
    assert len(result.rates) >= 4  # it did train: the state had something to restore
    assert_same_state(before, training_state(trainer))
    # and training on gives exactly what it gives without the sweep
    trainer.fit(x, y, epochs=2, batch_size=32)
    twin.fit(x, y, epochs=2, batch_size=32)
    assert_same_state(training_state(twin), training_state(trainer))


class ScriptedLoss:
    """A loss whose values are given in advance (its gradient is zero: the weights do not matter)."""

    reduction = "mean"

    def __init__(self, values):
        self.values = list(values)
        self.calls = 0

    def forward(self, logits, targets):
        self.logits = logits
        self.calls += 1
        return np.float64(self.values[self.calls - 1])

    def backward(self):
        return np.zeros_like(self.logits)


# a curve falling from 2 to 1 over steps 10..30, then flat: what comes after it is the test's
FALL = [2.0] * 10 + list(np.linspace(2.0, 1.0, 20)) + [1.0] * 10


@pytest.mark.parametrize(
    ("after", "kept"),
    [
        ([5.0], 1),  # 5 > 4 x 1: the sweep stops there, and keeps that step
        ([math.nan], 0),  # a NaN or infinite loss stops it too, and is not kept
        ([math.inf], 0),
    ],
)
def test_the_sweep_stops_when_the_loss_explodes(after, kept):
    x, y = small_problem()
    model = build_mlp(12, [8], 3)
    trainer = Trainer(model, make_optimizer("sgd", model.parameters(), 0.1, 0.0, False, 0.0, False), quiet=True)
    values = FALL + after + [1.0] * 9
    trainer.loss = ScriptedLoss(values)
    trainer._check_model_accepts = lambda *args: None  # its forward would take a scripted value
    result = lr_range_test(trainer, x, y, batch_size=10, start_lr=1e-3, end_lr=1.0, steps=len(values), smoothing=0.0)
    recorded = len(FALL) + kept
    assert result.diverged and trainer.loss.calls == len(FALL) + 1
    np.testing.assert_array_equal(result.losses, values[:recorded])
    np.testing.assert_array_equal(result.rates, geometric_rates(1e-3, 1.0, len(values))[:recorded])


def test_a_loss_that_diverges_at_once_asks_for_a_smaller_start_rate():
    x, y = small_problem()
    model = build_mlp(12, [8], 3)
    trainer = Trainer(model, make_optimizer("sgd", model.parameters(), 0.1, 0.0, False, 0.0, False), quiet=True)
    trainer.loss = ScriptedLoss([math.nan] * 5)
    trainer._check_model_accepts = lambda *args: None
    with pytest.raises(ValueError, match="diverged at the first step, at 0.5: start from a smaller rate"):
        lr_range_test(trainer, x, y, batch_size=10, start_lr=0.5, end_lr=1.0, steps=5)


def test_a_sweep_that_never_explodes_takes_every_step():
    x, y = small_problem()
    model = build_mlp(12, [8], 3)
    trainer = Trainer(model, make_optimizer("sgd", model.parameters(), 0.1, 0.0, False, 0.0, False), quiet=True)
    trainer.loss = ScriptedLoss(FALL)
    trainer._check_model_accepts = lambda *args: None
    result = lr_range_test(trainer, x, y, batch_size=10, start_lr=1e-3, end_lr=1.0, steps=len(FALL), smoothing=0.0)
    assert not result.diverged and len(result.losses) == len(FALL)


def logistic_fall(rates):
    """A smoothed loss falling fastest at 1e-2 (a logistic in log10 rate), rising again past 1e-1."""
    log_rates = np.log10(rates)
    return 2.0 - 1.0 / (1.0 + np.exp(-(log_rates + 2.0) / 0.3)) + np.maximum(log_rates + 1.0, 0.0) ** 2


def test_the_suggestion_is_the_steepest_descent_of_the_smoothed_loss():
    rates = geometric_rates(1e-5, 1.0, 101)
    assert steepest_descent_rate(rates, logistic_fall(rates)) == pytest.approx(1e-2)


def test_the_suggestion_leaves_out_the_first_tenth_of_the_steps():
    rates = geometric_rates(1e-5, 1.0, 101)
    smoothed = logistic_fall(rates)
    smoothed[1:] -= 1.0  # a noisy start: the steepest fall of all is from step 0 to step 1
    assert steepest_descent_rate(rates, smoothed) == pytest.approx(1e-2)


def test_a_loss_lowest_at_the_start_asks_for_a_smaller_start_rate():
    rates = geometric_rates(1e-1, 10.0, 50)
    with pytest.raises(ValueError, match="start from a smaller rate than 0.1"):
        steepest_descent_rate(rates, np.linspace(1.0, 5.0, 50))
