"""``ReconstructionTrainer``: the training loop for models whose targets are images.

An autoencoder learns x -> x, a segmentation net x -> a mask of x: the target of each
sample is an image (N, C', H, W) rather than a class index. Everything else about training
is the same: shuffle, forward, loss, backward, clip, step, schedule, validation, history,
callbacks, early stopping, checkpoints and resuming. So this is a subclass of the
vectorized ``Trainer`` that overrides only what a target is, through the trainer's hooks:

- ``_check_data``: a target image per input image, (N, C', H, W), instead of a label;
- ``_split``: the validation split is a seeded random fraction (there are no classes to
  stratify by);
- ``_num_correct``: the epoch's "accuracy" is the *pixel accuracy*: the share of pixels on
  the same side of one half as the target (``output_threshold`` says what one half is in the
  model's outputs: 0.5 for a sigmoid's output, 0 for logits). For a segmentation net that is
  the usual pixel accuracy of its mask; for an autoencoder it says how many pixels land on the
  right side of mid-grey, a coarser view of the loss;
- ``_check_model_accepts``: the model's output must have the targets' shape;
- ``predict``: the output images themselves (the classifiers' argmax means nothing here).

It derives from ``Trainer`` and not from ``ConvTrainer``, whose augmentation shifts the
inputs only: an input shifted two pixels while its target stays put would teach the network
to move images. The loss is the caller's choice: ``MSELoss`` (the default) for a
reconstruction in [0, 1], ``BCEWithLogitsLoss`` for mask logits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..common.backend import to_cpu
from ..common.datasets import train_val_split
from ..vectorized.losses import MSELoss
from ..vectorized.trainer import EVAL_BATCH_SIZE, Trainer


class ReconstructionTrainer(Trainer):
    """Trains a model of images x (N, C, H, W) -> images (N, C', H, W) against target images.

    loss: compares outputs and targets of the same shape, returning the batch mean (default:
    ``MSELoss()``). output_threshold: the output value that stands for one half of the target
    range, for the pixel accuracy (0.5 for outputs in [0, 1], 0.0 for logits). options: the
    vectorized ``Trainer``'s other keyword arguments (schedule, grad_clip, callbacks, quiet, seed,
    watcher, distributed, sync_bn), passed on unchanged; ``fit(x, targets, epochs, batch_size, ...)``
    as ``Trainer.fit``, with target images in place of labels.
    """

    def __init__(
        self, model: Any, optimizer: Any, loss: Any = None, *, output_threshold: float = 0.5, **options: Any
    ) -> None:
        loss = MSELoss() if loss is None else loss
        super().__init__(model, optimizer, loss, **options)
        self.output_threshold = output_threshold

    def _check_data(self, owner: str, x_name: str, y_name: str, x: Any, y: Any) -> None:
        """x (N, C, H, W) images, and y (N, C', H, W) one target image of the same height and width for each."""
        if x.ndim != 4 or len(x) == 0:
            raise ValueError(f"{owner}: {x_name} must be a non-empty batch of images (N, C, H, W), got {x.shape}")
        if y.ndim != 4 or len(y) != len(x) or y.shape[2:] != x.shape[2:]:
            raise ValueError(
                f"{owner}: {y_name} must hold one target image (N, C', H, W) per image of {x_name}: "
                f"{x_name} has shape {tuple(x.shape)}, {y_name} has shape {tuple(y.shape)}"
            )

    def _split(self, x: Any, y: Any, val_split: float) -> tuple[Any, Any, Any, Any]:
        """A seeded random ``val_split`` of the samples for validation (a stratified split with one class)."""
        indices = np.arange(len(x))
        train, _, validation, _ = train_val_split(indices, np.zeros(len(x), dtype=np.int64), val_split, self.seed)
        x, y = to_cpu(x), to_cpu(y)
        return x[train], y[train], x[validation], y[validation]

    def _num_correct(self, outputs: Any, targets: Any) -> Any:
        """The batch's pixel accuracy times its number of samples (what ``fit`` sums and divides by N)."""
        agree = (outputs > self.output_threshold) == (targets > 0.5)
        return agree.sum() / agree[0].size

    def _check_model_accepts(self, x: Any, y: Any, validation: tuple[Any, Any] | None) -> None:
        """One sample through the model (eval mode, nothing kept): its output must have the targets' shape."""
        pairs = [("targets", x, y)] + ([] if validation is None else [("validation targets", *validation)])
        for name, images, targets in pairs:
            output = self.predict_logits(images[:1])
            if output.shape[1:] != targets.shape[1:]:
                raise ValueError(
                    f"ReconstructionTrainer.fit: the model makes outputs of shape {tuple(output.shape[1:])} per "
                    f"image, and the {name} have shape {tuple(targets.shape[1:])}"
                )

    def predict(self, x: Any, batch_size: int = EVAL_BATCH_SIZE) -> Any:
        """The model's output images (N, C', H, W) for x, on the active device, in eval mode."""
        return self.predict_logits(x, batch_size)
