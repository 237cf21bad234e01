"""``AugmentingTrainer``: the training loop with data augmentation, for images whole or flattened.

The augmentations (``common/augment.py``) act on images (N, C, H, W). A CNN takes its batches
in that form (``ConvTrainer`` builds on this class); an MLP takes every image flattened to one
row, (N, C*H*W). Given the ``image_shape`` (C, H, W) of the rows, this trainer views a flat batch
as images, augments them and flattens them back, so both tiers share one augmentation code and
the same ``--augment-*`` flags. The rows are an image's pixels in (C, H, W) order, as
``reshape`` laid them out, so the round trip is exact.

Two hooks of the loop (``vectorized/trainer.py``) are filled in:

- ``_augment_batch``: the label-preserving augmentations (shift, rotate, flips, noise, cutout,
  RandAugment), each image with its own random parameters.
- ``_train_batch``: CutMix, when switched on, which mixes the targets as well as the images
  (the mixed loss comes from soft targets, see ``augment.cutmix``).

Augmentation draws from its own generator, seeded from ``seed``, so turning an augmentation on
or off does not change the shuffling order, and a checkpoint keeps its state with the others.
With several processes, each rank draws its own augmentations, from a generator seeded anew
each epoch from (seed, rank, epoch): different on every rank, and the same again when a run is
resumed, whatever number of processes saved it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..common.augment import Augmentation
from .trainer import Trainer


class AugmentingTrainer(Trainer):
    """``Trainer`` plus an ``Augmentation`` of every training batch (see the module docstring).

    augmentation: what to apply (default: ``default_augmentation()``, none). image_shape: (C, H, W) of the
    flat rows x (N, C*H*W) the model takes, or None when x holds images (N, C, H, W) already.
    options: ``Trainer``'s other keyword arguments (schedule, grad_clip, callbacks, quiet, seed,
    watcher, distributed, sync_bn), passed on unchanged.
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss: Any = None,
        *,
        augmentation: Augmentation | None = None,
        image_shape: tuple[int, int, int] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, optimizer, loss, **options)
        self.augmentation = self.default_augmentation() if augmentation is None else augmentation
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.augment_rng = np.random.default_rng([self.seed, 1])  # a stream of its own, next to the shuffling's

    @staticmethod
    def default_augmentation() -> Augmentation:
        """The augmentation of a trainer given none: none at all (``ConvTrainer``: shifts)."""
        return Augmentation.none()

    def unused_generators(self) -> set[str]:
        """``augment_rng`` when nothing is augmented (a run saved before the MLP could augment lacks it)."""
        return set() if self.augmentation.enabled else {"augment_rng"}

    def fit(self, x: Any, y: Any, epochs: int, batch_size: int, **options: Any) -> list[dict[str, Any]]:
        """As ``Trainer.fit``, after checking that x's samples are images the augmentation fits."""
        shape = self.image_shape or tuple(x.shape[1:])
        if self.image_shape is not None and math.prod(shape) != math.prod(x.shape[1:]):
            raise ValueError(
                f"{type(self).__name__}.fit: x of shape {tuple(x.shape)} cannot be seen as images {shape} "
                f"({math.prod(shape)} values each)"
            )
        self.augmentation.check_fits(shape)
        return super().fit(x, y, epochs, batch_size, **options)

    def _train_epoch(self, x: Any, y: Any, batch_size: int) -> tuple[float, float]:
        if self.parallel is not None:  # (a checkpoint holds rank 0's generator only, so it is not carried over)
            self.augment_rng = np.random.default_rng([self.seed, 1, self.parallel.world.rank, self.epoch])
        return super()._train_epoch(x, y, batch_size)

    def _as_images(self, inputs: Any) -> Any:
        """A batch as images (N, C, H, W): flat rows (N, C*H*W) reshaped, images as they are."""
        return inputs if self.image_shape is None else inputs.reshape(len(inputs), *self.image_shape)

    def _augment_batch(self, inputs: Any) -> Any:
        """Random per-image changes of one batch, returned in the batch's own shape."""
        return self.augmentation.apply(self._as_images(inputs), self.augment_rng).reshape(inputs.shape)

    def _train_batch(self, inputs: Any, targets: Any, batch: int, num_batches: int) -> tuple[Any, Any]:
        """CutMix (when enabled) mixes images *and* targets, so it happens here rather than in
        ``_augment_batch``: the loss then sees soft targets, while the epoch's accuracy is still
        counted against the original labels."""
        if self.augmentation.cutmix_alpha:  # (num_classes is known once fit has begun)
            images, targets = self.augmentation.mix_targets(
                self._as_images(inputs), targets, self.num_classes, self.augment_rng
            )
            inputs = images.reshape(inputs.shape)
        return super()._train_batch(inputs, targets, batch, num_batches)
