"""Activation functions of one number: a = f(z), the slope f'(z) that backward needs, and the
initial-weight scale that suits each one. Python floats and ``math`` only.

| name         | f(z)                         | f'(z)                                  | init   |
| ------------ | ---------------------------- | -------------------------------------- | ------ |
| ``relu``       | max(z, 0)                    | 1 if z > 0 else 0                      | He     |
| ``leaky_relu`` | z if z > 0 else 0.01 z       | 1 if z > 0 else 0.01                   | He     |
| ``gelu``       | z Phi(z), Phi = normal CDF   | Phi(z) + z phi(z), phi = normal PDF    | He     |
| ``silu``       | z s(z), s = sigmoid          | s (1 + z (1 - s))                      | He     |
| ``tanh``       | tanh(z)                      | 1 - tanh(z)^2                          | Glorot |
| ``sigmoid``    | 1 / (1 + exp(-z))            | s (1 - s)                              | Glorot |
| ``linear``     | z                            | 1                                      | Glorot |

The slope at a kink (z = 0 for ReLU) is taken as PyTorch takes it, so gradients agree.

Initial weights are drawn from a normal distribution with mean 0 and a standard deviation
chosen so that the variance of z neither grows nor shrinks from layer to layer:

- He (He et al. 2015, "Delving Deep into Rectifiers"): std = sqrt(2 / fan_in), because a
  ReLU-like function passes on about half of the variance;
- Glorot (Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward
  neural networks"): std = sqrt(2 / (fan_in + fan_out)), for functions that are roughly
  linear near 0 (tanh, sigmoid and the identity of the output layer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

LEAKY_RELU_SLOPE = 0.01  # PyTorch's default negative_slope


def sigmoid(z: float) -> float:
    """1 / (1 + exp(-z)), never overflowing: exp is only taken of -|z| (math.exp raises past ~709)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _silu_slope(z: float) -> float:
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def _sigmoid_slope(z: float) -> float:
    s = sigmoid(z)
    return s * (1.0 - s)


@dataclass(frozen=True)
class Activation:
    """One activation: ``function(z)`` = f(z), ``slope(z)`` = f'(z), and its ``init`` ("he" or "glorot")."""

    name: str
    function: Callable[[float], float]
    slope: Callable[[float], float]
    init: str


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", lambda z: z if z > 0 else 0.0, lambda z: 1.0 if z > 0 else 0.0, "he"),
        Activation(
            "leaky_relu",
            lambda z: z if z > 0 else LEAKY_RELU_SLOPE * z,
            lambda z: 1.0 if z > 0 else LEAKY_RELU_SLOPE,
            "he",
        ),
        Activation("gelu", lambda z: z * _normal_cdf(z), lambda z: _normal_cdf(z) + z * _normal_pdf(z), "he"),
        Activation("silu", lambda z: z * sigmoid(z), _silu_slope, "he"),
        Activation("tanh", math.tanh, lambda z: 1.0 - math.tanh(z) ** 2, "glorot"),
        Activation("sigmoid", sigmoid, _sigmoid_slope, "glorot"),
        Activation("linear", lambda z: z, lambda z: 1.0, "glorot"),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; a ValueError lists the valid names."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def init_std(activation: Activation, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the initial weights: He sqrt(2/fan_in) or Glorot sqrt(2/(fan_in+fan_out))."""
    if activation.init == "he":
        return math.sqrt(2.0 / fan_in)
    return math.sqrt(2.0 / (fan_in + fan_out))
