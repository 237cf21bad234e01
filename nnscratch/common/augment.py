"""Data augmentation: random, label-preserving changes to training images.

Every function takes a batch ``images: (N, C, H, W)`` (float, already normalised) on the
active backend and a NumPy ``rng``, and returns a *new* array: the caller's batch is never
modified. Each image gets its own random parameters, yet nothing loops over images: a
function loops at most over the handful of distinct parameter values (5 row shifts, say)
and treats all images that drew the same value in one array operation.

Random parameters are drawn on the host with NumPy, whatever the backend (they are a few
numbers per image), so a seed gives the same augmentation on the CPU and on a GPU, and the
generator's state is a plain dictionary that checkpoints can store.

    shift          roll by up to +-k pixels (the default, k = ``DEFAULT_SHIFT`` = 2)
    rotate         rotate by up to +-d degrees (bilinear, zero fill)
    flip           mirror left-right and/or upside-down
    noise          add Gaussian noise
    cutout         blank a random square (DeVries & Taylor 2017)
    cutmix         paste a box from another image and mix the labels (Yun et al. 2019)
    randaugment    N random ops of magnitude M per image (Cubuk et al. 2020)

``Augmentation`` bundles a configuration of these; ``default_augmentation(dataset)`` is the
safe default per dataset: shifts only for digits and clothing (a mirrored "2" or a shirt
upside down is not the same class), plus horizontal flips for CIFAR-10's photos.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import get_array_module

# The defaults of ``Augmentation`` (so of ``ConvTrainer`` and ``default_augmentation``): the one place they are set.
DEFAULT_SHIFT = 2
DEFAULT_RANDAUGMENT_MAGNITUDE = 9.0


def _check_batch(images: Any, name: str) -> None:
    if images.ndim != 4:
        raise ValueError(f"{name}: images must have shape (N, C, H, W), got shape {tuple(images.shape)}")


# ----------------------------------------------------------------------------- shift


def random_shift(images: Any, max_shift: int, rng: np.random.Generator) -> Any:
    """Roll every image by its own (dy, dx), each drawn uniformly from [-max_shift, max_shift].

    images: (N, C, H, W) -> same shape. Pixels pushed off one edge re-enter at the other
    (``xp.roll``); for centred objects on a dark background, like (Fashion-)MNIST, that
    border is background anyway. Rows and columns are rolled separately: one ``xp.roll``
    per distinct dy and per distinct dx, over all the images that drew it.
    """
    _check_batch(images, "random_shift")
    if max_shift < 0:
        raise ValueError(f"random_shift: max_shift must be >= 0, got {max_shift}")
    n, _, height, width = images.shape
    if max_shift >= min(height, width):
        raise ValueError(f"random_shift: max_shift={max_shift} must be smaller than the image size {height}x{width}")
    shifts = rng.integers(-max_shift, max_shift + 1, size=(2, n))
    return roll_each(images, shifts[0], shifts[1])


def roll_each(images: Any, dy: np.ndarray, dx: np.ndarray) -> Any:
    """Roll image i by (dy[i], dx[i]) pixels (down and right for positive values). images: (N, C, H, W)."""
    xp = get_array_module(images)
    shifted = images.copy()
    for axis, amounts in ((2, dy), (3, dx)):
        for amount in np.unique(amounts):
            if amount == 0:
                continue
            chosen = xp.asarray(np.flatnonzero(amounts == amount))
            shifted[chosen] = xp.roll(shifted[chosen], int(amount), axis=axis)
    return shifted


# ----------------------------------------------------------------------------- geometry


def affine_warp(images: Any, matrices: np.ndarray) -> Any:
    """Resample each image through its own 2x3 affine map (bilinear, zeros outside).

    images: (N, C, H, W); matrices: (N, 2, 3) mapping *output* pixel coordinates (x, y),
    measured from the image centre, to the input coordinates they are read from.
    """
    xp = get_array_module(images)
    n, channels, height, width = images.shape
    ys, xs = np.meshgrid(np.arange(height) - (height - 1) / 2, np.arange(width) - (width - 1) / 2, indexing="ij")
    grid = np.stack([xs.ravel(), ys.ravel(), np.ones(height * width)])  # (3, H*W)
    source = matrices @ grid  # (N, 2, H*W): where each output pixel reads from
    src_x = source[:, 0] + (width - 1) / 2
    src_y = source[:, 1] + (height - 1) / 2
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    flat = images.reshape(n, channels, height * width)
    warped = xp.zeros_like(flat)
    # bilinear: the four neighbours, each weighted by the area of the opposite sub-rectangle
    for oy in (0, 1):
        for ox in (0, 1):
            px, py = x0 + ox, y0 + oy
            weight = (1 - np.abs(src_x - px)) * (1 - np.abs(src_y - py))
            inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
            index = np.where(inside, py * width + px, 0)
            weight = xp.asarray(np.where(inside, weight, 0.0), dtype=images.dtype)
            gathered = xp.take_along_axis(flat, xp.asarray(index)[:, None, :], axis=2)
            warped += gathered * weight[:, None, :]
    return warped.reshape(images.shape)


def _rotation_matrices(degrees: np.ndarray) -> np.ndarray:
    """(N,) angles -> (N, 2, 3) maps from output to input coordinates (the inverse rotation)."""
    radians = np.deg2rad(degrees)
    cos, sin = np.cos(radians), np.sin(radians)
    matrices = np.zeros((len(degrees), 2, 3))
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, sin
    matrices[:, 1, 0], matrices[:, 1, 1] = -sin, cos
    return matrices


def random_rotation(images: Any, max_degrees: float, rng: np.random.Generator) -> Any:
    """Rotate every image by its own angle, uniform in [-max_degrees, max_degrees]. (N, C, H, W)."""
    _check_batch(images, "random_rotation")
    if not 0 <= max_degrees <= 180:
        raise ValueError(f"random_rotation: max_degrees must be in [0, 180], got {max_degrees}")
    angles = rng.uniform(-max_degrees, max_degrees, size=len(images))
    return affine_warp(images, _rotation_matrices(angles))


def random_flip(
    images: Any, rng: np.random.Generator, horizontal: bool = True, vertical: bool = False, p: float = 0.5
) -> Any:
    """Mirror each image left-right (and/or upside-down) with probability ``p``. (N, C, H, W)."""
    _check_batch(images, "random_flip")
    if not 0 <= p <= 1:
        raise ValueError(f"random_flip: p must be in [0, 1], got {p}")
    xp = get_array_module(images)
    flipped = images.copy()
    for enabled, axis in ((horizontal, 3), (vertical, 2)):
        if enabled:
            chosen = xp.asarray(np.flatnonzero(rng.random(len(images)) < p))
            flipped[chosen] = xp.flip(flipped[chosen], axis=axis)
    return flipped


# ----------------------------------------------------------------------------- pixels


def gaussian_noise(images: Any, std: float, rng: np.random.Generator) -> Any:
    """images + N(0, std^2) noise, element-wise. (N, C, H, W)."""
    _check_batch(images, "gaussian_noise")
    if std < 0:
        raise ValueError(f"gaussian_noise: std must be >= 0, got {std}")
    xp = get_array_module(images)
    noise = xp.asarray(rng.standard_normal(images.shape, dtype=np.float32), dtype=images.dtype)
    return images + std * noise


def _box_masks(centers_y: np.ndarray, centers_x: np.ndarray, size: int, height: int, width: int) -> np.ndarray:
    """(N, H, W) booleans: a size x size box around each centre, clipped at the borders."""
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    top, left = centers_y[:, None, None] - size // 2, centers_x[:, None, None] - size // 2
    return (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)


def cutout(images: Any, size: int, rng: np.random.Generator, fill: float = 0.0) -> Any:
    """Set a size x size square (centre uniform over the image, clipped at the borders) to ``fill``.

    images: (N, C, H, W). With normalised inputs, fill=0 is the dataset's mean pixel.
    """
    _check_batch(images, "cutout")
    n, _, height, width = images.shape
    if not 0 < size <= min(height, width):
        raise ValueError(f"cutout: size must be in [1, {min(height, width)}] for {height}x{width} images, got {size}")
    xp = get_array_module(images)
    masks = _box_masks(rng.integers(0, height, n), rng.integers(0, width, n), size, height, width)
    return xp.where(xp.asarray(masks)[:, None], images.dtype.type(fill), images)


def cutmix(images: Any, labels: Any, num_classes: int, alpha: float, rng: np.random.Generator) -> tuple[Any, Any]:
    """CutMix: paste a random box from a partner image into each image and mix the labels.

    images: (N, C, H, W), labels: (N,) class indices. One mixing ratio lam ~ Beta(alpha, alpha)
    per batch, partners by a random permutation, box area (1 - lam) of the image (clipped at
    the border, and lam corrected to the area actually pasted). Returns the mixed images and
    soft targets (N, num_classes) = lam * onehot(y) + (1 - lam) * onehot(y_partner).

    Cross-entropy is linear in its targets, so ``CrossEntropyLoss`` on these probability
    rows *is* the paper's mixed loss lam * CE(y) + (1 - lam) * CE(y_partner).
    """
    _check_batch(images, "cutmix")
    if alpha <= 0:
        raise ValueError(f"cutmix: alpha must be > 0, got {alpha}")
    xp = get_array_module(images)
    n, _, height, width = images.shape
    lam = rng.beta(alpha, alpha)
    partner = rng.permutation(n)
    box_h, box_w = int(height * math.sqrt(1 - lam)), int(width * math.sqrt(1 - lam))
    cy, cx = rng.integers(0, height), rng.integers(0, width)
    top, bottom = max(cy - box_h // 2, 0), min(cy + box_h - box_h // 2, height)
    left, right = max(cx - box_w // 2, 0), min(cx + box_w - box_w // 2, width)
    mixed = images.copy()
    partner_device = xp.asarray(partner)
    mixed[:, :, top:bottom, left:right] = images[partner_device, :, top:bottom, left:right]
    lam = 1 - (bottom - top) * (right - left) / (height * width)
    eye = xp.eye(num_classes, dtype=images.dtype)
    labels = xp.asarray(labels)
    targets = lam * eye[labels] + (1 - lam) * eye[labels[partner_device]]
    return mixed, targets


# ----------------------------------------------------------------------------- RandAugment

RANDAUGMENT_OPS = ("identity", "rotate", "shear_x", "shear_y", "translate_x", "translate_y", "contrast", "brightness")
MAX_MAGNITUDE = 10


def _op_matrices(op: str, strength: np.ndarray, height: int, width: int) -> np.ndarray:
    """(K,) strengths in [-1, 1] -> (K, 2, 3) affine maps for a geometric RandAugment op."""
    matrices = np.zeros((len(strength), 2, 3))
    matrices[:, 0, 0] = matrices[:, 1, 1] = 1.0
    if op == "rotate":
        return _rotation_matrices(30.0 * strength)
    if op == "shear_x":
        matrices[:, 0, 1] = 0.3 * strength
    elif op == "shear_y":
        matrices[:, 1, 0] = 0.3 * strength
    elif op == "translate_x":
        matrices[:, 0, 2] = 0.3 * width * strength
    elif op == "translate_y":
        matrices[:, 1, 2] = 0.3 * height * strength
    return matrices


def randaugment(images: Any, num_ops: int, magnitude: float, rng: np.random.Generator) -> Any:
    """RandAugment: each image gets ``num_ops`` ops drawn uniformly from ``RANDAUGMENT_OPS``.

    magnitude in [0, 10] scales every op (10: rotate 30 degrees, shear 0.3, translate 30% of
    the image, contrast/brightness +-90%), with a random sign per image. images: (N, C, H, W).
    Contrast and brightness act on the normalised values: around each image's mean, and by
    adding a multiple of the image's standard deviation.
    """
    _check_batch(images, "randaugment")
    if num_ops < 0:
        raise ValueError(f"randaugment: num_ops must be >= 0, got {num_ops}")
    if not 0 <= magnitude <= MAX_MAGNITUDE:
        raise ValueError(f"randaugment: magnitude must be in [0, {MAX_MAGNITUDE}], got {magnitude}")
    xp = get_array_module(images)
    n, _, height, width = images.shape
    out = images.copy()
    for _ in range(num_ops):
        choice = rng.integers(0, len(RANDAUGMENT_OPS), n)
        signs = rng.choice([-1.0, 1.0], n)
        for op_index, op in enumerate(RANDAUGMENT_OPS):
            members = np.flatnonzero(choice == op_index)
            if op == "identity" or len(members) == 0:
                continue
            strength = signs[members] * magnitude / MAX_MAGNITUDE
            chosen = xp.asarray(members)
            batch = out[chosen]
            if op in ("contrast", "brightness"):
                factor = xp.asarray(0.9 * strength, dtype=images.dtype)[:, None, None, None]
                mean = batch.mean(axis=(1, 2, 3), keepdims=True)
                if op == "contrast":
                    out[chosen] = mean + (batch - mean) * (1 + factor)
                else:
                    out[chosen] = batch + factor * batch.std(axis=(1, 2, 3), keepdims=True)
            else:
                out[chosen] = affine_warp(batch, _op_matrices(op, strength, height, width))
    return out


# ----------------------------------------------------------------------------- probability


def sometimes(operation: Callable[[Any], Any], images: Any, p: float, rng: np.random.Generator) -> Any:
    """``operation`` applied to each image of ``images`` (N, C, H, W) with probability ``p``, the others
    left as they are; the operation draws its random parameters for the chosen images only.

    p = 1 is ``operation(images)`` itself, drawing nothing more from ``rng``: the same images as
    before probabilities existed, for the same seed. p = 0 returns the images unchanged.
    """
    if p >= 1:
        return operation(images)
    if p <= 0:
        return images
    chosen = np.flatnonzero(rng.random(len(images)) < p)
    if len(chosen) == 0:
        return images
    xp = get_array_module(images)
    changed = images.copy()
    on_device = xp.asarray(chosen)
    changed[on_device] = operation(images[on_device])
    return changed


# ----------------------------------------------------------------------------- configuration

# each operation's setting -> the setting of its probability (per image; CutMix's is per batch)
PROBABILITY_OF = {
    "randaugment_ops": "randaugment_p",
    "rotate": "rotate_p",
    "shift": "shift_p",
    "hflip": "hflip_p",
    "vflip": "vflip_p",
    "noise": "noise_p",
    "cutout": "cutout_p",
    "cutmix_alpha": "cutmix_p",
}
FLIP_P = 0.5  # a flip's default probability: a mirrored image as often as an unmirrored one


@dataclass
class Augmentation:
    """Which augmentations to apply, in this order: randaugment, rotate, shift, flips, noise, cutout.

    Zero / False turns an augmentation off. ``cutmix_alpha`` > 0 enables CutMix, which
    changes the targets too, so it is applied by :meth:`mix_targets`, after :meth:`apply`.

    Each operation has a probability (``rotate_p`` ...): the chance that an image gets it, each image
    drawn on its own (``sometimes``); CutMix's ``cutmix_p`` is the chance that a *batch* is mixed,
    since CutMix pairs the images of a batch. The defaults keep what the operations always did:
    1 (every image) for all, 0.5 for the flips (a coin toss per image).
    """

    shift: int = DEFAULT_SHIFT
    rotate: float = 0.0
    hflip: bool = False
    vflip: bool = False
    noise: float = 0.0
    cutout: int = 0
    cutmix_alpha: float = 0.0
    randaugment_ops: int = 0
    randaugment_magnitude: float = DEFAULT_RANDAUGMENT_MAGNITUDE
    shift_p: float = 1.0
    rotate_p: float = 1.0
    hflip_p: float = FLIP_P
    vflip_p: float = FLIP_P
    noise_p: float = 1.0
    cutout_p: float = 1.0
    cutmix_p: float = 1.0
    randaugment_p: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        if self.shift < 0:
            problems.append(f"shift must be >= 0 pixels, got {self.shift}")
        if not 0 <= self.rotate <= 180:
            problems.append(f"rotate must be in [0, 180] degrees, got {self.rotate}")
        if not self.noise >= 0:  # written so that NaN fails too
            problems.append(f"noise must be >= 0, got {self.noise}")
        if self.cutout < 0:
            problems.append(f"cutout must be >= 0 pixels, got {self.cutout}")
        if not self.cutmix_alpha >= 0:
            problems.append(f"cutmix_alpha must be >= 0, got {self.cutmix_alpha}")
        if self.randaugment_ops < 0:
            problems.append(f"randaugment_ops must be >= 0, got {self.randaugment_ops}")
        if not 0 <= self.randaugment_magnitude <= MAX_MAGNITUDE:
            problems.append(f"randaugment_magnitude must be in [0, {MAX_MAGNITUDE}], got {self.randaugment_magnitude}")
        for name in PROBABILITY_OF.values():
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")
        if problems:
            raise ValueError("Augmentation: " + "; ".join(problems))

    @classmethod
    def none(cls) -> Augmentation:
        return cls(shift=0)

    def check_fits(self, image_shape: tuple[int, int, int]) -> None:
        """Refuse settings that cannot work on images of ``image_shape`` (C, H, W)."""
        side = min(image_shape[1:])
        if self.shift >= side or self.cutout > side:
            raise ValueError(
                f"Augmentation: shift={self.shift} and cutout={self.cutout} must be smaller than the "
                f"{image_shape[1]}x{image_shape[2]} images"
            )

    def apply(self, images: Any, rng: np.random.Generator) -> Any:
        """The configured label-preserving augmentations, in order, each to the images its probability
        picks. images: (N, C, H, W)."""
        steps = {
            "randaugment_ops": lambda x: randaugment(x, self.randaugment_ops, self.randaugment_magnitude, rng),
            "rotate": lambda x: random_rotation(x, self.rotate, rng),
            "shift": lambda x: random_shift(x, self.shift, rng),
            "hflip": lambda x: random_flip(x, rng, horizontal=True, vertical=False, p=self.hflip_p),
            "vflip": lambda x: random_flip(x, rng, horizontal=False, vertical=True, p=self.vflip_p),
            "noise": lambda x: gaussian_noise(x, self.noise, rng),
            "cutout": lambda x: cutout(x, self.cutout, rng),
        }
        for name, operation in steps.items():
            if self._on(name):
                # a flip's probability is random_flip's own: it already picks each image with probability p
                p = 1.0 if name.endswith("flip") else getattr(self, PROBABILITY_OF[name])
                images = sometimes(operation, images, p, rng)
        return images

    def mix_targets(self, images: Any, labels: Any, num_classes: int, rng: np.random.Generator) -> tuple[Any, Any]:
        """CutMix when enabled, the one augmentation that changes the targets: returns (images, targets),
        the targets being the labels unchanged, or soft targets (N, num_classes) after CutMix. Run it
        after ``apply`` (``ConvTrainer`` does, in ``_train_batch``). With ``cutmix_p`` < 1 the batch
        is mixed with that probability (one draw per batch; none at all when it is 1)."""
        if self._on("cutmix_alpha") and (self.cutmix_p >= 1 or rng.random() < self.cutmix_p):
            return cutmix(images, labels, num_classes, self.cutmix_alpha, rng)
        return images, labels

    def describe(self) -> str:
        """A short human-readable list of what is on, e.g. "shift 2px, hflip, cutout 8px (p 0.5)"."""
        said = {
            "randaugment_ops": f"RandAugment {self.randaugment_ops} ops at {self.randaugment_magnitude:g}",
            "rotate": f"rotate {self.rotate:g} deg",
            "shift": f"shift {self.shift}px",
            "hflip": "hflip",
            "vflip": "vflip",
            "noise": f"noise {self.noise:g}",
            "cutout": f"cutout {self.cutout}px",
            "cutmix_alpha": f"CutMix alpha {self.cutmix_alpha:g}",
        }
        parts = []
        for name, text in said.items():
            if self._on(name):
                p, usual = getattr(self, PROBABILITY_OF[name]), FLIP_P if name.endswith("flip") else 1.0
                parts.append(text if p == usual else f"{text} (p {p:g})")
        return ", ".join(parts) or "none"

    @property
    def enabled(self) -> bool:
        return any(self._on(name) for name in PROBABILITY_OF)

    def _on(self, name: str) -> bool:
        """Whether operation ``name`` (a key of ``PROBABILITY_OF``) can change an image: set, and p > 0."""
        return bool(getattr(self, name)) and getattr(self, PROBABILITY_OF[name]) > 0


def default_augmentation(dataset: str) -> Augmentation:
    """Safe defaults: ``DEFAULT_SHIFT`` pixel shifts everywhere; horizontal flips only for CIFAR-10's photos."""
    return Augmentation(hflip=dataset == "cifar10")
