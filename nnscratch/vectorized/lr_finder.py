"""The learning-rate range test: which learning rate to train with, measured in a hundred batches.

Leslie Smith ("Cyclical Learning Rates for Training Neural Networks", WACV 2017, arXiv 2015)
trains for a few batches while the learning rate grows, and watches the loss. fastai made the
exponential form of it popular as the "LR finder". With S steps from ``start_lr`` to ``end_lr``::

    lr_i = start_lr * (end_lr / start_lr) ** (i / (S - 1))          i = 0 .. S-1  (geometric)

Step i trains one batch at lr_i and records that batch's loss (computed before the update, as
training would). At tiny rates the weights barely move and the loss stays flat; then it falls,
fastest somewhere in the middle; at large rates the steps overshoot and it explodes. A batch's
loss is noisy, so the curve read is an exponential moving average with bias correction (the
same as Adam's moments: the average starts at 0, and dividing by 1 - beta^(i+1) undoes that)::

    avg_i      = beta * avg_{i-1} + (1 - beta) * loss_i             avg_{-1} = 0
    smoothed_i = avg_i / (1 - beta ** (i + 1))

The sweep stops early once ``smoothed_i > divergence * min(smoothed_0 .. smoothed_i)``
(4x by default, as fastai), or at a NaN or infinite loss: past that point nothing is learned.

The suggestion is the rate where the smoothed loss falls fastest: the minimum of its slope
d smoothed / d log(lr), among the steps up to the smoothed loss's minimum (the first tenth left
out, see ``steepest_descent_rate``). Why there: it is a
rate at which training makes the most progress per step while still well below the rates
where the loss turns back up. The rate at the minimum itself is too high to train with: there
the steps already overshoot (the loss has stopped falling), and a whole run at it is on the
edge of divergence; one tenth of it is the other common rule (``LRFinderResult.minimum_rate``
gives the rate at the minimum, so both can be compared).

The sweep trains the model for real, so everything it changes is put back afterwards: the
parameters, buffers (BatchNorm's running statistics) and their gradients, the modules' extra
state (Dropout's generators), the optimizer's state (momentum, moments, step count, learning
rate) and the trainer's generators (shuffling, augmentation). A model swept is the model
before the sweep, bit for bit, and training it afterwards gives what training it without the
sweep would have given.

    result = lr_range_test(Trainer(model, SGD(model.parameters(), lr=0.01)), x, y, batch_size=64)
    result.suggestion, result.rates, result.smoothed
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..common.backend import to_device
from ..common.checks import check_int, check_number
from ..common.divergence import NonFiniteLossError
from ..common.progress import progress_bar
from ..common.state import copy_state
from .fit_checks import check_data

START_LR = 1e-7
END_LR = 10.0
STEPS = 100
SMOOTHING = 0.98  # fastai's: averages over ~50 batches, so one odd batch hardly moves the curve
DIVERGENCE = 4.0


@dataclass(frozen=True)
class LRFinderResult:
    """What a range test measured, S steps (S <= the steps asked for: the sweep may stop early).

    rates: (S,) the learning rate of each step; losses: (S,) each step's batch loss before its
    update; smoothed: (S,) their bias-corrected moving average; suggestion: the rate to train
    with (see the module docstring); diverged: True when the sweep stopped before ``end_lr``.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    diverged: bool

    @property
    def minimum_rate(self) -> float:
        """The rate at which the smoothed loss is lowest (one tenth of it is the other common rule)."""
        return float(self.rates[int(np.argmin(self.smoothed))])


def geometric_rates(start_lr: float, end_lr: float, steps: int) -> np.ndarray:
    """(steps,) rates from start_lr to end_lr, each the one before times (end_lr / start_lr) ** (1 / (steps - 1))."""
    owner = "geometric_rates"
    check_int(owner, "steps (at least 2: the first and last rate)", steps, low=2)
    check_number(owner, "start_lr", start_lr, 0.0)
    if not 0 < start_lr < end_lr < math.inf:
        raise ValueError(f"{owner}: need 0 < start_lr < end_lr < inf, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    # in log space, so that the last rate is end_lr up to round-off, not the product of steps - 1 factors
    return np.exp(np.linspace(math.log(start_lr), math.log(end_lr), steps))


class SmoothedLoss:
    """The bias-corrected exponential moving average of the losses given to ``update`` one by one."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self.beta = check_number("SmoothedLoss", "smoothing", smoothing, 0.0, 1.0, high_open=True)
        self.average = 0.0
        self.count = 0

    def update(self, loss: float) -> float:
        """Add one loss; return the smoothed value so far."""
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * loss
        return self.average / (1 - self.beta**self.count)


def smooth_losses(losses: Any, smoothing: float = SMOOTHING) -> np.ndarray:
    """(S,) the bias-corrected moving average of losses (S,), as the sweep computes it step by step."""
    average = SmoothedLoss(smoothing)
    return np.array([average.update(float(loss)) for loss in losses])


def steepest_descent_rate(rates: Any, smoothed: Any) -> float:
    """The rate where ``smoothed`` (S,) falls fastest against log(rates) (S,), between the first tenth
    of the steps and the smoothed loss's minimum. The first tenth is left out (as fastai leaves out
    the first 10 of 100): there the average holds only a few batches, and its slope is their noise."""
    rates, smoothed = np.asarray(rates, dtype=float), np.asarray(smoothed, dtype=float)
    skip, lowest = len(rates) // 10, int(np.argmin(smoothed))
    if lowest <= skip:
        raise ValueError(
            f"the smoothed loss was lowest at step {lowest + 1} of {len(rates)} ({rates[lowest]:g}), too early to "
            f"see where it falls: start from a smaller rate than {rates[0]:g}, or take more steps"
        )
    slopes = np.gradient(smoothed, np.log(rates))  # central differences inside, one-sided at the ends
    return float(rates[skip + int(np.argmin(slopes[skip : lowest + 1]))])


def lr_range_test(
    trainer: Any,
    x: Any,
    y: Any,
    batch_size: int,
    start_lr: float = START_LR,
    end_lr: float = END_LR,
    steps: int = STEPS,
    smoothing: float = SMOOTHING,
    divergence: float = DIVERGENCE,
) -> LRFinderResult:
    """Sweep the learning rate of ``trainer`` (a ``Trainer`` or ``ConvTrainer``) geometrically from
    ``start_lr`` to ``end_lr`` over ``steps`` batches of ``batch_size`` samples of x (N, ...) and
    labels y (N,); restore everything afterwards. See the module docstring for the rule.

    Each batch is one training step as in ``fit`` (augmentation, loss, backward, gradient clipping,
    the optimizer's step), drawn from the shuffled data, reshuffled when it runs out. Each loss is
    read back to the host to decide whether to stop (one small transfer per batch, a hundred in all).
    """
    owner = "lr_range_test"
    rates = geometric_rates(start_lr, end_lr, steps)
    check_int(owner, "batch_size", batch_size)
    check_number(owner, "divergence", divergence, 1.0)
    check_data(owner, "x", "y", x, y)
    if len(x) < batch_size:
        raise ValueError(f"{owner}: batch_size={batch_size} is more than the {len(x)} samples of x")
    x, y = to_device(x), to_device(y)
    saved = _training_state(trainer)
    try:
        trainer.model.train()
        trainer._check_model_accepts(x, y, None)
        losses = _sweep(trainer, x, y, batch_size, rates, SmoothedLoss(smoothing), divergence)
    finally:
        _restore_training_state(trainer, saved)
    if not losses:
        raise ValueError(f"{owner}: the loss diverged at the first step, at {start_lr:g}: start from a smaller rate")
    smoothed = smooth_losses(losses, smoothing)
    taken = rates[: len(losses)]
    return LRFinderResult(
        taken, np.array(losses), smoothed, steepest_descent_rate(taken, smoothed), len(losses) < steps
    )


def _sweep(trainer: Any, x: Any, y: Any, batch_size: int, rates: np.ndarray, average: SmoothedLoss, divergence: float):
    """The losses of the steps taken, up to the first that diverges (included when it is finite)."""
    losses, lowest = [], math.inf
    batches = _batches(trainer.rng, len(x), batch_size)
    bar = progress_bar(rates, quiet=trainer.quiet, desc="lr sweep", unit="batch", leave=False)
    for step, rate in enumerate(bar):
        trainer.optimizer.lr = float(rate)
        indices = to_device(next(batches))
        try:
            loss, _ = trainer._train_batch(trainer._augment_batch(x[indices]), y[indices], step, len(rates))
        except NonFiniteLossError:
            break  # the network's outputs overflowed: as diverged as a loss can be
        loss = float(loss)
        if not math.isfinite(loss):
            break
        losses.append(loss)
        smoothed = average.update(loss)
        lowest = min(lowest, smoothed)
        if smoothed > divergence * lowest:
            break
    bar.close()
    return losses


def _batches(rng: np.random.Generator, num_samples: int, batch_size: int):
    """Index arrays (batch_size,) of full batches, reshuffled each time the data runs out (drawn on the
    host, as ``fit`` draws its order: the same batches on NumPy and CuPy)."""
    while True:
        order = rng.permutation(num_samples)
        for start in range(0, num_samples - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def _training_state(trainer: Any) -> dict[str, Any]:
    """A copy of everything a training step changes (see the module docstring)."""
    model = trainer.model
    return {
        "model": copy_state(model.state_dict()),
        "extra": copy_state(model.extra_state_dict()),
        "grads": [parameter.grad.copy() for parameter in model.parameters()],
        "training": model.training,
        "optimizer": copy_state(trainer.optimizer.state_dict()),
        "generators": {name: rng.bit_generator.state for name, rng in trainer.named_generators().items()},
    }


def _restore_training_state(trainer: Any, saved: dict[str, Any]) -> None:
    model = trainer.model
    model.load_state_dict(saved["model"])
    model.load_extra_state_dict(saved["extra"])
    for parameter, grad in zip(model.parameters(), saved["grads"], strict=True):
        parameter.grad[...] = grad
    model.train(saved["training"])
    trainer.optimizer.load_state_dict(saved["optimizer"])
    for name, rng in trainer.named_generators().items():
        rng.bit_generator.state = saved["generators"][name]
