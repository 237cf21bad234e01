"""The baseline: a compact conv-BN-ReLU network for 28x28 images, the default of ``nnscratch train``.

Two stages of two 3x3 convolutions (32 then 64 channels), each convolution followed by
BatchNorm and ReLU, each stage ending in 2x2 max pooling; then dropout and two fully
connected layers:

    [conv3x3(32)-BN-ReLU] x2 -> maxpool -> [conv3x3(64)-BN-ReLU] x2 -> maxpool
    -> dropout -> FC 128 -> ReLU -> dropout -> FC num_classes

It is the "VGG-style" recipe (Simonyan & Zisserman 2015) shrunk to MNIST-sized inputs, with
BatchNorm (Ioffe & Szegedy 2015) so that plain SGD with momentum trains it quickly. The
convolutions have no bias: the BatchNorm after each adds one. ``width`` scales the channels,
``dropout`` sets both dropout rates.
"""

from __future__ import annotations

from ...vectorized.modules import Linear
from ..modules import BatchNorm2D, Conv2D, Dropout, Flatten, MaxPool2D, Module, ReLU
from .classifier import ImageClassifier


def conv_bn_relu(in_channels: int, out_channels: int) -> list[Module]:
    """3x3 convolution (padding 1 keeps the size) -> BatchNorm -> ReLU."""
    return [Conv2D(in_channels, out_channels, 3, padding=1, bias=False), BatchNorm2D(out_channels), ReLU()]


def build(
    in_channels: int, num_classes: int, image_size: int, width: int = 32, dropout: float = 0.3
) -> ImageClassifier:
    if image_size < 4:
        raise ValueError(f"baseline needs images of at least 4x4, got image_size={image_size}")
    side = image_size // 4  # two 2x2 poolings
    return ImageClassifier(
        "baseline",
        (in_channels, image_size, image_size),
        *conv_bn_relu(in_channels, width),
        *conv_bn_relu(width, width),
        MaxPool2D(2),
        *conv_bn_relu(width, 2 * width),
        *conv_bn_relu(2 * width, 2 * width),
        MaxPool2D(2),
        Flatten(),
        Dropout(dropout),
        Linear(2 * width * side * side, 128),
        ReLU(),
        Dropout(dropout),
        Linear(128, num_classes),
    )
