"""PNG plots of a training run, drawn with matplotlib's Agg backend (never a window).

    plot_history(history, path)                       loss and accuracy per epoch, LR on a second axis
    plot_confusion_matrix(matrix, classes, path)      heat map with counts
    plot_image_grid(images, titles, path)             any grid of images with captions
    plot_misclassified(images, true, pred, classes, path)
    plot_samples(images, labels, classes, path)

matplotlib is imported only when a plot is drawn, so nothing else pays for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_atomically
from .backend import to_cpu


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window, even where a display exists
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: str | Path) -> Path:
    """Write ``figure`` as a PNG at ``path``, atomically (``atomic_file``): a symbolic link planted at
    that name is replaced, not written through, and a crash while drawing leaves no half-written PNG."""
    try:
        return write_atomically(path, lambda stream: figure.savefig(stream, format="png", dpi=120, bbox_inches="tight"))
    finally:
        _pyplot().close(figure)


def _columns(history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]]) -> dict[str, list[float]]:
    """History as columns, whether given as a list of per-epoch dicts or as a dict of lists."""
    if isinstance(history, Mapping):
        return {key: list(values) for key, values in history.items()}
    keys = {key for epoch in history for key in epoch}
    return {key: [epoch.get(key, float("nan")) for epoch in history] for key in keys}


def plot_history(history: Any, path: str | Path, title: str = "training") -> Path:
    """Loss (left) and accuracy (right) per epoch, train and validation; the LR dashed on a second axis."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    columns = _columns(history)
    epochs = np.arange(1, len(columns.get("loss", [])) + 1)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    for axis, metric in ((loss_axis, "loss"), (accuracy_axis, "accuracy")):
        for prefix, style in (("", "-o"), ("val_", "-s")):
            values = np.asarray(columns.get(prefix + metric, []), dtype=float)
            if values.size and np.isfinite(values).any():
                axis.plot(epochs, values, style, markersize=3, label=f"{'validation' if prefix else 'train'} {metric}")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no tick at 1.5
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        if metric == "loss" and "lr" in columns:
            lr_axis = axis.twinx()
            lr_axis.plot(epochs, columns["lr"], "--", color="gray", label="learning rate")
            lr_axis.set_ylabel("learning rate", color="gray")
            lines, labels = axis.get_legend_handles_labels()
            lr_lines, lr_labels = lr_axis.get_legend_handles_labels()
            axis.legend(lines + lr_lines, labels + lr_labels, fontsize=8, loc="best")
        else:
            axis.legend(fontsize=8)
    figure.suptitle(title)
    return _save(figure, path)


def plot_confusion_matrix(
    matrix: Any, classes: Sequence[str], path: str | Path, title: str = "confusion matrix"
) -> Path:
    """Heat map of a confusion matrix (rows: true class, columns: predicted), with the counts written in."""
    plt = _pyplot()
    matrix = np.asarray(to_cpu(matrix))
    size = len(classes)
    figure, axis = plt.subplots(figsize=(1.0 + 0.6 * size, 0.8 + 0.6 * size))
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis, fraction=0.046)
    axis.set_xticks(range(size), classes, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(size), classes, fontsize=8)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(size):
        for col in range(size):
            color = "white" if matrix[row, col] > threshold else "black"
            axis.text(col, row, str(int(matrix[row, col])), ha="center", va="center", fontsize=7, color=color)
    axis.set_title(title)
    return _save(figure, path)


def show_image(axis: Any, image: Any) -> None:
    """Draw one image (C, H, W) on ``axis``, scaled to its own range: grey for one channel, colour for three."""
    picture = np.asarray(image).transpose(1, 2, 0).astype(np.float64)
    low, high = picture.min(), picture.max()
    picture = (picture - low) / (high - low) if high > low else np.zeros_like(picture)
    axis.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)


def plot_image_grid(images: Any, titles: Sequence[str], path: str | Path, title: str = "") -> Path:
    """A grid of images (N, C, H, W) (uint8, or floats scaled per image) with a caption under each."""
    plt = _pyplot()
    images = np.asarray(to_cpu(images))
    count = len(images)
    cols = min(count, 8) or 1
    rows = max(math.ceil(count / cols), 1)
    figure, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.9 * rows), squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index >= count:
            continue
        show_image(axis, images[index])
        axis.set_title(titles[index], fontsize=7)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_image_rows(rows: Mapping[str, Any], path: str | Path, title: str = "", limit: int = 10) -> Path:
    """One row per entry of ``rows`` (label -> images (N, C, H, W) with values in [0, 1]), the first
    ``limit`` images of each side by side: inputs above their reconstructions, say. All are drawn on
    the same 0..1 scale (unlike ``plot_image_grid``), so a faint reconstruction looks faint."""
    plt = _pyplot()
    arrays = {label: np.asarray(to_cpu(images))[:limit] for label, images in rows.items()}
    cols = max(len(images) for images in arrays.values())
    figure, axes = plt.subplots(len(arrays), cols, figsize=(1.3 * cols, 1.45 * len(arrays)), squeeze=False)
    for axes_row, (label, images) in zip(axes, arrays.items(), strict=True):
        for index, axis in enumerate(axes_row):
            axis.set_xticks([])
            axis.set_yticks([])
            if index < len(images):
                picture = images[index].transpose(1, 2, 0)
                axis.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
        axes_row[0].set_ylabel(label, fontsize=9)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_misclassified(
    images: Any, true: Any, predicted: Any, classes: Sequence[str], path: str | Path, limit: int = 32
) -> Path:
    """The first ``limit`` test images the model got wrong, captioned "true -> predicted"."""
    true, predicted = np.asarray(to_cpu(true)), np.asarray(to_cpu(predicted))
    wrong = np.flatnonzero(true != predicted)[:limit]
    titles = [f"{classes[true[i]]} -> {classes[predicted[i]]}" for i in wrong]
    return plot_image_grid(np.asarray(to_cpu(images))[wrong], titles, path, f"misclassified ({len(wrong)} shown)")


def plot_samples(images: Any, labels: Any, classes: Sequence[str], path: str | Path, limit: int = 32) -> Path:
    """The first ``limit`` images with their class names."""
    labels = np.asarray(to_cpu(labels))[:limit]
    return plot_image_grid(np.asarray(to_cpu(images))[:limit], [classes[i] for i in labels], path, "samples")
