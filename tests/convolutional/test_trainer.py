import copy

import numpy as np
import pytest

from nnscratch.common.augment import Augmentation
from nnscratch.common.datasets import load_dataset
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.architectures.classifier import ImageClassifier
from nnscratch.convolutional.modules import Conv2D, GlobalAvgPool2D
from nnscratch.convolutional.trainer import ConvTrainer
from nnscratch.vectorized.modules import BatchNorm1D, Linear, ReLU
from nnscratch.vectorized.optim import SGD
from nnscratch.vectorized.schedules import ConstantLR


@pytest.fixture(scope="module")
def sample():
    data = load_dataset("sample")
    return data.normalize(data.x_train[:256]), data.y_train[:256], data


def trainer_for(augmentation=None, schedule=None, lr=0.05, seed=0):
    model = build("lenet")
    optimizer = SGD(model.parameters(), lr, momentum=0.9)
    schedule = schedule(optimizer) if schedule else None
    return ConvTrainer(model, optimizer, schedule=schedule, augmentation=augmentation, quiet=True, seed=seed)


def test_default_multistep_schedule_drops_tenfold_at_half_and_three_quarters():
    assert ConvTrainer._default_multistep_schedule(8, 0.1) == pytest.approx([0.1] * 4 + [0.01] * 2 + [0.001] * 2)
    assert ConvTrainer._default_multistep_schedule(10, 1.0) == pytest.approx([1] * 5 + [0.1] * 2 + [0.01] * 3)
    assert ConvTrainer._default_multistep_schedule(4, 1.0) == pytest.approx([1, 1, 0.1, 0.01])


@pytest.mark.parametrize("epochs", [1, 2, 3])
def test_default_multistep_schedule_keeps_the_rate_of_a_run_shorter_than_four_epochs(epochs):
    assert ConvTrainer._default_multistep_schedule(epochs, 0.5) == [0.5] * epochs


def test_fit_without_a_schedule_follows_the_default_multistep_drops(sample):
    x, y, _ = sample
    trainer = trainer_for()
    history = trainer.fit(x[:64], y[:64], epochs=4, batch_size=32)
    assert [entry["lr"] for entry in history] == pytest.approx(ConvTrainer._default_multistep_schedule(4, 0.05))


def test_an_explicit_schedule_replaces_the_default(sample):
    x, y, _ = sample
    trainer = trainer_for(schedule=ConstantLR)
    history = trainer.fit(x[:64], y[:64], epochs=3, batch_size=32)
    assert [entry["lr"] for entry in history] == pytest.approx([0.05] * 3)


def test_augment_batch_rolls_every_image_by_its_own_shift_of_at_most_two_pixels(sample):
    x, _, _ = sample
    images = x[:48]
    before = images.copy()
    augmented = trainer_for()._augment_batch(images)
    np.testing.assert_array_equal(images, before)
    shifts = []
    for original, result in zip(images, augmented, strict=True):
        found = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(np.roll(original, (dy, dx), axis=(1, 2)), result)
        ]
        assert found, "each output image is its input rolled by some (dy, dx) with |dy|, |dx| <= 2"
        shifts.append(found[0])
    assert len(set(shifts)) >= 8, "the shifts vary across the batch"


def test_augmentation_can_be_switched_off(sample):
    x, _, _ = sample
    np.testing.assert_array_equal(trainer_for(Augmentation.none())._augment_batch(x[:8]), x[:8])


def test_training_reduces_the_loss_and_beats_chance_on_real_images(sample):
    _, _, data = sample
    trainer = trainer_for(schedule=ConstantLR, lr=0.02)
    history = trainer.fit(data.normalize(data.x_train), data.y_train, epochs=3, batch_size=32)
    assert history[-1]["loss"] < history[0]["loss"]
    _, accuracy = trainer.evaluate(data.normalize(data.x_test), data.y_test)
    assert accuracy > 0.6  # ten classes: chance is 0.1


def test_cutmix_feeds_soft_targets_to_the_loss_and_still_counts_accuracy_on_labels(sample):
    x, y, _ = sample
    trainer = trainer_for(Augmentation(shift=0, cutmix_alpha=1.0))
    seen = []
    original_forward = trainer.loss.forward

    def spy(logits, targets):
        seen.append(np.asarray(targets).shape)
        return original_forward(logits, targets)

    trainer.loss.forward = spy
    history = trainer.fit(x[:64], y[:64], epochs=1, batch_size=32)
    assert (32, 10) in seen, "CutMix hands (N, C) soft targets to the loss"
    assert 0 <= history[0]["accuracy"] <= 1 and np.isfinite(history[0]["loss"])


def test_bad_shapes_and_impossible_augmentation_are_refused_before_training(sample):
    x, y, _ = sample
    with pytest.raises(ValueError, match=r"x must be images \(N, C, H, W\), got shape \(16, 784\)"):
        trainer_for().fit(x[:16].reshape(16, -1), y[:16], 1, 8)
    with pytest.raises(ValueError, match=r"shift=28 and cutout=0 must be smaller than the 28x28 images"):
        trainer_for(Augmentation(shift=28)).fit(x[:16], y[:16], 1, 8)
    with pytest.raises(ValueError, match=r"lenet was built for 1x28x28 images, got input of shape \(1, 3, 28, 28\)"):
        trainer_for().fit(np.repeat(x[:16], 3, axis=1), y[:16], 1, 8)


def batches_of_one_epoch(trainer, x, y, batch_size):
    """(labels, images) of every batch one epoch of ``fit`` trains on, as the model sees them."""
    seen = []
    train_batch = trainer._train_batch

    def spy(inputs, targets, batch, num_batches):
        seen.append((np.array(targets), np.array(inputs)))
        return train_batch(inputs, targets, batch, num_batches)

    trainer._train_batch = spy
    trainer.fit(x, y, epochs=trainer.epoch + 1, batch_size=batch_size)
    return seen


def test_a_last_batch_of_one_image_joins_the_batch_before_when_the_model_has_batchnorm(sample):
    x, y, _ = sample
    # BatchNorm1D after global pooling: one image would give it one value per channel
    model = ImageClassifier(
        "bn-head", (1, 28, 28), Conv2D(1, 4, 3, stride=3, seed=0), ReLU(), GlobalAvgPool2D(), BatchNorm1D(4),
        Linear(4, 10, seed=1),
    )  # fmt: skip
    trainer = ConvTrainer(model, SGD(model.parameters(), 0.01), quiet=True)
    batches = batches_of_one_epoch(trainer, x[: 2 * 8 + 1], y[: 2 * 8 + 1], batch_size=8)
    assert [len(labels) for labels, _ in batches] == [8, 9]
    assert np.isfinite(trainer.history[-1]["loss"])


def test_augmentation_and_shuffling_draw_from_independent_streams(sample):
    x, y, _ = sample
    shifting, still = trainer_for(Augmentation(shift=2)), trainer_for(Augmentation.none())
    # neither stream is a copy of the other: their next draws differ
    assert not np.array_equal(copy.deepcopy(shifting.rng).random(8), copy.deepcopy(shifting.augment_rng).random(8))
    # drawing shifts leaves the shuffling alone: the same batches, epoch after epoch, as without augmentation
    for _ in range(2):
        shifted_batches = batches_of_one_epoch(shifting, x[:32], y[:32], batch_size=8)
        still_batches = batches_of_one_epoch(still, x[:32], y[:32], batch_size=8)
        for (shifted_labels, shifted_images), (labels, images) in zip(shifted_batches, still_batches, strict=True):
            np.testing.assert_array_equal(shifted_labels, labels)
            assert not np.array_equal(shifted_images, images), "the shifts were drawn"
