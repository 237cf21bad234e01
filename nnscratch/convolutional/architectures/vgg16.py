"""VGG-16 (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image
Recognition"), configuration D, with BatchNorm, for small images.

Thirteen 3x3 convolutions in five stages (64, 128, 256, 512, 512 channels; 2, 2, 3, 3, 3
convolutions), each followed by BatchNorm (the "vgg16_bn" variant) and ReLU, each stage
ending in 2x2 max pooling. Adapted to small images: a stage only pools while the feature
map is at least 2x2 (28 -> 14 -> 7 -> 3 -> 1, and the fifth stage keeps 1x1), and the
three 4096-unit layers become global average pooling, FC 512, dropout, FC num_classes.
``width`` scales every stage's channels (0.25 for quick runs).
"""

from __future__ import annotations

from ...vectorized.modules import Linear
from ..modules import Dropout, GlobalAvgPool2D, MaxPool2D, Module, ReLU
from .baseline import conv_bn_relu
from .classifier import ImageClassifier

STAGES = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def build(
    in_channels: int, num_classes: int, image_size: int, width: float = 1.0, dropout: float = 0.5
) -> ImageClassifier:
    layers: list[Module] = []
    channels, side = in_channels, image_size
    for stage_channels, convolutions in STAGES:
        stage_channels = max(1, round(stage_channels * width))
        for _ in range(convolutions):
            layers += conv_bn_relu(channels, stage_channels)
            channels = stage_channels
        if side >= 2:
            layers.append(MaxPool2D(2))
            side //= 2
    hidden = max(1, round(512 * width))
    return ImageClassifier(
        "vgg16",
        (in_channels, image_size, image_size),
        *layers,
        GlobalAvgPool2D(),
        Linear(channels, hidden),
        ReLU(),
        Dropout(dropout),
        Linear(hidden, num_classes),
    )
