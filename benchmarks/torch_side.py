"""The PyTorch side of the benchmarks: the same model, weights, optimizer, schedule, augmentation and loop.

``torch_setup(setup)`` takes an nnscratch ``Setup`` (``workloads.build_setup``) before it has
trained and builds its twin in PyTorch, float32:

- the model: ``to_torch`` (nnscratch/interop/torch.py), the same layers with the same
  parameter names, and a copy of the nnscratch model's initial weights and buffers;
- the optimizer: torch.optim's SGD / Adam / AdamW with the same settings (their update rules
  are the ones nnscratch's optimizers reproduce, and test against);
- the schedule: torch.optim.lr_scheduler's namesake of the command's ``--schedule``, stepped
  once per epoch (``torch_schedule``);
- the data order and the augmentation: NumPy generators seeded as nnscratch's trainers seed
  theirs, drawing in the same way, so both sides see the same batches with the same shifts.
  The shifts themselves are applied with torch (``roll_each``, one gather).

Dropout masks come from torch's generator (seeded with the run's seed): the one difference.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.workloads import SCALAR, Setup
from nnscratch.common.augment import Augmentation
from nnscratch.interop.torch import to_torch
from nnscratch.vectorized.schedules import multistep_milestones

EVAL_BATCH_SIZE = 1000  # as nnscratch's Trainer.evaluate


def torch_optimizer(settings: argparse.Namespace, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """torch.optim's optimizer for the command's --optimizer --lr --momentum --nesterov --weight-decay."""
    if settings.lookahead:
        raise ValueError("torch_optimizer: torch.optim has no Lookahead; benchmark without --lookahead")
    if settings.optimizer == "sgd":
        return torch.optim.SGD(
            parameters,
            lr=settings.lr,
            momentum=settings.momentum,
            nesterov=settings.nesterov,
            weight_decay=settings.weight_decay,
        )
    optimizers = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
        "adagrad": torch.optim.Adagrad,
    }
    if settings.optimizer not in optimizers:
        raise ValueError(f"torch_optimizer: unknown optimizer {settings.optimizer!r}")
    return optimizers[settings.optimizer](parameters, lr=settings.lr, weight_decay=settings.weight_decay)


def torch_schedule(
    settings: argparse.Namespace, optimizer: torch.optim.Optimizer
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """torch's version of ``make_schedule(settings.schedule, ..., settings.epochs, settings.warmup_epochs)``.

    multistep: x0.1 at ``multistep_milestones(epochs)``; step: x0.1 every epochs // 3; cosine:
    CosineAnnealingLR over the run, after ``warmup_epochs`` of LinearLR from base_lr / w when
    there is a warmup (SequentialLR switches at epoch w); none: no scheduler.
    """
    epochs, warmup = settings.epochs, settings.warmup_epochs or 0
    schedulers = torch.optim.lr_scheduler
    if settings.schedule == "none":
        return None
    if settings.schedule == "step":
        return schedulers.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if settings.schedule == "multistep":
        return schedulers.MultiStepLR(optimizer, multistep_milestones(epochs), gamma=0.1)
    if settings.schedule == "cosine":
        if not warmup:
            return schedulers.CosineAnnealingLR(optimizer, T_max=epochs)
        ramp = schedulers.LinearLR(optimizer, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup)
        cosine = schedulers.CosineAnnealingLR(optimizer, T_max=epochs - warmup)
        return schedulers.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])
    raise ValueError(f"torch_schedule: the {settings.schedule!r} schedule is not benchmarked (it needs a metric)")


def roll_each(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Roll image i down by dy[i] and right by dx[i] pixels, wrapping around. images: (N, C, H, W).

    Rolling by d moves pixel j to (j + d) mod H, so output row r reads input row (r - d) mod H:
    one gather with a row index (N, H, 1) and a column index (N, 1, W) does every image at once.
    """
    n, _, height, width = images.shape
    rows = (torch.arange(height) - dy[:, None]) % height  # (N, H)
    cols = (torch.arange(width) - dx[:, None]) % width  # (N, W)
    batch = torch.arange(n)[:, None, None]
    # advanced indices split by the channel slice go first: the result is (N, H, W, C)
    return images[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def shift_batch(images: torch.Tensor, max_shift: int, rng: np.random.Generator) -> torch.Tensor:
    """Random shifts of up to +-max_shift pixels per image, drawn as nnscratch's ``random_shift`` draws
    them (a (2, N) array of integers: dy then dx), so an equally seeded generator gives the same shifts."""
    shifts = torch.from_numpy(rng.integers(-max_shift, max_shift + 1, size=(2, len(images))))
    return roll_each(images, shifts[0], shifts[1])


@dataclass
class TorchSetup:
    """The PyTorch twin of an nnscratch ``Setup``: model, optimizer, schedule and the loop's generators."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler | None
    batch_size: int
    max_shift: int
    grad_clip: float | None
    shuffle_rng: np.random.Generator
    augment_rng: np.random.Generator

    def train_epoch(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """One pass over x, y in a fresh shuffled order: nnscratch's Trainer loop written in torch
        (gather the batch, shift, forward, cross-entropy, backward, clip, step; loss and accuracy
        summed on the side and read once, at the end). Returns (mean loss, accuracy)."""
        self.model.train()
        order = torch.from_numpy(self.shuffle_rng.permutation(len(x)))
        loss_sum, correct = torch.zeros((), dtype=x.dtype), torch.zeros((), dtype=torch.int64)
        for first in range(0, len(x), self.batch_size):
            indices = order[first : first + self.batch_size]
            inputs, labels = x[indices], y[indices]
            if self.max_shift:
                inputs = shift_batch(inputs, self.max_shift, self.augment_rng)
            logits = self.model(inputs)
            loss = F.cross_entropy(logits, labels)
            self.optimizer.zero_grad()
            loss.backward()
            if self.grad_clip is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            self.optimizer.step()
            with torch.no_grad():
                loss_sum += loss * len(labels)
                correct += (logits.argmax(dim=1) == labels).sum()
        return float(loss_sum) / len(x), int(correct) / len(x)

    def predict(self, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Predicted classes of x (N,), in eval mode under inference_mode, batches of ``batch_size``
        (default: the training batch size)."""
        batch_size = batch_size or self.batch_size
        self.model.eval()
        with torch.inference_mode():
            return torch.cat([self.model(x[i : i + batch_size]).argmax(dim=1) for i in range(0, len(x), batch_size)])

    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of x classified as y, in evaluation batches of 1000 (as nnscratch's ``evaluate``)."""
        return float((self.predict(x, EVAL_BATCH_SIZE) == y).double().mean())


def only_shifts(augmentation: Augmentation) -> int:
    """The shift of an augmentation that does nothing but shift (the recipes' default); a ValueError otherwise."""
    if augmentation != Augmentation(shift=augmentation.shift):
        raise ValueError(
            f"the PyTorch side implements random shifts only, and this recipe also uses: {augmentation.describe()}"
        )
    return augmentation.shift


def torch_setup(setup: Setup) -> TorchSetup:
    """The PyTorch twin of ``setup`` (which must not have trained yet: its weights are copied), in the
    dtype of its parameters (float32 unless a test asked ``build_setup`` for float64)."""
    if setup.name == SCALAR:
        raise ValueError("torch_setup: the scalar network is benchmarked on its own (it has no PyTorch twin)")
    settings = setup.settings
    torch.manual_seed(settings.seed)  # the dropout masks
    model = to_torch(setup.model)
    optimizer = torch_optimizer(settings, model.parameters())
    return TorchSetup(
        model=model,
        optimizer=optimizer,
        schedule=torch_schedule(settings, optimizer),
        batch_size=settings.batch_size,
        max_shift=only_shifts(setup.augmentation),
        grad_clip=settings.grad_clip,
        # as nnscratch's Trainer (shuffling) and ConvTrainer (augmentation) seed theirs
        shuffle_rng=np.random.default_rng(settings.seed),
        augment_rng=np.random.default_rng([settings.seed, 1]),
    )
