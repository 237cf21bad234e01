"""``ConvTrainer``: the vectorized tier's training loop, plus what image models need.

The loop itself (shuffle -> augment -> forward -> loss -> backward -> clip -> step ->
schedule, with validation, history, callbacks and early stopping) is written once, in
``nnscratch/vectorized/trainer.py``; the augmentation hooks (``_augment_batch``, and CutMix in
``_train_batch``) once too, in ``vectorized/augmenting_trainer.py``, which the MLP shares.
ConvTrainer adds what image models need:

- augmentation on by default: ``_augment_batch(X)`` shifts every image by up to +-2 pixels
  with ``xp.roll``, each by its own random amount, all in a few array operations
  (``common/augment.py`` has this and the other augmentations: rotation, flips, noise, cutout,
  CutMix, RandAugment). Shifts teach the network that a shirt moved by two pixels is still a
  shirt (translation robustness) without collecting more data.
- the default learning-rate schedule: when no schedule is given, ``fit`` uses
  ``_default_multistep_schedule``: the learning rate drops x0.1 at ~50% and again at ~75%
  of the epochs, the classic recipe for SGD with momentum on image classifiers; a run of
  fewer than 4 epochs keeps its rate (a drop after one epoch would only slow it down).
"""

from __future__ import annotations

from typing import Any

from ..common.augment import Augmentation
from ..vectorized.augmenting_trainer import AugmentingTrainer
from ..vectorized.schedules import MultiStepLR, multistep_milestones

LR_DROP = 0.1


class ConvTrainer(AugmentingTrainer):
    """Trains an image classifier on x (N, C, H, W) and labels y (N,) (see the module docstring).

    augmentation: an ``Augmentation`` (default: shifts of up to 2 pixels; ``Augmentation.none()``
    turns everything off). schedule: a schedule object, or None for the default multistep drops.
    The other arguments are ``AugmentingTrainer``'s, image_shape left None (the images are whole).
    Augmentation draws from its own generator, seeded from ``seed``, so changing the augmentation
    does not change the shuffling order.
    """

    @staticmethod
    def default_augmentation() -> Augmentation:
        """Image models train with random shifts of up to 2 pixels unless told otherwise."""
        return Augmentation()

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
        if self.schedule is None and self.epoch == 0:
            self.schedule = MultiStepLR(self.optimizer, multistep_milestones(epochs), gamma=LR_DROP)
        return super().fit(x, y, epochs, batch_size, **options)
