"""What ``Trainer.fit`` refuses, checked before any work is done.

Every problem with the arguments is found before the first batch, so a run that cannot
finish fails in its first second, with a message naming the argument, not an hour later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common.checks import check_int, check_number


def check_fit_arguments(
    x: Any,
    y: Any,
    epochs: int,
    batch_size: int,
    val_split: float,
    validation: tuple[Any, Any] | None,
    early_stopping: int | None,
    data_check: Callable[[str, str, str, Any, Any], None] | None = None,
) -> None:
    """The arguments of ``Trainer.fit`` (see there); a ValueError naming the first bad one.

    data_check(owner, x_name, y_name, x, y): the check of x and its targets (default: ``check_data``,
    one class index per sample).
    """
    data_check = check_data if data_check is None else data_check
    check_int("Trainer.fit", "epochs", epochs)
    check_int("Trainer.fit", "batch_size", batch_size)
    data_check("Trainer.fit", "x", "y", x, y)
    if validation is not None:
        if val_split:
            raise ValueError("Trainer.fit: give val_split or validation=(x_val, y_val), not both")
        data_check("Trainer.fit", "x_val", "y_val", *validation)
    check_number("Trainer.fit", "val_split", val_split, 0.0, 1.0, high_open=True)
    if early_stopping is not None:
        check_int("Trainer.fit", "early_stopping (a patience in epochs)", early_stopping)
        if not val_split and validation is None:
            raise ValueError("Trainer.fit: early_stopping needs validation data: val_split > 0 or validation=...")


def check_data(owner: str, x_name: str, y_name: str, x: Any, y: Any) -> None:
    """x (N, ...) must hold samples, and y (N,) one label for each."""
    if len(x) == 0:
        raise ValueError(f"{owner}: {x_name} is empty")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"{owner}: {y_name} must hold one class index per sample of {x_name}: {x_name} has shape "
            f"{tuple(x.shape)}, {y_name} has shape {tuple(y.shape)}"
        )


def check_labels(owner: str, labels: Any, num_classes: int, name: str = "labels") -> None:
    """labels (N,) must be integer class indices in 0 .. num_classes - 1 (a model with C outputs
    knows classes 0 .. C-1: a label equal to C is already out of range)."""
    if labels.dtype.kind not in "iu":  # signed or unsigned integers
        raise ValueError(f"{owner}: {name} must be integer class indices, got dtype {labels.dtype}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"{owner}: {name} range from {low} to {high}, but the model has {num_classes} outputs "
            f"(classes 0..{num_classes - 1})"
        )
