import numpy as np
import pytest

from nnscratch.common import augment
from nnscratch.common.augment import (
    DEFAULT_SHIFT,
    Augmentation,
    affine_warp,
    cutmix,
    cutout,
    default_augmentation,
    gaussian_noise,
    randaugment,
    random_flip,
    random_rotation,
    random_shift,
    roll_each,
)
from nnscratch.common.cross_entropy import cross_entropy


def batch(n=32, channels=1, size=12, seed=0):
    return np.random.default_rng(seed).standard_normal((n, channels, size, size)).astype(np.float32)


def rng(seed=1):
    return np.random.default_rng(seed)


def test_random_shift_rolls_each_image_by_its_own_offset_of_at_most_two_pixels():
    images = batch(64)
    before = images.copy()
    shifted = random_shift(images, 2, rng())
    np.testing.assert_array_equal(images, before)  # the caller's batch is untouched
    offsets = []
    for original, result in zip(images, shifted, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(np.roll(original, (dy, dx), axis=(1, 2)), result)
        ]
        assert len(matches) == 1, "every output is its input rolled by exactly one (dy, dx) in [-2, 2]^2"
        offsets.append(matches[0])
    assert len(set(offsets)) > 10, "shifts vary across the batch"


def test_random_shift_is_reproducible_from_the_seed():
    images = batch()
    np.testing.assert_array_equal(random_shift(images, 2, rng(5)), random_shift(images, 2, rng(5)))
    assert not np.array_equal(random_shift(images, 2, rng(5)), random_shift(images, 2, rng(6)))


def test_roll_each_moves_down_and_right_for_positive_offsets():
    images = np.zeros((2, 1, 5, 5))
    images[:, 0, 0, 0] = 1
    rolled = roll_each(images, np.array([1, 0]), np.array([2, -1]))
    assert rolled[0, 0, 1, 2] == 1 and rolled[1, 0, 0, 4] == 1 and rolled.sum() == 2


def test_affine_warp_with_a_quarter_turn_equals_rot90_and_identity_is_exact():
    images = batch(3, channels=2, size=6)
    identity = np.tile(np.array([[1.0, 0, 0], [0, 1, 0]]), (3, 1, 1))
    np.testing.assert_array_equal(affine_warp(images, identity), images)
    # output pixel (x, y) reads input (-y, x): a quarter turn, as np.rot90 does it
    quarter = np.tile(np.array([[0.0, -1, 0], [1, 0, 0]]), (3, 1, 1))
    expected = np.rot90(images, k=1, axes=(2, 3))
    np.testing.assert_allclose(affine_warp(images, quarter), expected, atol=1e-6)


def test_random_rotation_keeps_a_centred_disk_and_stays_within_the_angle():
    size = 21
    ys, xs = np.mgrid[:size, :size] - 10
    disk = (np.hypot(ys, xs) <= 5).astype(np.float32)[None, None].repeat(8, axis=0)
    rotated = random_rotation(disk, 45, rng())
    np.testing.assert_allclose(rotated.sum(axis=(1, 2, 3)), disk.sum(axis=(1, 2, 3)), rtol=0.05)
    bar = np.zeros((1, 1, size, size), np.float32)
    bar[0, 0, 10, :] = 1  # a horizontal line through the centre
    tilted = random_rotation(bar.repeat(16, axis=0), 10, rng())
    # a line tilted by at most 10 degrees stays within |y| <= tan(10 deg) * 10 + 1 of the centre row
    rows = np.nonzero(tilted.sum(axis=(0, 1, 3)) > 1e-3)[0]
    assert rows.min() >= 10 - 3 and rows.max() <= 10 + 3


def test_flips_mirror_or_keep_each_image():
    images = batch(40)
    flipped = random_flip(images, rng(), horizontal=True)
    mirrored = [np.array_equal(f, o[:, :, ::-1]) for f, o in zip(flipped, images, strict=True)]
    kept = [np.array_equal(f, o) for f, o in zip(flipped, images, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True)) and any(mirrored) and any(kept)
    upside_down = random_flip(images, rng(), horizontal=False, vertical=True, p=1.0)
    np.testing.assert_array_equal(upside_down, images[:, :, ::-1])


def test_gaussian_noise_has_the_requested_spread_and_keeps_dtype():
    images = np.zeros((16, 1, 32, 32), np.float32)
    noisy = gaussian_noise(images, 0.5, rng())
    assert noisy.dtype == np.float32 and noisy is not images
    assert abs(noisy.std() - 0.5) < 0.02 and abs(noisy.mean()) < 0.02
    assert (images == 0).all()


def test_cutout_blanks_one_square_per_image_and_nothing_else():
    images = batch(20) + 10.0  # no pixel is 0 before cutout
    out = cutout(images, 4, rng(), fill=0.0)
    for original, result in zip(images, out, strict=True):
        blank = result[0] == 0
        rows, cols = np.nonzero(blank)
        assert 1 <= blank.sum() <= 16
        assert rows.max() - rows.min() < 4 and cols.max() - cols.min() < 4
        assert blank.sum() == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1), "a rectangle"
        np.testing.assert_array_equal(result[0][~blank], original[0][~blank])


def test_cutmix_pastes_a_partner_box_and_its_soft_targets_give_the_mixed_loss():
    n = 16
    images, labels = batch(n), np.arange(n)  # distinct labels: a target row names the partner
    mixed, targets = cutmix(images, labels, n, alpha=1.0, rng=rng(3))
    np.testing.assert_allclose(targets.sum(axis=1), 1, rtol=1e-6)
    lam = targets[labels, labels]
    assert np.allclose(lam, lam[0]) and 0 < lam[0] < 1, "one mixing ratio per batch"
    partner = np.where(np.isclose(targets, 1 - lam[0]) & (np.arange(n)[None] != labels[:, None]))[1]
    assert len(partner) == n
    box = (mixed != images).any(axis=(0, 1))
    assert np.isclose(1 - box.sum() / box.size, lam[0]), "lam is the area left unpasted"
    np.testing.assert_array_equal(mixed[:, :, box], images[partner][:, :, box])
    np.testing.assert_array_equal(mixed[:, :, ~box], images[:, :, ~box])
    logits = np.random.default_rng(0).standard_normal((n, n))
    mixed_loss = lam[0] * cross_entropy(logits, labels) + (1 - lam[0]) * cross_entropy(logits, partner)
    np.testing.assert_allclose(cross_entropy(logits, targets.astype(np.float64)), mixed_loss, rtol=1e-6)


def test_randaugment_with_zero_magnitude_changes_nothing():
    images = batch(24)
    np.testing.assert_allclose(randaugment(images, 2, 0.0, rng()), images, atol=1e-5)


def test_randaugment_changes_most_images_and_never_the_input():
    images = batch(24)
    before = images.copy()
    out = randaugment(images, 2, 9, rng())
    np.testing.assert_array_equal(images, before)
    assert out.shape == images.shape and out.dtype == images.dtype
    changed = ~np.isclose(out, images, atol=1e-4).all(axis=(1, 2, 3))
    assert changed.mean() > 0.5


def test_augmentation_pipeline_defaults_and_errors():
    assert default_augmentation("fashion-mnist") == Augmentation(shift=2)
    assert not default_augmentation("mnist").hflip and default_augmentation("cifar10").hflip
    assert not Augmentation.none().enabled and Augmentation(cutout=4).enabled
    images = batch(8)
    out, targets = Augmentation(shift=2, cutout=3, noise=0.1).mix_targets(images, np.arange(8), 10, rng())
    assert out is images and (targets == np.arange(8)).all()  # no CutMix: both unchanged
    _, soft = Augmentation(shift=0, cutmix_alpha=1.0).mix_targets(images, np.arange(8), 10, rng())
    assert soft.shape == (8, 10)
    assert Augmentation() == Augmentation(shift=DEFAULT_SHIFT) == default_augmentation("mnist")
    with pytest.raises(ValueError, match=r"rotate must be in \[0, 180\] degrees, got 270.*noise must be >= 0, got -1"):
        Augmentation(rotate=270, noise=-1)
    with pytest.raises(ValueError, match=r"shift=30 and cutout=0 must be smaller than the 28x28 images"):
        Augmentation(shift=30).check_fits((1, 28, 28))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: random_shift(batch(), -1, rng()), r"max_shift must be >= 0, got -1"),
        (lambda: random_shift(batch(size=4), 4, rng()), r"max_shift=4 must be smaller than the image size 4x4"),
        (lambda: random_rotation(batch(), 200, rng()), r"max_degrees must be in \[0, 180\], got 200"),
        (lambda: random_flip(batch(), rng(), p=2), r"p must be in \[0, 1\], got 2"),
        (lambda: gaussian_noise(batch(), -0.1, rng()), r"std must be >= 0, got -0.1"),
        (lambda: cutout(batch(size=8), 9, rng()), r"size must be in \[1, 8\] for 8x8 images, got 9"),
        (lambda: cutmix(batch(), np.zeros(32, int), 10, 0, rng()), r"alpha must be > 0, got 0"),
        (lambda: randaugment(batch(), 2, 11, rng()), r"magnitude must be in \[0, 10\], got 11"),
        (lambda: random_shift(np.zeros((4, 28, 28)), 2, rng()), r"images must have shape \(N, C, H, W\)"),
    ],
)
def test_impossible_values_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def offsets_of_a_marked_pixel(shifted, size):
    """(dy, dx) of every image, signed, from where its pixel 0 (the only 0 of np.arange) went."""
    positions = np.array([np.argwhere(image[0] == 0)[0] for image in shifted])
    return (positions + size // 2) % size - size // 2


@pytest.mark.parametrize("max_shift", [1, 3])
def test_random_shift_reaches_both_ends_of_plus_minus_max_shift_on_both_axes(max_shift):
    size = 12
    images = np.arange(size * size, dtype=np.float32).reshape(1, 1, size, size).repeat(300, axis=0)
    dy, dx = offsets_of_a_marked_pixel(random_shift(images, max_shift, rng()), size).T
    every_offset = set(range(-max_shift, max_shift + 1))
    assert set(dy) == every_offset and set(dx) == every_offset


def tilt_in_degrees(image):
    """The angle of a bright line through the centre of a square image, from the least-squares
    slope of its pixels' rows on their columns (positive: its right end lower)."""
    size = image.shape[-1]
    rows, cols = np.mgrid[:size, :size] - (size - 1) / 2
    weight = image[0]
    return np.degrees(np.arctan((weight * rows * cols).sum() / (weight * cols * cols).sum()))


def test_random_rotation_turns_images_both_ways_by_up_to_the_angle():
    size, max_degrees = 21, 20
    bar = np.zeros((1, 1, size, size), np.float32)
    bar[0, 0, size // 2, :] = 1  # a horizontal line through the centre
    angles = np.array([tilt_in_degrees(image) for image in random_rotation(bar.repeat(64, axis=0), max_degrees, rng())])
    assert angles.min() < -max_degrees / 2 and angles.max() > max_degrees / 2, "clockwise and anticlockwise"
    assert np.abs(angles).max() <= max_degrees + 1.0


@pytest.mark.parametrize(
    ("op", "magnitude", "expected"),
    [("translate_x", 10, (0, 6)), ("translate_x", 5, (0, 3)), ("translate_y", 10, (3, 0))],
    ids=["x-full", "x-half", "y-full"],
)
def test_randaugment_translates_by_a_fraction_of_the_width_or_height(monkeypatch, op, magnitude, expected):
    # 10 high and 20 wide: 30% of the width (6 pixels) is twice 30% of the height (3 pixels)
    monkeypatch.setattr(augment, "RANDAUGMENT_OPS", (op,))
    images = np.zeros((16, 1, 10, 20), np.float32)
    images[:, 0, 4, 10] = 1.0
    moved = randaugment(images, 1, magnitude, rng())
    np.testing.assert_allclose(moved.sum(axis=(1, 2, 3)), 1.0, atol=1e-6)  # whole pixels: the dot stays one pixel
    offsets = {tuple(np.argwhere(image[0] == image.max())[0] - (4, 10)) for image in moved}
    (dy, dx) = expected
    assert offsets == {(dy, dx), (-dy, -dx)}, "by the fraction of the size, in both directions"
