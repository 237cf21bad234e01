"""Learning-rate schedules: the optimizer's ``lr`` as a function of the epoch.

A schedule is stepped once per epoch, after that epoch's optimizer steps, and sets
``optimizer.lr`` for the next one. With base_lr the learning rate the optimizer had when
the schedule was made and e = 0, 1, 2, ... the epoch:

| schedule                       | lr at epoch e                                                     |
| ------------------------------ | ----------------------------------------------------------------- |
| ConstantLR(factor, total_iters)| base_lr * factor while e < total_iters, then base_lr              |
| StepLR(step_size, gamma)       | base_lr * gamma ** (e // step_size)                               |
| MultiStepLR(milestones, gamma) | base_lr * gamma ** (number of milestones <= e)                    |
| CosineAnnealingLR(T_max, ...)  | eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2     |
| ReduceLROnPlateau(...)         | lr * factor after ``patience`` epochs without a better metric     |

The cosine curve is Loshchilov & Hutter's SGDR (2017) without restarts. Each gives the same
sequence as its namesake in ``torch.optim.lr_scheduler`` for the same settings (torch
computes most of them recursively, lr_e from lr_{e-1}; the closed forms here are the same
numbers to round-off, and can be jumped to after loading a state_dict).

    schedule = CosineAnnealingLR(optimizer, T_max=epochs, warmup_epochs=2)
    for epoch in range(epochs):
        train_one_epoch()
        schedule.step()                      # ReduceLROnPlateau: schedule.step(val_loss)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from ..common.checks import check_int, check_number


class Schedule:
    """Base class: holds the optimizer, its base learning rate and the epoch count.

    Subclasses define ``lr_at(epoch)``; ``step()`` advances the epoch and applies it. They
    set their own attributes before calling ``super().__init__``, which applies ``lr_at(0)``
    (as torch's schedulers do when they are created).
    """

    needs_metric = False  # True for ReduceLROnPlateau: step(metric)

    def __init__(self, optimizer: Any) -> None:
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(self).__name__}: expected an optimizer with an lr, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """End of an epoch: move to the next one and set its learning rate."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def state_dict(self) -> dict[str, Any]:
        """``{"type", "epoch", "base_lr"}`` (plus the counters of ReduceLROnPlateau): plain numbers."""
        return {"type": type(self).__name__, "epoch": self.epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` and set the optimizer's learning rate for that epoch."""
        self._check_type(state)
        self.epoch = int(state["epoch"])
        self.base_lr = float(state["base_lr"])
        self.optimizer.lr = self.lr_at(self.epoch)

    def _check_type(self, state: dict[str, Any]) -> None:
        name = type(self).__name__
        if state.get("type") != name:
            raise ValueError(f"{name}.load_state_dict: the state is for {state.get('type')!r}, not {name!r}")


class ConstantLR(Schedule):
    """base_lr * factor for the first ``total_iters`` epochs, then base_lr (as torch's ConstantLR).

    ``factor=1`` (this class's default) keeps the learning rate constant: the "none" schedule.
    """

    def __init__(self, optimizer: Any, factor: float = 1.0, total_iters: int = 0) -> None:
        self.factor = check_number("ConstantLR", "factor", factor, 0.0, 1.0)
        self.total_iters = check_int("ConstantLR", "total_iters", total_iters, 0)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.factor if epoch < self.total_iters else self.base_lr


class StepLR(Schedule):
    """base_lr * gamma ** (epoch // step_size): multiply by gamma every ``step_size`` epochs."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_int("StepLR", "step_size", step_size)
        self.gamma = check_number("StepLR", "gamma", gamma, 0.0)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(Schedule):
    """base_lr * gamma ** k, with k the number of milestones already reached (milestone <= epoch)."""

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1) -> None:
        milestones = list(milestones)
        for milestone in milestones:
            check_int("MultiStepLR", "each milestone", milestone)
        if milestones != sorted(set(milestones)):
            raise ValueError(f"MultiStepLR: milestones must be strictly increasing, got {milestones}")
        self.milestones = milestones
        self.gamma = check_number("MultiStepLR", "gamma", gamma, 0.0)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class CosineAnnealingLR(Schedule):
    """Half a cosine from base_lr down to eta_min over T_max epochs, after an optional linear warmup.

    Without warmup (torch's ``CosineAnnealingLR(T_max, eta_min)``)::

        lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2

    With w = ``warmup_epochs`` > 0, the first w epochs ramp up linearly, starting at
    base_lr / w and rising by equal steps towards base_lr::

        lr_e = base_lr * (1/w + (1 - 1/w) * e / w)                     for e < w

    and the cosine then runs over the remaining T_max - w epochs (e counted from w), so it
    still reaches eta_min at epoch T_max. In torch this is ``SequentialLR([LinearLR(
    start_factor=1/w, total_iters=w), CosineAnnealingLR(T_max - w, eta_min)], milestones=[w])``.
    Past T_max the cosine rises again, as torch's does (it is periodic).
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0, warmup_epochs: int = 0) -> None:
        self.T_max = check_int("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min, 0.0)
        self.warmup_epochs = check_int("CosineAnnealingLR", "warmup_epochs", warmup_epochs, 0)
        if self.warmup_epochs >= self.T_max:
            raise ValueError(
                f"CosineAnnealingLR: warmup_epochs ({warmup_epochs}) must be smaller than T_max ({T_max}), "
                "leaving epochs for the cosine"
            )
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        warmup = self.warmup_epochs
        if epoch < warmup:
            start = 1.0 / warmup
            return self.base_lr * (start + (1.0 - start) * epoch / warmup)
        progress = (epoch - warmup) / (self.T_max - warmup)
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + math.cos(math.pi * progress)) / 2.0


class ReduceLROnPlateau(Schedule):
    """Multiply the learning rate by ``factor`` when a metric stops improving (as torch's ReduceLROnPlateau).

    step(metric) once per epoch. The metric improves when it beats the best so far by more
    than ``threshold``: relative (best * (1 - threshold) for mode "min", best * (1 + threshold)
    for "max") or absolute (best -/+ threshold). After more than ``patience`` epochs without
    improvement, lr = max(lr * factor, min_lr) (unchanged if that changes it by less than
    eps), and the next ``cooldown`` epochs are not counted.
    """

    needs_metric = True

    def __init__(
        self,
        optimizer: Any,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = check_number(name, "factor", factor, 0.0, 1.0, high_open=True)
        self.patience = check_int(name, "patience", patience, 0)
        self.threshold = check_number(name, "threshold", threshold, 0.0)
        self.cooldown = check_int(name, "cooldown", cooldown, 0)
        self.min_lr = check_number(name, "min_lr", min_lr, 0.0)
        self.eps = check_number(name, "eps", eps, 0.0)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        # the learning rate depends on the metrics seen, not on the epoch: it stays where it is
        return self.optimizer.lr

    def _is_better(self, metric: float) -> bool:
        if self.threshold_mode == "rel":
            margin = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            target = self.best * margin
        else:
            target = self.best - self.threshold if self.mode == "min" else self.best + self.threshold
        return metric < target if self.mode == "min" else metric > target

    def step(self, metric: float) -> None:  # type: ignore[override]
        """End of an epoch whose monitored value (e.g. the validation loss) was ``metric``."""
        metric = float(metric)
        self.epoch += 1
        if self._is_better(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "best": self.best,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the counters; the learning rate itself comes back with the optimizer's state_dict."""
        self._check_type(state)
        self.epoch, self.base_lr = int(state["epoch"]), float(state["base_lr"])
        self.best = float(state["best"])
        self.num_bad_epochs, self.cooldown_counter = int(state["num_bad_epochs"]), int(state["cooldown_counter"])


MULTISTEP_MIN_EPOCHS = 4


def multistep_milestones(epochs: int) -> list[int]:
    """The default drops of a multistep schedule: at 50% and 75% of ``epochs``, when the run has at least
    ``MULTISTEP_MIN_EPOCHS`` epochs; none for a shorter run, which keeps its rate throughout.

    A drop is for fine-tuning a model that has already learned most of what it can at the full rate;
    in a run of 2 or 3 epochs the first drop would come after a single epoch, before there is
    anything to fine-tune, and leave the rest of the run crawling at a tenth of the rate.
    For 8 epochs: [4, 6]; for 15: [7, 11]; for 3: [].
    """
    if epochs < MULTISTEP_MIN_EPOCHS:
        return []
    return sorted({epochs // 2, epochs * 3 // 4})


def describe_schedule(name: str, epochs: int) -> str:
    """The schedule as the plan line before training names it, e.g. "multistep schedule (x0.1 after
    epochs 7 and 11)", or "multistep schedule (constant: fewer than 4 epochs)"."""
    if name != "multistep":
        return f"{name} schedule"
    milestones = multistep_milestones(epochs)
    if not milestones:
        return f"multistep schedule (constant: fewer than {MULTISTEP_MIN_EPOCHS} epochs)"
    return f"multistep schedule (x0.1 after epochs {' and '.join(str(m) for m in milestones)})"


SCHEDULES = ("none", "step", "multistep", "cosine", "plateau")


def make_schedule(name: str, optimizer: Any, epochs: int, warmup_epochs: int = 0) -> Schedule:
    """A schedule by name for a run of ``epochs`` epochs (the CLI's ``--schedule``):

    - "none": the learning rate stays (ConstantLR with factor 1)
    - "step": x0.1 every third of the run (StepLR)
    - "multistep": x0.1 at 50% and again at 75% of the run (MultiStepLR); constant below 4 epochs
    - "cosine": cosine decay to 0 over the run, after ``warmup_epochs`` of linear warmup
    - "plateau": x0.1 after 2 epochs without a better validation loss (ReduceLROnPlateau)
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}")
    check_int("make_schedule", "epochs", epochs)
    if warmup_epochs and name != "cosine":
        raise ValueError(f"warmup_epochs={warmup_epochs} needs the cosine schedule, got schedule {name!r}")
    if name == "none":
        return ConstantLR(optimizer)
    if name == "step":
        return StepLR(optimizer, step_size=max(1, epochs // 3))
    if name == "multistep":
        return MultiStepLR(optimizer, multistep_milestones(epochs))
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=epochs, warmup_epochs=warmup_epochs)
    return ReduceLROnPlateau(optimizer, patience=2)
