"""The layers ``nnscratch gradcheck`` can build by name, each with an input shape and constructor
arguments small enough for central differences (two forward passes per number checked).

A layer's default arguments follow from its input shape: ``Conv2D`` on (2, 3, 6, 6) gets
``in_channels=3``, so ``--shape 2,1,8,8`` needs no ``--option`` to match it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

FEATURES = (4, 5)  # (N, F): a batch of 4 vectors of 5 features
IMAGES = (2, 3, 6, 6)  # (N, C, H, W): 2 images, 3 channels, 6x6

# numbers checked (input and parameters) above which the run would take minutes, not seconds
MAX_ELEMENTS = 20_000

# name -> (default input shape, the constructor's arguments for an input shape)
Arguments = Callable[[tuple[int, ...]], dict[str, Any]]
NONE: Arguments = lambda shape: {}  # noqa: E731 (a table entry, not a function worth a name)
LAYERS: dict[str, tuple[tuple[int, ...], Arguments]] = {
    "Linear": (FEATURES, lambda shape: {"in_features": shape[1], "out_features": 3}),
    "ReLU": (FEATURES, NONE),
    "LeakyReLU": (FEATURES, NONE),
    "ReLU6": (FEATURES, NONE),
    "Tanh": (FEATURES, NONE),
    "Sigmoid": (FEATURES, NONE),
    "SiLU": (FEATURES, NONE),
    "GELU": (FEATURES, NONE),
    "Softmax": (FEATURES, NONE),
    "LogSoftmax": (FEATURES, NONE),
    "Identity": (FEATURES, NONE),
    "Flatten": (IMAGES, NONE),
    "BatchNorm1D": (FEATURES, lambda shape: {"num_features": shape[1]}),
    "LayerNorm": (FEATURES, lambda shape: {"normalized_shape": shape[-1]}),
    "Conv2D": (IMAGES, lambda shape: {"in_channels": shape[1], "out_channels": 2, "kernel_size": 3}),
    "DepthwiseConv2D": (IMAGES, lambda shape: {"channels": shape[1], "kernel_size": 3}),
    "ConvTranspose2D": (IMAGES, lambda shape: {"in_channels": shape[1], "out_channels": 2, "kernel_size": 3}),
    "MaxPool2D": (IMAGES, lambda shape: {"kernel_size": 2}),
    "AvgPool2D": (IMAGES, lambda shape: {"kernel_size": 2}),
    "GlobalAvgPool2D": (IMAGES, NONE),
    "BatchNorm2D": (IMAGES, lambda shape: {"num_features": shape[1]}),
    "LayerNorm2D": (IMAGES, lambda shape: {"num_channels": shape[1]}),
    "GroupNorm": (IMAGES, lambda shape: {"num_groups": 1, "num_channels": shape[1]}),
    "SqueezeExcite": (IMAGES, lambda shape: {"channels": shape[1], "reduced_channels": 2}),
    "ResidualBlock": (IMAGES, lambda shape: {"in_channels": shape[1], "out_channels": shape[1]}),
    "MBConvBlock": (IMAGES, lambda shape: {"in_channels": shape[1], "out_channels": shape[1], "expand_ratio": 2}),
    "ConvNeXtBlock": (IMAGES, lambda shape: {"channels": shape[1], "kernel_size": 3, "layer_scale_init": 1.0}),
}

# layers that exist but cannot be checked this way, and why
NOT_CHECKABLE = {
    "Dropout": "Dropout draws a new random mask at every forward, so central differences see a different "
    "function each time; its backward is checked with a fixed mask in the tests",
}


def layer_class(name: str) -> type:
    """The class of layer ``name``, or a ValueError listing the layers that can be checked."""
    from ..convolutional import blocks, conv_transpose
    from ..convolutional import modules as convolutional
    from ..vectorized import modules as vectorized

    if name in NOT_CHECKABLE:
        raise ValueError(NOT_CHECKABLE[name])
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; the layers it checks: {', '.join(LAYERS)}")
    modules = (vectorized, convolutional, conv_transpose, blocks)
    return next(getattr(module, name) for module in modules if hasattr(module, name))


def default_shape(name: str) -> tuple[int, ...]:
    """The input shape layer ``name`` is checked on without ``--shape`` (a ValueError for an unknown name)."""
    layer_class(name)
    return LAYERS[name][0]


def build_layer(name: str, shape: tuple[int, ...], options: dict[str, Any]) -> Any:
    """Layer ``name`` for input ``shape``: its default arguments for that shape, overridden by ``options``.
    An option the constructor does not take is a ValueError naming those it does."""
    cls = layer_class(name)
    accepted = [parameter for parameter in inspect.signature(cls).parameters if parameter != "seed"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"{name} has no option(s) {unknown}; it takes {', '.join(accepted) or 'none'}")
    if len(shape) < 2 and LAYERS[name][1] is not NONE:
        raise ValueError(f"--shape {','.join(map(str, shape))}: {name} needs a batch and a feature or channel axis")
    return cls(**{**LAYERS[name][1](shape), **options})
