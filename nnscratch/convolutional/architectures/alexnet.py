"""AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
Convolutional Neural Networks"), scaled to small images.

Five convolutions with ReLU and three max poolings, then three fully connected layers with
dropout, as in the paper (channels 64-192-384-256-256, the widths of the common single-GPU
version). Adapted to 28x28 and 32x32: every kernel is 3x3 with stride 1 and padding 1 (the
11x11 stride-4 and 5x5 kernels were for 224x224 photos), the poolings are 2x2, and the
fully connected layers have 1024 units instead of 4096 (``hidden``). Local response
normalisation is left out, as in most later reimplementations.
"""

from __future__ import annotations

from ...vectorized.modules import Linear
from ..modules import Conv2D, Dropout, Flatten, MaxPool2D, ReLU
from .classifier import ImageClassifier

CHANNELS = (64, 192, 384, 256, 256)


def build(
    in_channels: int, num_classes: int, image_size: int, hidden: int = 1024, dropout: float = 0.5, width: float = 1.0
) -> ImageClassifier:
    if image_size < 8:
        raise ValueError(f"alexnet needs images of at least 8x8, got image_size={image_size}")
    c1, c2, c3, c4, c5 = (max(1, round(c * width)) for c in CHANNELS)
    side = image_size // 8  # three 2x2 poolings
    return ImageClassifier(
        "alexnet",
        (in_channels, image_size, image_size),
        Conv2D(in_channels, c1, 3, padding=1),
        ReLU(),
        MaxPool2D(2),
        Conv2D(c1, c2, 3, padding=1),
        ReLU(),
        MaxPool2D(2),
        Conv2D(c2, c3, 3, padding=1),
        ReLU(),
        Conv2D(c3, c4, 3, padding=1),
        ReLU(),
        Conv2D(c4, c5, 3, padding=1),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
        Dropout(dropout),
        Linear(c5 * side * side, hidden),
        ReLU(),
        Dropout(dropout),
        Linear(hidden, hidden),
        ReLU(),
        Linear(hidden, num_classes),
    )
