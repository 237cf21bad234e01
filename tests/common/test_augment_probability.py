"""Each augmentation's probability: p = 0 changes nothing, p = 1 is what the operation always did, and in
between about p of the images (CutMix: of the batches) change, reproducibly from the seed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common.augment import (
    PROBABILITY_OF,
    Augmentation,
    cutmix,
    cutout,
    gaussian_noise,
    random_flip,
    random_rotation,
    random_shift,
    sometimes,
)

# one setting per operation that changes (almost) every image it is applied to
SETTINGS = {
    "shift": {"shift": 2},
    "rotate": {"rotate": 20.0},
    "hflip": {"hflip": True},
    "vflip": {"vflip": True},
    "noise": {"noise": 0.5},
    "cutout": {"cutout": 4},
    "randaugment_ops": {"randaugment_ops": 2, "randaugment_magnitude": 9.0},
}


def batch(n, size=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, size, size)).astype(np.float32)


def only(operation: str, **changes) -> Augmentation:
    """An Augmentation with nothing on but ``operation`` (shift is on by default: off unless asked for)."""
    return Augmentation(**{"shift": 0, **SETTINGS[operation], **changes})


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(N,) booleans: which images differ."""
    return (before != after).reshape(len(before), -1).any(axis=1)


@given(operation=st.sampled_from(list(SETTINGS)), seed=st.integers(0, 2**32 - 1))
def test_probability_zero_leaves_every_image_as_it_was(operation, seed):
    images = batch(16)
    augmentation = only(operation, **{PROBABILITY_OF[operation]: 0.0})
    assert not augmentation.enabled
    np.testing.assert_array_equal(augmentation.apply(images, np.random.default_rng(seed)), images)


@given(seed=st.integers(0, 2**32 - 1), rotate=st.floats(1, 180), shift=st.integers(1, 3), noise=st.floats(0.01, 1))
def test_probability_one_is_the_operations_as_they_always_ran(seed, rotate, shift, noise):
    """Every p = 1 (the flips' 0.5, their own coin) gives the very images the functions give in turn."""
    images = batch(12)
    augmentation = Augmentation(shift=shift, rotate=rotate, hflip=True, vflip=True, noise=noise, cutout=3)
    expected_rng = np.random.default_rng(seed)
    expected = random_rotation(images, rotate, expected_rng)
    expected = random_shift(expected, shift, expected_rng)
    expected = random_flip(expected, expected_rng, horizontal=True, vertical=True)
    expected = cutout(gaussian_noise(expected, noise, expected_rng), 3, expected_rng)
    np.testing.assert_array_equal(augmentation.apply(images, np.random.default_rng(seed)), expected)


@given(operation=st.sampled_from(list(SETTINGS)), p=st.floats(0.1, 0.9), seed=st.integers(0, 2**16))
def test_about_p_of_the_images_change(operation, p, seed):
    images = batch(600, size=6)
    augmented = only(operation, **{PROBABILITY_OF[operation]: p}).apply(images, np.random.default_rng(seed))
    # a chosen image may still come out equal (a shift of (0, 0), RandAugment's identity), so only a
    # lower bound on those is exact; 600 draws keep the share within 0.08 of p (4.9 standard deviations)
    share = changed(images, augmented).mean()
    assert p - 0.08 < share if operation in ("shift", "randaugment_ops") else abs(share - p) < 0.08


@given(p=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_sometimes_changes_only_the_chosen_images_and_not_the_callers_batch(p, seed):
    images = batch(64)
    before = images.copy()
    result = sometimes(lambda x: x + 1, images, p, np.random.default_rng(seed))
    np.testing.assert_array_equal(images, before)
    chosen = np.random.default_rng(seed).random(64) < p
    np.testing.assert_array_equal(result[chosen], images[chosen] + 1)
    np.testing.assert_array_equal(result[~chosen], images[~chosen])


def test_the_same_seed_gives_the_same_augmented_images():
    augmentation = Augmentation(rotate=15, rotate_p=0.5, noise=0.2, noise_p=0.3, cutout=3, cutout_p=0.7)
    first = augmentation.apply(batch(32), np.random.default_rng(7))
    np.testing.assert_array_equal(first, augmentation.apply(batch(32), np.random.default_rng(7)))
    assert not np.array_equal(first, augmentation.apply(batch(32), np.random.default_rng(8)))


@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_cutmix_probability_is_per_batch(p):
    augmentation = Augmentation(shift=0, cutmix_alpha=1.0, cutmix_p=p)
    rng = np.random.default_rng(0)
    mixed = [augmentation.mix_targets(batch(4), np.arange(4), 10, rng)[1].ndim == 2 for _ in range(800)]
    assert abs(np.mean(mixed) - p) < 0.06


def test_cutmix_probability_one_draws_what_cutmix_always_drew():
    images, labels = batch(8), np.arange(8)
    ours = Augmentation(shift=0, cutmix_alpha=0.7).mix_targets(images, labels, 10, np.random.default_rng(3))
    theirs = cutmix(images, labels, 10, 0.7, np.random.default_rng(3))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_describe_names_a_probability_that_is_not_the_operations_usual_one():
    assert Augmentation(rotate=10, rotate_p=0.5).describe() == "rotate 10 deg (p 0.5), shift 2px"
    assert Augmentation(shift=0, hflip=True).describe() == "hflip"
    assert Augmentation(shift=0, hflip=True, hflip_p=1.0).describe() == "hflip (p 1)"


@pytest.mark.parametrize("field", list(PROBABILITY_OF.values()))
def test_a_probability_outside_0_1_is_refused_by_name(field):
    with pytest.raises(ValueError, match=f"Augmentation: {field} must be a probability in \\[0, 1\\], got 1.5"):
        Augmentation(**{field: 1.5})
