"""The gallery at sizes the interop tests can afford: every architecture, both image shapes.

Narrow widths for the safetensors and from_torch tests (``small_model``); nearly full widths for
the ONNX parity checks, which ``tests/interop/test_onnx.py`` and ``benchmarks/onnx_inference.py``
share (``onnx_checked_model``, ``max_difference``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnscratch.convolutional.architectures import ARCHITECTURES, build
from nnscratch.interop.onnx import INPUT
from nnscratch.vectorized.module import Module
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


# the ONNX checks: the full widths, but ConvNeXt-Tiny's, whose nnscratch forward alone takes seconds per batch
REDUCED = {"convnext_tiny": {"depths": (1, 1, 2, 1), "widths": (32, 64, 128, 256)}}


def randomize(model: Module, seed: int) -> Module:
    """Fresh values for every vector parameter and running statistic (BatchNorm's and LayerNorm's
    affine maps, biases, layer scales start at 1 or 0, or 1e-6): the export must carry all of them."""
    rng = np.random.default_rng(seed)
    vectors = [parameter.data for parameter in model.parameters()] + [buffer for _, buffer in model.named_buffers()]
    for vector in vectors:
        if vector.ndim == 1:
            vector[...] = rng.uniform(0.5, 1.5, vector.shape)
    return model


def onnx_checked_model(name: str, channels: int, size: int) -> Module:
    """Architecture ``name`` for (channels, size, size) images at REDUCED, randomized, in eval mode."""
    return randomize(build(name, channels, 10, size, **REDUCED.get(name, {})), seed=2).eval()


def max_difference(model: Module, session: Any, x: np.ndarray) -> float:
    """The largest |ONNX Runtime ``session``'s output - ``model.forward(x)``|, both float32 of one shape."""
    (exported,) = session.run(None, {INPUT: x})
    ours = model.forward(x)
    assert exported.shape == ours.shape and exported.dtype == ours.dtype == np.float32
    return float(np.abs(exported - ours).max())
