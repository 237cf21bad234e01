"""TensorBoard event files of a training run, written through tensorboardX (``pip install 'nnscratch[tensorboard]'``).

    log = TensorBoardLog("runs/mlp")
    trainer = Trainer(model, optimizer, callbacks=[log])   # every epoch: scalars and histograms
    trainer.fit(...)
    log.add_watch(watcher)                                  # optional: loss per batch, activations
    log.add_image("confusion_matrix", matrix_image(matrix))
    log.close()

then ``tensorboard --logdir runs``. Tags:

    loss/train, loss/validation, accuracy/train, accuracy/validation, lr,
    seconds, samples_per_s                       per epoch (step = epoch)
    weights/NAME, gradients/NAME                 histograms per epoch of every parameter (the
                                                 gradient is the epoch's last batch's)
    loss/batch                                   per batch (step = global batch index), when watched
    activations/LAYER                            histograms per epoch, when watched

tensorboardX is imported only when a log is opened, and its absence is an ImportError naming the
extra to install. Nothing here imports TensorFlow or torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..common.backend import to_cpu

EXTRA = "pip install 'nnscratch[tensorboard]'"

# history key -> scalar tag
EPOCH_SCALARS = {
    "loss": "loss/train",
    "val_loss": "loss/validation",
    "accuracy": "accuracy/train",
    "val_accuracy": "accuracy/validation",
    "lr": "lr",
    "seconds": "seconds",
    "samples_per_s": "samples_per_s",
}


def summary_writer_class() -> Any:
    """tensorboardX's SummaryWriter, or an ImportError saying how to install it."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(f"TensorBoard logging needs tensorboardX, which is not installed: {EXTRA}") from None
    return SummaryWriter


class TensorBoardLog:
    """A trainer callback (``callback(trainer, entry)``) writing each epoch to TensorBoard event files in
    ``logdir``; see the module docstring for the tags."""

    def __init__(self, logdir: str | Path) -> None:
        self.writer = summary_writer_class()(str(logdir))

    def __call__(self, trainer: Any, entry: dict) -> None:
        epoch = entry["epoch"]
        for key, tag in EPOCH_SCALARS.items():
            if entry.get(key) is not None:
                self.writer.add_scalar(tag, float(entry[key]), epoch)
        for name, parameter in trainer.model.named_parameters():
            self.writer.add_histogram(f"weights/{name}", np.asarray(to_cpu(parameter.data)), epoch)
            self.writer.add_histogram(f"gradients/{name}", np.asarray(to_cpu(parameter.grad)), epoch)

    def add_watch(self, watcher: Any) -> None:
        """A watcher's loss per batch and activation histograms (``watcher.losses``, ``watcher.histograms``)."""
        for entry in watcher.losses:
            self.writer.add_scalar("loss/batch", float(entry["loss"]), entry["step"])
        for entry in watcher.histograms:
            self.add_histogram_counts(f"activations/{entry['layer']}", entry["counts"], entry["edges"], entry["epoch"])

    def add_histogram_counts(self, tag: str, counts: list[int], edges: list[float], step: int) -> None:
        """A histogram already binned: ``counts`` (B,) between ``edges`` (B + 1,). TensorBoard also asks for
        the sum and the sum of squares of the values, which bins no longer hold: they are taken at the
        bins' centres (exact to half a bin width)."""
        counts, edges = np.asarray(counts, dtype=np.float64), np.asarray(edges, dtype=np.float64)
        centres = (edges[:-1] + edges[1:]) / 2
        self.writer.add_histogram_raw(
            tag,
            min=float(edges[0]),
            max=float(edges[-1]),
            num=int(counts.sum()),
            sum=float(counts @ centres),
            sum_squares=float(counts @ centres**2),
            bucket_limits=edges[1:].tolist(),
            bucket_counts=counts.tolist(),
            global_step=step,
        )

    def add_image(self, tag: str, image: Any, step: int = 0) -> None:
        """An image (C, H, W) with values in [0, 1], C being 1 or 3."""
        self.writer.add_image(tag, np.asarray(to_cpu(image), dtype=np.float32), step, dataformats="CHW")

    def close(self) -> None:
        self.writer.close()


def matrix_image(matrix: Any, cell: int = 16) -> np.ndarray:
    """A confusion matrix (K, K) as a grey image (1, K * cell, K * cell): each row divided by its total,
    so a cell's brightness is the fraction of that true class predicted as the column's class."""
    matrix = np.asarray(to_cpu(matrix), dtype=np.float64)
    fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return np.kron(fractions, np.ones((cell, cell)))[None]


def filter_grid(weight: Any, columns: int = 8, cell: int = 4) -> np.ndarray:
    """A convolution's filters weight: (F, C, kh, kw) as one image (C', rows * (kh + 1), columns * (kw + 1)),
    each filter scaled to [0, 1] on its own and magnified ``cell`` times; C' is C for 1 or 3 channels,
    else 1 (the mean over the channels)."""
    weight = np.asarray(to_cpu(weight), dtype=np.float64)
    if weight.shape[1] not in (1, 3):
        weight = weight.mean(axis=1, keepdims=True)
    count, channels, height, width = weight.shape
    low = weight.min(axis=(1, 2, 3), keepdims=True)
    span = weight.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = (weight - low) / np.where(span > 0, span, 1)
    rows = -(-count // columns)
    grid = np.zeros((channels, rows * (height + 1), columns * (width + 1)))
    for index in range(count):
        top, left = (index // columns) * (height + 1), (index % columns) * (width + 1)
        grid[:, top : top + height, left : left + width] = scaled[index]
    return np.kron(grid, np.ones((1, cell, cell)))
