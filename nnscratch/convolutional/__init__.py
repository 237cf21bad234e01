"""Tier 3: convolutional networks — im2col convolution, pooling, normalisation, modern CNN blocks.

``modules.py`` holds the layers (and says which concept lives in which file), ``blocks.py``
the residual, MBConv and ConvNeXt blocks built from them, ``algorithms/`` the routes a
convolution can take. ``use_algorithm("im2col")`` runs every convolution inside it on the
reference algorithm; ``ALGORITHMS`` names the choices.
"""

from .algorithms import ALGORITHMS, use_algorithm

__all__ = ["ALGORITHMS", "use_algorithm"]
