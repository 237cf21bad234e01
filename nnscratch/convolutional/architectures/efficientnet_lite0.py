"""EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks"; the Lite variants of the TensorFlow model garden).

The stages of EfficientNet-B0, MBConv blocks given as (expand ratio, kernel, stride,
channels, repeats):

    stem conv3x3 32 -> (1,3,1,16,1) (6,3,2,24,2) (6,5,2,40,2) (6,3,2,80,3) (6,5,1,112,3)
    (6,5,2,192,4) (6,3,1,320,1) -> conv1x1 1280 -> global pool -> dropout 0.2 -> FC

Lite0 is B0 made friendly to integer hardware: ReLU6 instead of SiLU and no squeeze-excite.
``use_se=True, activation="silu"`` gives the B0-style block back. Adapted to small images:
the stem has stride 1 instead of 2, so 28x28 inputs end at 2x2 (28 -> 14 -> 7 -> 4 -> 2)
instead of vanishing. ``width`` and ``depth`` multiply channels and repeats (EfficientNet's
own scaling knobs; channels rounded to multiples of 8) for quick runs.
"""

from __future__ import annotations

import math

from ...vectorized.modules import Linear
from ..blocks import MBConvBlock
from ..modules import BatchNorm2D, Conv2D, Dropout, GlobalAvgPool2D, Module, make_activation
from .classifier import ImageClassifier

# (expand ratio, kernel size, stride of the first block, output channels, repeats)
STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)


def scaled_channels(channels: int, width: float) -> int:
    """channels * width rounded to a multiple of 8 (never down by more than 10%), as EfficientNet does."""
    scaled = max(8, int(channels * width + 4) // 8 * 8)
    return scaled + 8 if scaled < 0.9 * channels * width else scaled


def build(
    in_channels: int,
    num_classes: int,
    image_size: int,
    width: float = 1.0,
    depth: float = 1.0,
    use_se: bool = False,
    activation: str = "relu6",
    dropout: float = 0.2,
) -> ImageClassifier:
    if image_size < 8:
        raise ValueError(f"efficientnet_lite0 needs images of at least 8x8, got image_size={image_size}")
    stem = 32  # Lite keeps the stem and head fixed when scaling
    layers: list[Module] = [
        Conv2D(in_channels, stem, 3, padding=1, bias=False),
        BatchNorm2D(stem),
        make_activation(activation),
    ]
    channels = stem
    for expand, kernel, stride, out, repeats in STAGES:
        out = scaled_channels(out, width)
        for repeat in range(max(1, math.ceil(repeats * depth))):
            layers.append(
                MBConvBlock(
                    channels,
                    out,
                    kernel_size=kernel,
                    stride=stride if repeat == 0 else 1,
                    expand_ratio=expand,
                    use_se=use_se,
                    activation=activation,
                )
            )
            channels = out
    head = 1280
    return ImageClassifier(
        "efficientnet_lite0",
        (in_channels, image_size, image_size),
        *layers,
        Conv2D(channels, head, 1, bias=False),
        BatchNorm2D(head),
        make_activation(activation),
        GlobalAvgPool2D(),
        Dropout(dropout),
        Linear(head, num_classes),
    )
