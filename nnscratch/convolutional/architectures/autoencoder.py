"""A convolutional autoencoder: squeeze an image through a small code, then draw it again.

An autoencoder learns x -> x through a bottleneck (Hinton & Salakhutdinov 2006, "Reducing the
dimensionality of data with neural networks"); convolutional ones (Masci et al. 2011,
"Stacked convolutional auto-encoders for hierarchical feature extraction") keep the image's
layout. Here the encoder halves the resolution twice with stride-2 convolutions and the
decoder doubles it twice with stride-2 transposed convolutions (Long, Shelhamer & Darrell
2015 upsample this way):

    encoder  conv 3x3 s2 (width)      -> ReLU        28x28 -> 14x14
             conv 3x3 s2 (code)       -> ReLU        14x14 -> 7x7: the code
    decoder  convT 3x3 s2 (width)     -> ReLU        7x7 -> 14x14
             convT 3x3 s2 (channels)  -> Sigmoid     14x14 -> 28x28

A transposed convolution with kernel k, stride s, padding p and output padding op makes
(H - 1) * s - 2p + k + op pixels of H (Dumoulin & Visin 2016, "A guide to convolution
arithmetic"): with k=3, s=2, p=1, op=1 exactly 2H, undoing the encoder's halving.

With the defaults the code holds 8 x 7 x 7 = 392 numbers for the 784 pixels of a 28x28
image: half as many, so the network cannot just copy pixels through and has to learn what
clothes look like. The output goes through a sigmoid, so the reconstruction is an image with
pixels in (0, 1), compared with the input (scaled to [0, 1]) by the mean squared error, the
number the docs report. Sizes must be multiples of 4 (28 and 32 are).
"""

from __future__ import annotations

from ..conv_transpose import ConvTranspose2D
from ..modules import Conv2D, ReLU, Sigmoid
from .classifier import ImageToImage


def build(in_channels: int, image_size: int, width: int = 16, code_channels: int = 8) -> ImageToImage:
    if image_size % 4:
        raise ValueError(f"autoencoder halves the image twice: image_size must be a multiple of 4, got {image_size}")
    return ImageToImage(
        "autoencoder",
        (in_channels, image_size, image_size),
        Conv2D(in_channels, width, 3, stride=2, padding=1),
        ReLU(),
        Conv2D(width, code_channels, 3, stride=2, padding=1),
        ReLU(),
        ConvTranspose2D(code_channels, width, 3, stride=2, padding=1, output_padding=1),
        ReLU(),
        ConvTranspose2D(width, in_channels, 3, stride=2, padding=1, output_padding=1),
        Sigmoid(),
    )
