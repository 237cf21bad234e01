"""The architecture gallery: one file per model, and a registry to build them by name.

    from nnscratch.convolutional.architectures import build, ARCHITECTURES
    model = build("lenet", in_channels=1, num_classes=10, image_size=28)

| name               | paper                                   | file                    |
| ------------------ | --------------------------------------- | ----------------------- |
| baseline           | compact conv-BN-ReLU net (VGG-style)    | baseline.py             |
| lenet              | LeCun et al. 1998                       | lenet.py                |
| alexnet            | Krizhevsky et al. 2012                  | alexnet.py              |
| vgg16              | Simonyan & Zisserman 2015               | vgg16.py                |
| resnet18           | He et al. 2016                          | resnet18.py             |
| efficientnet_lite0 | Tan & Le 2019 (Lite variant)            | efficientnet_lite0.py   |
| convnext_tiny      | Liu et al. 2022                         | convnext_tiny.py        |

Each file's docstring says how the model was adapted to 28x28 and 32x32 images. Every
model works for 1x28x28 (MNIST, Fashion-MNIST) and 3x32x32 (CIFAR-10) input.

Two models turn images into images rather than classes, so they have a registry of their
own, ``IMAGE_TO_IMAGE``, built by ``build_image_to_image`` (no ``num_classes``) and trained by
``ReconstructionTrainer``; what loops over ``ARCHITECTURES`` (training, evaluation, the
benchmarks) can rely on every model there being a classifier:

| name               | paper                                   | file                    |
| ------------------ | --------------------------------------- | ----------------------- |
| autoencoder        | Masci et al. 2011 (convolutional AE)    | autoencoder.py          |
| tiny_unet          | Ronneberger et al. 2015 (U-Net)         | tiny_unet.py            |
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from ...common.checks import check_int
from . import alexnet, autoencoder, baseline, convnext_tiny, efficientnet_lite0, lenet, resnet18, tiny_unet, vgg16
from .classifier import ImageClassifier, ImageToImage

ARCHITECTURES: dict[str, Callable[..., ImageClassifier]] = {
    "baseline": baseline.build,
    "lenet": lenet.build,
    "alexnet": alexnet.build,
    "vgg16": vgg16.build,
    "resnet18": resnet18.build,
    "efficientnet_lite0": efficientnet_lite0.build,
    "convnext_tiny": convnext_tiny.build,
}

IMAGE_TO_IMAGE: dict[str, Callable[..., ImageToImage]] = {
    "autoencoder": autoencoder.build,
    "tiny_unet": tiny_unet.build,
}

SIZES = ("in_channels", "num_classes", "image_size")  # arguments every builder of its registry takes


def options_of(name: str) -> dict[str, Any]:
    """The build options of architecture ``name`` (of either registry) and their defaults."""
    registry = IMAGE_TO_IMAGE if name in IMAGE_TO_IMAGE else ARCHITECTURES
    check_name(name, registry)
    parameters = inspect.signature(registry[name]).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in SIZES}


def check_name(name: str, registry: dict[str, Callable] = ARCHITECTURES) -> None:
    if name not in registry:
        raise ValueError(f"unknown architecture {name!r}; choose one of: {', '.join(registry)}")


def _kind_problem(value: Any, default: Any) -> str | None:
    """What ``value`` should be, judged by the kind of the option's ``default`` (None when it fits):
    a bool for a bool, an integer for an integer, a finite number for a float, a string for a string,
    and a list of such items for a tuple (a checkpoint's JSON turns tuples into lists)."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if isinstance(default, float):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if number and math.isfinite(value) else "a finite number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "a string"
    if isinstance(default, (tuple, list)):
        if not isinstance(value, (tuple, list)):
            return f"a list like {list(default)}"
        problems = [_kind_problem(element, default[0]) for element in value] if default else []
        item = next((problem for problem in problems if problem), None)
        return None if item is None else f"a list of {item.removeprefix('a ').removeprefix('an ')}s"
    return None


def build(
    name: str, in_channels: int = 1, num_classes: int = 10, image_size: int = 28, **options: Any
) -> ImageClassifier:
    """Build architecture ``name`` for (in_channels, image_size, image_size) images and num_classes outputs.

    options: the architecture's own settings (see ``options_of(name)``); unknown ones are refused.
    The returned model's ``architecture`` dict records all of it, so the model can be rebuilt
    from a checkpoint.
    """
    check_name(name)
    sizes = {"in_channels": in_channels, "num_classes": num_classes, "image_size": image_size}
    known = _check_arguments(f"build({name!r})", name, sizes, options)
    model = ARCHITECTURES[name](in_channels, num_classes, image_size, **options)
    model.architecture = {"name": name, **sizes, "options": {**known, **options}}
    return model


def build_image_to_image(name: str, in_channels: int = 1, image_size: int = 28, **options: Any) -> ImageToImage:
    """Build the image-to-image model ``name`` (``IMAGE_TO_IMAGE``) for (in_channels, image_size,
    image_size) images; options and ``architecture`` as for ``build``."""
    check_name(name, IMAGE_TO_IMAGE)
    sizes = {"in_channels": in_channels, "image_size": image_size}
    known = _check_arguments(f"build_image_to_image({name!r})", name, sizes, options)
    model = IMAGE_TO_IMAGE[name](in_channels, image_size, **options)
    model.architecture = {"name": name, **sizes, "options": {**known, **options}}
    return model


def _check_arguments(owner: str, name: str, sizes: dict[str, int], options: dict[str, Any]) -> dict[str, Any]:
    """Check the sizes (positive integers) and the options (known, of the right kind) of ``name``;
    return its options' defaults."""
    for argument, value in sizes.items():
        check_int(owner, argument, value)
    known = options_of(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"{owner}: unknown option(s) {unknown}; {name} accepts {sorted(known)}")
    for option, value in options.items():  # a wrong kind would fail deep inside the builder, obscurely
        expected = _kind_problem(value, known[option])
        if expected:
            raise ValueError(f"{owner}: option {option} must be {expected}, got {value!r}")
    return known


__all__ = [
    "ARCHITECTURES",
    "IMAGE_TO_IMAGE",
    "ImageClassifier",
    "ImageToImage",
    "build",
    "build_image_to_image",
    "check_name",
    "options_of",
]
