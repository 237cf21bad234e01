"""``AugmentingTrainer``: an MLP's flat rows augmented as the images they are, with the code ConvTrainer uses."""

import numpy as np
import pytest

from nnscratch.common.augment import Augmentation
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized.augmenting_trainer import AugmentingTrainer
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.optim import SGD

AUGMENTATION = Augmentation(shift=2, rotate=10, rotate_p=0.5, noise=0.1, noise_p=0.3, cutout=5, cutmix_alpha=1.0)


@pytest.fixture(scope="module")
def sample():
    data = load_dataset("sample")
    return data.normalize(data.x_train[:128]), data.y_train[:128]


def mlp_trainer(augmentation=None, image_shape=(1, 28, 28), seed=0):
    manual_seed(0)
    model = build_mlp(784, [16], 10)
    return AugmentingTrainer(
        model, SGD(model.parameters(), 0.05), augmentation=augmentation, quiet=True, seed=seed, image_shape=image_shape
    )


def test_flat_rows_are_augmented_exactly_as_their_images(sample):
    images, _ = sample
    flat = images.reshape(len(images), -1)
    augmented = mlp_trainer(AUGMENTATION)._augment_batch(flat)
    expected = AUGMENTATION.apply(images, np.random.default_rng([0, 1]))  # the trainer's own stream
    assert augmented.shape == flat.shape
    np.testing.assert_array_equal(augmented, expected.reshape(flat.shape))


def test_without_an_augmentation_the_batch_is_left_as_it_is(sample):
    images, _ = sample
    flat = images.reshape(len(images), -1)
    np.testing.assert_array_equal(mlp_trainer()._augment_batch(flat), flat)


def test_an_mlp_trains_with_every_augmentation_and_cutmix_on_flat_rows(sample):
    images, labels = sample
    flat = images.reshape(len(images), -1)
    trainer = mlp_trainer(AUGMENTATION)
    seen = []
    forward = trainer.loss.forward
    trainer.loss.forward = lambda logits, targets: seen.append(np.shape(targets)) or forward(logits, targets)
    history = trainer.fit(flat, labels, epochs=2, batch_size=32)
    assert len(history) == 2 and np.isfinite(history[-1]["loss"])
    assert (32, 10) in seen, "CutMix hands (N, C) soft targets to the loss"


def test_the_same_seed_trains_the_same_weights(sample):
    images, labels = sample
    flat = images.reshape(len(images), -1)
    weights = []
    for _ in range(2):
        trainer = mlp_trainer(AUGMENTATION, seed=3)
        trainer.fit(flat, labels, epochs=1, batch_size=32)
        weights.append([parameter.data.copy() for parameter in trainer.model.parameters()])
    for first, second in zip(*weights, strict=True):
        np.testing.assert_array_equal(first, second)


def test_rows_that_are_not_images_of_the_shape_are_refused(sample):
    images, labels = sample
    with pytest.raises(ValueError, match=r"AugmentingTrainer.fit: x of shape \(128, 784\) cannot be seen as images"):
        mlp_trainer(AUGMENTATION, image_shape=(3, 28, 28)).fit(images.reshape(128, -1), labels, 1, 32)


def test_a_shift_as_wide_as_the_image_is_refused_before_training(sample):
    images, labels = sample
    with pytest.raises(ValueError, match="shift=28 and cutout=0 must be smaller than the 28x28 images"):
        mlp_trainer(Augmentation(shift=28)).fit(images.reshape(128, -1), labels, 1, 32)


def test_a_state_without_the_augmentation_generator_loads_only_where_it_is_never_drawn_from():
    """A run saved before the MLP could augment has no ``augment_rng``: harmless when nothing is augmented."""
    plain, augmenting = mlp_trainer(Augmentation.none()), mlp_trainer(AUGMENTATION)
    older = plain.state_dict()
    older["generators"] = {"rng": older["generators"]["rng"]}  # as such a run wrote it
    plain.load_state_dict(older)
    np.testing.assert_array_equal(plain.augment_rng.random(3), np.random.default_rng([0, 1]).random(3))
    with pytest.raises(ValueError, match="generators: missing .*augment_rng"):
        augmenting.load_state_dict(older)
