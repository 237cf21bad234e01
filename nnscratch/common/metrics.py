"""Classification metrics, vectorized: accuracy, per-class accuracy, confusion matrix.

All take predicted and true class indices (N,) on either backend and return NumPy results
(they are for reports, so they come back to the host once).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import to_cpu


def _as_labels(predicted: Any, true: Any) -> tuple[np.ndarray, np.ndarray]:
    predicted, true = to_cpu(predicted).astype(np.int64).ravel(), to_cpu(true).astype(np.int64).ravel()
    if predicted.shape != true.shape:
        raise ValueError(f"metrics: {predicted.size} predictions for {true.size} labels")
    return predicted, true


def accuracy(predicted: Any, true: Any) -> float:
    """Fraction of predictions equal to the true class."""
    predicted, true = _as_labels(predicted, true)
    return float((predicted == true).mean()) if true.size else float("nan")


def confusion_matrix(predicted: Any, true: Any, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts: row = true class, column = predicted class.

    One ``bincount`` over the pair index ``true * C + predicted`` counts every cell at once.
    """
    predicted, true = _as_labels(predicted, true)
    if true.size and (min(true.min(), predicted.min()) < 0 or max(true.max(), predicted.max()) >= num_classes):
        raise ValueError(f"metrics: class indices must be in [0, {num_classes}), got {true.min()}..{true.max()}")
    counts = np.bincount(true * num_classes + predicted, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(predicted: Any, true: Any, num_classes: int) -> np.ndarray:
    """(num_classes,) accuracy within each true class (recall); NaN for a class with no samples."""
    matrix = confusion_matrix(predicted, true, num_classes)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(matrix) / totals
