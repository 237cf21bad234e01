"""``ConvTrainer``: the vectorized tier's training loop, plus what image models need.

The loop itself (shuffle -> augment -> forward -> loss -> backward -> clip -> step ->
schedule, with validation, history, callbacks and early stopping) is written once, in
``nnscratch/vectorized/trainer.py``. ConvTrainer changes it only through its hooks:

- ``_augment_batch(X)``: random changes to each training batch. By default every image is
  shifted by up to +-2 pixels with ``xp.roll``, each by its own random amount, all in a few
  array operations (``common/augment.py`` has this and the other augmentations: rotation,
  flips, noise, cutout, RandAugment). Shifts teach the network that a shirt moved by two
  pixels is still a shirt (translation robustness) without collecting more data.
- ``_train_batch``: applies CutMix when it is switched on, since CutMix changes the targets
  as well as the images (the mixed loss comes from soft targets, see ``augment.cutmix``).
- the default learning-rate schedule: when no schedule is given, ``fit`` uses
  ``_default_multistep_schedule``: the learning rate drops x0.1 at ~50% and again at ~75%
  of the epochs, the classic recipe for SGD with momentum on image classifiers; a run of
  fewer than 4 epochs keeps its rate (a drop after one epoch would only slow it down).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..common.augment import Augmentation
from ..vectorized.schedules import MultiStepLR, multistep_milestones
from ..vectorized.trainer import Callback, Trainer
from ..vectorized.watch import Watcher

LR_DROP = 0.1


class ConvTrainer(Trainer):
    """Trains an image classifier on x (N, C, H, W) and labels y (N,) (see the module docstring).

    augmentation: an ``Augmentation`` (default: shifts of up to 2 pixels; ``Augmentation.none()``
    turns everything off). schedule: a schedule object, or None for the default multistep drops.
    The other arguments are the vectorized ``Trainer``'s. Augmentation draws from its own
    generator, seeded from ``seed``, so changing the augmentation does not change the
    shuffling order. With several processes, each rank draws its own augmentations, from a
    generator seeded anew each epoch from (seed, rank, epoch): different on every rank, and the
    same again when a run is resumed, whatever number of processes saved it.
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss: Any = None,
        schedule: Any = None,
        grad_clip: float | None = None,
        augmentation: Augmentation | None = None,
        callbacks: Sequence[Callback] = (),
        quiet: bool = False,
        seed: int = 0,
        watcher: Watcher | None = None,
        distributed: bool | None = None,
        sync_bn: bool = False,
    ) -> None:
        super().__init__(
            model, optimizer, loss, schedule, grad_clip, callbacks, quiet, seed, watcher, distributed, sync_bn
        )
        self.augmentation = Augmentation() if augmentation is None else augmentation
        self.augment_rng = np.random.default_rng([seed, 1])  # a stream of its own, next to the shuffling's

    @staticmethod
    def _default_multistep_schedule(epochs: int, base_lr: float) -> list[float]:
        """The learning rate of each epoch when no schedule is chosen: ``base_lr``, then x0.1 from
        ~50% of the epochs and x0.01 from ~75% (``multistep_milestones``: epochs // 2 and 3 * epochs // 4),
        or ``base_lr`` throughout for a run of fewer than 4 epochs.

        For 10 epochs at 0.1: [0.1] * 5 + [0.01] * 2 + [0.001] * 3; for 3 epochs: [0.1] * 3.
        """
        milestones = multistep_milestones(epochs)
        return [base_lr * LR_DROP ** sum(epoch >= m for m in milestones) for epoch in range(epochs)]

    def fit(self, x: Any, y: Any, epochs: int, batch_size: int, **options: Any) -> list[dict[str, Any]]:
        """As ``Trainer.fit``; x: (N, C, H, W) float images. Without a schedule, the default
        multistep drops are used (see ``_default_multistep_schedule``)."""
        if x.ndim != 4:
            raise ValueError(f"ConvTrainer.fit: x must be images (N, C, H, W), got shape {tuple(x.shape)}")
        self.augmentation.check_fits(tuple(x.shape[1:]))
        if self.schedule is None and self.epoch == 0:
            self.schedule = MultiStepLR(self.optimizer, multistep_milestones(epochs), gamma=LR_DROP)
        return super().fit(x, y, epochs, batch_size, **options)

    def _train_epoch(self, x: Any, y: Any, batch_size: int) -> tuple[float, float]:
        if self.parallel is not None:  # (a checkpoint holds rank 0's generator only, so it is not carried over)
            self.augment_rng = np.random.default_rng([self.seed, 1, self.parallel.world.rank, self.epoch])
        return super()._train_epoch(x, y, batch_size)

    def _augment_batch(self, images: Any) -> Any:
        """Random per-image changes of one batch (N, C, H, W): by default shifts of up to +-2 pixels
        by ``xp.roll``, vectorized (a few rolls over groups of images, no loop per image)."""
        return self.augmentation.apply(images, self.augment_rng)

    def _train_batch(self, inputs: Any, targets: Any, batch: int, num_batches: int) -> tuple[Any, Any]:
        """CutMix (when enabled) mixes images *and* targets, so it happens here rather than in
        ``_augment_batch``: the loss then sees soft targets, while the epoch's accuracy is still
        counted against the original labels."""
        if self.augmentation.cutmix_alpha:  # (num_classes is known once fit has begun)
            inputs, targets = self.augmentation.mix_targets(inputs, targets, self.num_classes, self.augment_rng)
        return super()._train_batch(inputs, targets, batch, num_batches)
