"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to
document recognition").

    conv 5x5 (6) -> pool 2 -> conv 5x5 (16) -> pool 2 -> FC 120 -> FC 84 -> FC num_classes

The original read 32x32 digits. For 28x28 images the first convolution pads by 2, so both
sizes reach the same 16x5x5 features (32 -> 28 -> 14 -> 10 -> 5). Two modernisations are
the defaults, each switchable: ReLU instead of the scaled tanh (``activation="tanh"``
restores it) and max pooling instead of the trainable average "subsampling"
(``pool="avg"``). The Gaussian RBF output layer is a plain linear layer, as everyone does now.
"""

from __future__ import annotations

from ...vectorized.modules import Linear
from ..modules import AvgPool2D, Conv2D, Flatten, MaxPool2D, make_activation
from .classifier import ImageClassifier


def build(
    in_channels: int, num_classes: int, image_size: int, activation: str = "relu", pool: str = "max"
) -> ImageClassifier:
    if pool not in ("max", "avg"):
        raise ValueError(f"lenet: pool must be 'max' or 'avg', got {pool!r}")
    if image_size < 28:
        raise ValueError(f"lenet needs images of at least 28x28, got image_size={image_size}")
    padding = 2 if image_size < 32 else 0
    pooling = MaxPool2D if pool == "max" else AvgPool2D
    side = ((image_size + 2 * padding - 4) // 2 - 4) // 2  # after conv5, pool2, conv5, pool2
    return ImageClassifier(
        "lenet",
        (in_channels, image_size, image_size),
        Conv2D(in_channels, 6, 5, padding=padding),
        make_activation(activation),
        pooling(2),
        Conv2D(6, 16, 5),
        make_activation(activation),
        pooling(2),
        Flatten(),
        Linear(16 * side * side, 120),
        make_activation(activation),
        Linear(120, 84),
        make_activation(activation),
        Linear(84, num_classes),
    )
