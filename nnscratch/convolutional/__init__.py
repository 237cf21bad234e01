"""Tier 3: convolutional networks — im2col convolution, pooling, normalisation, modern CNN blocks.

``modules.py`` holds the layers (and says which concept lives in which file; ``ConvTranspose2D``,
built on its im2col and col2im, is in ``conv_transpose.py`` and importable from here), ``blocks.py``
the residual, MBConv and ConvNeXt blocks built from them, ``algorithms/`` the routes a
convolution can take. ``use_algorithm("im2col")`` runs every convolution inside it on the
reference algorithm; ``ALGORITHMS`` names the choices.
"""

from .algorithms import ALGORITHMS, use_algorithm
from .conv_transpose import ConvTranspose2D

__all__ = ["ALGORITHMS", "ConvTranspose2D", "use_algorithm"]
