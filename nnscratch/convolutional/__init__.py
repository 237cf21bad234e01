"""Tier 3: convolutional networks — im2col convolution, pooling, normalisation, modern CNN blocks.

``modules.py`` holds the layers (and says which concept lives in which file), ``blocks.py``
the residual, MBConv and ConvNeXt blocks built from them.
"""
