"""ResNet-18 (He, Zhang, Ren & Sun 2016, "Deep Residual Learning for Image Recognition").

Four stages of two basic residual blocks each ([2, 2, 2, 2]), 64-128-256-512 channels, the
last three stages halving the resolution with a stride-2 first block (whose shortcut is a
1x1 projection), then global average pooling and one fully connected layer.

Adapted to small images as is usual for CIFAR: the 7x7 stride-2 stem and its max pooling
(made for 224x224 photos) become one 3x3 stride-1 convolution with BatchNorm and ReLU, so a
28x28 image reaches the last stage at 4x4. ``width`` sets the first stage's channels (64).
"""

from __future__ import annotations

from ...vectorized.modules import Linear
from ..blocks import ResidualBlock
from ..modules import BatchNorm2D, Conv2D, GlobalAvgPool2D, Module, ReLU
from .classifier import ImageClassifier

BLOCKS_PER_STAGE = (2, 2, 2, 2)


def build(in_channels: int, num_classes: int, image_size: int, width: int = 64) -> ImageClassifier:
    if image_size < 8:
        raise ValueError(f"resnet18 needs images of at least 8x8, got image_size={image_size}")
    layers: list[Module] = [Conv2D(in_channels, width, 3, padding=1, bias=False), BatchNorm2D(width), ReLU()]
    channels = width
    for stage, blocks in enumerate(BLOCKS_PER_STAGE):
        stage_channels = width * 2**stage
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(ResidualBlock(channels, stage_channels, stride=stride))
            channels = stage_channels
    return ImageClassifier(
        "resnet18",
        (in_channels, image_size, image_size),
        *layers,
        GlobalAvgPool2D(),
        Linear(channels, num_classes),
    )
