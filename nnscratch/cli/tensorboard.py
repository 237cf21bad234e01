"""``--tensorboard DIR``'s last events, written after the test: what only a finished run knows.

The epochs' scalars and histograms are written while training, by the ``TensorBoardLog`` the run
hands its trainer as a callback (``vectorized/tensorboard.py``); this adds the test set's
confusion matrix, the first convolution's filters and, for a watched run, the loss per batch and
the activation histograms.
"""

from __future__ import annotations

from typing import Any


def finish_tensorboard(run: Any, dataset: Any, predicted: Any) -> None:
    """Add the test confusion matrix, the first filters and the watcher's data to ``run.tensorboard``."""
    from ..common.metrics import confusion_matrix
    from ..vectorized.tensorboard import filter_grid, matrix_image
    from .report import first_convolution

    log, epoch = run.tensorboard, run.trainer.epoch
    matrix = confusion_matrix(predicted, dataset.y_test, dataset.num_classes)
    log.add_image("test/confusion_matrix", matrix_image(matrix), epoch)
    conv = first_convolution(run.model)
    if conv is not None:
        log.add_image("filters/first_convolution", filter_grid(conv.weight.data), epoch)
    watcher = getattr(run, "watcher", None)
    if watcher is not None:
        log.add_watch(watcher)
