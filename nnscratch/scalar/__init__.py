"""Tier 1: neurons, layers and networks as plain Python loops over floats.

Every value and gradient is a Python float a learner can print and check by hand; the math
uses ``math`` only (no NumPy). Slow by design, and exact: the same updates as the vectorized
tier and PyTorch, to rounding.

    from nnscratch.scalar import Network, SGD
    network = Network(784, [32], 10, activations="relu")
    optimizer = SGD(network.parameters(), lr=0.05, momentum=0.9)
"""

from .activations import ACTIVATIONS, get_activation
from .layer import Dropout, Layer
from .loss import cross_entropy, logsumexp, softmax
from .network import Network, layer_plan
from .neuron import Bias, Neuron, Weight
from .optim import SGD, Adam
from .trainer import Trainer

__all__ = [
    "ACTIVATIONS",
    "SGD",
    "Adam",
    "Bias",
    "Dropout",
    "Layer",
    "Network",
    "Neuron",
    "Trainer",
    "Weight",
    "cross_entropy",
    "get_activation",
    "layer_plan",
    "logsumexp",
    "softmax",
]
