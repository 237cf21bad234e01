"""A tiny U-Net: one level down and up, with the skip connection that makes it a U-Net.

Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical Image
Segmentation", predict a class for every pixel with an encoder that downsamples four times,
a decoder that upsamples back, and skip connections that concatenate each decoder level with
the encoder's features of the same size. This one keeps a single level of each, which is
enough for 28x28 images and small enough (9k parameters) to train on a CPU:

    conv 3x3 (width) -> ReLU                                       28x28 features f
    ConcatSkip( conv 3x3 s2 (2 width) -> ReLU                      14x14: context
                -> convT 3x3 s2 (width) -> ReLU )                  back to 28x28
      = concat(f, up)                                              2 width channels
    conv 1x1 (out_channels)                                        mask logits, 28x28

The output is one logit per pixel and channel (no sigmoid: ``BCEWithLogitsLoss`` applies it,
in the numerically stable form); ``logit > 0`` is the predicted mask. Trained on the
foreground masks of Fashion-MNIST (``segmentation.foreground_mask``) it is a toy segmentation
task, small enough to see every part work. Image sizes must be even.
"""

from __future__ import annotations

from ..conv_transpose import ConvTranspose2D
from ..modules import Conv2D, ReLU, Sequential
from ..skip import ConcatSkip
from .classifier import ImageToImage


def build(in_channels: int, image_size: int, width: int = 16, out_channels: int = 1) -> ImageToImage:
    if image_size % 2:
        raise ValueError(f"tiny_unet halves the image once: image_size must be even, got {image_size}")
    down_and_up = Sequential(
        Conv2D(width, 2 * width, 3, stride=2, padding=1),
        ReLU(),
        ConvTranspose2D(2 * width, width, 3, stride=2, padding=1, output_padding=1),
        ReLU(),
    )
    return ImageToImage(
        "tiny_unet",
        (in_channels, image_size, image_size),
        Conv2D(in_channels, width, 3, padding=1),
        ReLU(),
        ConcatSkip(width, down_and_up),
        Conv2D(2 * width, out_channels, 1),
    )
