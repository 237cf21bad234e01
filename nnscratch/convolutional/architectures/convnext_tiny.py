"""ConvNeXt-Tiny (Liu, Mao, Wu, Feichtenhofer, Darrell & Xie 2022, "A ConvNet for the 2020s").

Stage depths 3-3-9-3 and widths 96-192-384-768 of ConvNeXt blocks (7x7 depthwise conv,
LayerNorm, 1x1 expand x4, GELU, 1x1 project, layer scale, residual). A "patchify" stem
(non-overlapping k x k convolution + LayerNorm) and, between stages, LayerNorm + a 2x2
stride-2 convolution downsample. The head pools globally, applies LayerNorm and one
fully connected layer.

Adapted to small images: the stem's patches are 2x2 instead of 4x4, so 28x28 inputs give
14x14 features in stage 1 and 2x2... 1x1 at the end (14 -> 7 -> 3 -> 1). The pooled
(N, C, 1, 1) map goes through ``LayerNorm2D`` (normalising over channels) before the
classifier, as torchvision does. Stochastic depth is left out. ``depths`` and ``widths``
shrink the model for quick runs (e.g. depths=(1, 1, 1, 1), widths=(16, 32, 64, 128)).
"""

from __future__ import annotations

from ...vectorized.modules import Linear
from ..blocks import ConvNeXtBlock
from ..modules import AvgPool2D, Conv2D, Flatten, LayerNorm2D, Module
from .classifier import ImageClassifier

DEPTHS = (3, 3, 9, 3)
WIDTHS = (96, 192, 384, 768)


def build(
    in_channels: int,
    num_classes: int,
    image_size: int,
    depths: tuple[int, ...] = DEPTHS,
    widths: tuple[int, ...] = WIDTHS,
    stem_patch: int = 2,
    layer_scale_init: float = 1e-6,
) -> ImageClassifier:
    depths, widths = tuple(depths), tuple(widths)
    if len(depths) != len(widths) or not depths or min(depths) < 1 or min(widths) < 1:
        raise ValueError(f"convnext_tiny: depths {depths} and widths {widths} must be positive and of equal length")
    side = image_size // stem_patch
    if side < 2 ** (len(depths) - 1):
        raise ValueError(
            f"convnext_tiny needs images of at least {stem_patch * 2 ** (len(depths) - 1)}x"
            f"{stem_patch * 2 ** (len(depths) - 1)} for {len(depths)} stages, got image_size={image_size}"
        )
    layers: list[Module] = [Conv2D(in_channels, widths[0], stem_patch, stride=stem_patch), LayerNorm2D(widths[0])]
    for stage, (depth, width) in enumerate(zip(depths, widths, strict=True)):
        if stage > 0:
            layers += [LayerNorm2D(widths[stage - 1]), Conv2D(widths[stage - 1], width, 2, stride=2)]
            side //= 2
        layers += [ConvNeXtBlock(width, layer_scale_init=layer_scale_init) for _ in range(depth)]
    return ImageClassifier(
        "convnext_tiny",
        (in_channels, image_size, image_size),
        *layers,
        AvgPool2D(side),  # global average pooling that keeps (N, C, 1, 1) for the LayerNorm
        LayerNorm2D(widths[-1]),
        Flatten(),
        Linear(widths[-1], num_classes),
    )
