"""The gallery at sizes the interop tests can afford: every architecture, both image shapes, narrow widths."""

from __future__ import annotations

import numpy as np

from nnscratch.convolutional.architectures import ARCHITECTURES, build
from tests.support import randomize_statistics

INPUTS = [(1, 28), (3, 32)]
# the full widths take seconds per forward; these keep every kind of layer and block, SE included
SMALL_OPTIONS = {
    "baseline": {"width": 8},
    "lenet": {},
    "alexnet": {"width": 0.25, "hidden": 64},
    "vgg16": {"width": 0.125},
    "resnet18": {"width": 8},
    "efficientnet_lite0": {"width": 0.25, "use_se": True, "activation": "silu"},
    "convnext_tiny": {"depths": (1, 1, 1, 1), "widths": (8, 16, 32, 64)},
}
assert set(SMALL_OPTIONS) == set(ARCHITECTURES), "a new architecture needs its small options here"


def small_model(name: str, channels: int, size: int, seed: int = 1):
    """Architecture ``name`` for (channels, size, size) images at SMALL_OPTIONS, with random running statistics."""
    model = build(name, channels, 10, size, **SMALL_OPTIONS[name])
    randomize_statistics(model, seed)
    return model


def images(channels: int, size: int, seed: int = 2, dtype=np.float32) -> np.ndarray:
    """A batch of 2 standard-normal images (2, channels, size, size)."""
    return np.random.default_rng(seed).standard_normal((2, channels, size, size)).astype(dtype)
