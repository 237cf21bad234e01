"""nnscratch: neural networks from scratch on NumPy (CuPy on a GPU), in three tiers.

- ``nnscratch.scalar``: neurons, layers and networks as plain Python loops.
- ``nnscratch.vectorized``: the same networks as matrix operations, optimizers, trainer.
- ``nnscratch.convolutional``: im2col convolution, normalisation, modern CNN blocks.
- ``nnscratch.common``: what every tier shares (backend, softmax, cross-entropy, data).
"""

__version__ = "0.1.0"
