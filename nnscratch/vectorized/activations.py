"""Activation functions as modules: element-wise y = f(x), and backward grad_x = grad_y * f'(x).

Each backward keeps the smallest thing that gives f'(x): a boolean mask for the piecewise
linear ones, the output y where f' is a function of y (tanh, sigmoid, softmax), the input x
otherwise. The convolutional tier re-exports these; there is one implementation of each.

| module    | f(x)                                   | f'(x)                                     |
| --------- | -------------------------------------- | ----------------------------------------- |
| ReLU      | max(x, 0)                              | 1 if x > 0 else 0                         |
| LeakyReLU | x if x > 0 else a*x                    | 1 if x > 0 else a                         |
| ReLU6     | min(max(x, 0), 6)                      | 1 if 0 < x < 6 else 0                     |
| Tanh      | tanh(x)                                | 1 - y^2                                   |
| Sigmoid   | 1 / (1 + exp(-x))                      | y (1 - y)                                 |
| SiLU      | x * sigmoid(x)                         | s (1 + x (1 - s)),  s = sigmoid(x)        |
| GELU      | x * Phi(x),  Phi = normal CDF          | Phi(x) + x * phi(x),  phi = normal PDF    |
| Softmax   | exp(x_i) / sum_j exp(x_j)              | grad_x = y * (grad_y - sum(grad_y * y))   |
| LogSoftmax| x_i - log sum_j exp(x_j)               | grad_x = grad_y - exp(y) * sum(grad_y)    |

The derivative at a kink (x = 0 for ReLU) is taken as PyTorch takes it, so gradients agree.
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module
from ..common.softmax import log_softmax, softmax
from ..common.special import erf
from .module import Module, grad_enabled


class Elementwise(Module):
    """A layer that computes one output value from each input value: the activations, dropout.

    Its FLOPs are counted as one per value, whatever the function costs (a max or an erf).
    Its ONNX form is the one operator ``onnx_op`` where ONNX has the function as one (Relu,
    Tanh, Sigmoid); the others write theirs out.
    """

    onnx_op: str | None = None

    def flops(self, input_shape: tuple[int, ...]) -> int:
        return math.prod(input_shape)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        """torch.nn's class of the same name; layers with settings add them."""
        return type(self).__name__, {}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        if self.onnx_op is None:
            return super().onnx_nodes(graph, x)  # the "no ONNX form" error
        return graph.node(self.onnx_op, [x])


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x| <= 0."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class ReLU(Elementwise):
    """max(x, 0). x: any shape."""

    onnx_op = "Relu"

    def forward(self, x: Any) -> Any:
        # the mask is a pass over x of its own: skipped when no backward will follow (inference)
        self._save_for_backward(x > 0 if grad_enabled() else None)
        return get_array_module(x).maximum(x, 0)

    def backward(self, grad_out: Any) -> Any:
        (positive,) = self._saved()
        return grad_out * positive


class LeakyReLU(Elementwise):
    """x for x > 0, ``negative_slope * x`` otherwise (Maas et al. 2013). x: any shape."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = float(negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "LeakyReLU", {"negative_slope": self.negative_slope}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node("LeakyRelu", [x], alpha=self.negative_slope)

    def forward(self, x: Any) -> Any:
        positive = x > 0
        self._save_for_backward(positive)
        return get_array_module(x).where(positive, x, x * self.negative_slope)

    def backward(self, grad_out: Any) -> Any:
        (positive,) = self._saved()
        return get_array_module(grad_out).where(positive, grad_out, grad_out * self.negative_slope)


class ReLU6(Elementwise):
    """min(max(x, 0), 6): ReLU capped at 6, used by MobileNet and EfficientNet-Lite. x: any shape."""

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """Clip, whose bounds are inputs (not attributes) since opset 11."""
        return graph.node("Clip", [x, graph.parameter("min", 0.0), graph.parameter("max", 6.0)])

    def forward(self, x: Any) -> Any:
        self._save_for_backward((x > 0) & (x < 6) if grad_enabled() else None)
        return get_array_module(x).clip(x, 0, 6)

    def backward(self, grad_out: Any) -> Any:
        (inside,) = self._saved()
        return grad_out * inside


class Tanh(Elementwise):
    """tanh(x); its derivative 1 - tanh(x)^2 needs only the output. x: any shape."""

    onnx_op = "Tanh"

    def forward(self, x: Any) -> Any:
        y = get_array_module(x).tanh(x)
        self._save_for_backward(y)
        return y

    def backward(self, grad_out: Any) -> Any:
        (y,) = self._saved()
        return grad_out * (1 - y * y)


class Sigmoid(Elementwise):
    """1 / (1 + exp(-x)); its derivative y (1 - y) needs only the output. x: any shape."""

    onnx_op = "Sigmoid"

    def forward(self, x: Any) -> Any:
        y = sigmoid(x)
        self._save_for_backward(y)
        return y

    def backward(self, grad_out: Any) -> Any:
        (y,) = self._saved()
        return grad_out * y * (1 - y)


class SiLU(Elementwise):
    """x * sigmoid(x), also called Swish (Ramachandran et al. 2017). x: any shape."""

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """Mul(x, Sigmoid(x)): ONNX has no SiLU operator."""
        return graph.node("Mul", [x, graph.node("Sigmoid", [x])])

    def forward(self, x: Any) -> Any:
        s = sigmoid(x)
        self._save_for_backward(x, s)
        return x * s

    def backward(self, grad_out: Any) -> Any:
        x, s = self._saved()
        # d/dx [x s(x)] = s + x s (1 - s) = s (1 + x (1 - s))
        return grad_out * (s * (1 + x * (1 - s)))


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_ONE_OVER_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_CUBIC = 0.044715


class GELU(Elementwise):
    """x * Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel 2016). x: any shape.

    approximate="none" uses Phi(x) = (1 + erf(x / sqrt 2)) / 2 exactly; "tanh" uses the
    paper's approximation 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch does.
    """

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "GELU", {"approximate": self.approximate}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """The formula of ``forward``, operator by operator (ONNX's Gelu came only in opset 20).

        exact: x * 0.5 (1 + Erf(x / sqrt 2));  tanh: 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))).
        """
        if self.approximate == "tanh":
            cube = graph.node("Mul", [graph.node("Mul", [x, x]), x])
            inner = graph.node("Add", [x, graph.node("Mul", [cube, graph.parameter("cubic", _TANH_CUBIC)])])
            phi = graph.node("Tanh", [graph.node("Mul", [inner, graph.parameter("sqrt_2_over_pi", _SQRT_2_OVER_PI)])])
        else:
            phi = graph.node("Erf", [graph.node("Div", [x, graph.parameter("sqrt_2", _SQRT_2)])])
        # phi in [-1, 1]; the CDF is (1 + phi) / 2
        cdf = graph.node("Mul", [graph.node("Add", [phi, graph.parameter("one", 1.0)]), graph.parameter("half", 0.5)])
        return graph.node("Mul", [x, cdf])

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        if self.approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x * x * x))
            self._save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * (1 + erf(x / _SQRT_2))
        self._save_for_backward(x, cdf)
        return x * cdf

    def backward(self, grad_out: Any) -> Any:
        xp = get_array_module(grad_out)
        x, saved = self._saved()
        if self.approximate == "tanh":
            t = saved
            inner_slope = _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * x * x)
            return grad_out * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner_slope)
        cdf = saved
        pdf = _ONE_OVER_SQRT_2PI * xp.exp(-0.5 * x * x)
        return grad_out * (cdf + x * pdf)


class AlongAxis(Elementwise):
    """A layer that normalises along one ``axis`` (Softmax, LogSoftmax): the axis is its one setting,
    and its ONNX form the operator of the same name, which takes the axis too."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def extra_repr(self) -> str:
        return f"axis={self.axis}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return type(self).__name__, {"dim": self.axis}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node(type(self).__name__, [x], axis=self.axis)


class Softmax(AlongAxis):
    """Softmax along ``axis`` as a layer. For training a classifier, feed logits to
    ``CrossEntropyLoss`` instead: its fused gradient softmax - target is cheaper and exact.
    """

    def forward(self, x: Any) -> Any:
        y = softmax(x, self.axis)
        self._save_for_backward(y)
        return y

    def backward(self, grad_out: Any) -> Any:
        (y,) = self._saved()
        # Jacobian-vector product of softmax: dy_i/dx_j = y_i (delta_ij - y_j)
        return y * (grad_out - (grad_out * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(AlongAxis):
    """log softmax along ``axis`` as a layer: log-probabilities, the input ``NLLLoss`` expects.

    x: any shape, e.g. logits (N, C) with ``axis=1``; y has the shape and dtype of x. Computed
    stably (``common/softmax.py``): never log(softmax(x)), which is -inf once a probability
    underflows. Backward: dy_i/dx_j = delta_ij - softmax(x)_j, and softmax(x) = exp(y), so
    grad_x = grad_y - exp(y) * sum_i grad_y_i. ``CrossEntropyLoss`` fuses this layer with the
    NLL loss, and is cheaper for training; this layer teaches the two parts.
    """

    def forward(self, x: Any) -> Any:
        y = log_softmax(x, self.axis)
        self._save_for_backward(y)
        return y

    def backward(self, grad_out: Any) -> Any:
        (y,) = self._saved()
        xp = get_array_module(y)
        return grad_out - xp.exp(y) * grad_out.sum(axis=self.axis, keepdims=True)


ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "relu6": ReLU6,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "silu": SiLU,
    "gelu": GELU,
}


def make_activation(name: str) -> Module:
    """An activation module by name (``"relu"``, ``"gelu"``, ...); a ValueError lists the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
