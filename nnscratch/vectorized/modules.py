"""The layers of tier 2, each a forward and its hand-written backward side by side.

The protocol (``Parameter``, ``Module``, ``Sequential``, ``no_grad``) lives in ``module.py``,
the activations in ``activations.py``, batch normalisation in ``batchnorm.py`` and layer
normalisation in ``layernorm.py``; all are re-exported here, so
``from nnscratch.vectorized.modules import Linear, ReLU, Sequential`` finds everything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..common.backend import current_device, get_array_module
from ..common.checks import check_int, check_number
from ..common.seed import next_seed
from .activations import (
    GELU,
    Elementwise,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    make_activation,
)
from .batchnorm import BatchNorm1D
from .initialization import default_parameters
from .layernorm import LayerNorm
from .module import Module, Parameter, Sequential, grad_enabled, no_grad


class Linear(Module):
    """A fully connected layer: y = x W^T + b.

    x: (N, in_features) -> y: (N, out_features). weight: (out_features, in_features) and
    bias: (out_features,), shaped as in PyTorch so weights can be copied across.

    Initial values as PyTorch's default (``initialization.default_parameters``): both weight
    and bias drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)), in float32, from
    ``new_generator(seed)``, so the same seed gives the same network on NumPy and CuPy.

    Backward, with g = dL/dy of shape (N, out_features):

        dL/dW = g^T x      (out, in): every sample's outer product, summed over the batch
        dL/db = sum_n g    (out,)
        dL/dx = g W        (N, in)

    ``needs_input_grad = False`` skips dL/dx (``backward`` then returns None): for the
    first layer of a network, whose input is the data, that saves a third of its backward.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, seed: int | None = None) -> None:
        self.in_features = check_int("Linear", "in_features", in_features)
        self.out_features = check_int("Linear", "out_features", out_features)
        self.weight, self.bias = default_parameters((self.out_features, self.in_features), bias, seed)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 * in * out for the product, out for the bias."""
        return 2 * self.in_features * self.out_features + (self.out_features if self.bias is not None else 0)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        bias = self.bias is not None
        return "Linear", {"in_features": self.in_features, "out_features": self.out_features, "bias": bias}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """Gemm: x W^T + b, transB=1 reading W (out, in) as stored."""
        return graph.node("Gemm", [x, *graph.weight_and_bias(self)], transB=1)

    def forward(self, x: Any) -> Any:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) got input of shape {tuple(x.shape)}: "
                f"expected (N, {self.in_features})"
            )
        self._save_for_backward(x)
        # x @ W.T reads W transposed in place (a BLAS flag), no copy is made
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_out: Any) -> Any:
        (x,) = self._saved()
        self.weight.grad += grad_out.T @ x
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=0)
        if not self.needs_input_grad:
            return None
        return grad_out @ self.weight.data


class Identity(Module):
    """y = x (a placeholder, e.g. a shortcut that needs no projection)."""

    def flops(self, input_shape: tuple[int, ...]) -> int:
        return 0

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "Identity", {}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node("Identity", [x])

    def forward(self, x: Any) -> Any:
        return x

    def backward(self, grad_out: Any) -> Any:
        return grad_out


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...); backward reshapes the gradient back."""

    def flops(self, input_shape: tuple[int, ...]) -> int:
        return 0

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "Flatten", {}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node("Flatten", [x], axis=1)

    def forward(self, x: Any) -> Any:
        self._save_for_backward(x.shape)
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: Any) -> Any:
        (shape,) = self._saved()
        return grad_out.reshape(shape)


class Dropout(Elementwise):
    """Inverted dropout (Srivastava et al. 2014): in training, zero each element with
    probability ``p`` and scale the survivors by 1 / (1 - p), so the expected activation is
    unchanged and evaluation needs no rescaling: in eval mode it is the identity.

    x: any shape. ``seed`` fixes the mask stream (default: drawn from ``manual_seed``'s root).
    The stream's position is the module's ``extra_state()``, so a resumed run continues it.
    """

    onnx_op = "Identity"  # an ONNX graph is the model in eval mode, where dropout keeps every value

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        self.p = check_number("Dropout", "p", p, 0.0, 1.0)
        self.seed = next_seed() if seed is None else seed
        self._rng = None
        self._rng_backend = None

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "Dropout", {"p": self.p}

    def _generator(self, xp: Any) -> Any:
        # created on first use, on the backend of the data, so CuPy draws its masks on the GPU
        if self._rng_backend is not xp:
            self._rng, self._rng_backend = xp.random.default_rng(self.seed), xp
        return self._rng

    def extra_state(self) -> dict[str, Any]:
        """The mask stream, for checkpoints: ``{"seed": int, "generator": state}``, where state is the
        NumPy generator's ``bit_generator.state`` (a dict of ints), None before the first mask.

        CuPy's generators cannot export their state, so on the GPU this is a RuntimeError rather
        than a checkpoint that would silently resume with other masks.
        """
        on_gpu = self._rng is not None and not isinstance(self._rng, np.random.Generator)
        if on_gpu or (self._rng is None and current_device() == "gpu"):
            raise RuntimeError(
                "Dropout: the mask generator of a model on the GPU is CuPy's, whose state cannot be saved, "
                "so a checkpoint could not resume with the same masks; checkpoint on the CPU, or without dropout"
            )
        return {"seed": self.seed, "generator": None if self._rng is None else self._rng.bit_generator.state}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Continue the mask stream that ``extra_state()`` described (on the CPU)."""
        seed, generator_state = state["seed"], state["generator"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"Dropout.load_extra_state: seed must be an integer, got {seed!r}")
        rng = None
        if generator_state is not None:
            rng = np.random.default_rng(seed)
            rng.bit_generator.state = generator_state  # NumPy checks the state's form
        self.seed, self._rng, self._rng_backend = seed, rng, None if rng is None else np

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            self._save_for_backward(None)
            return x
        xp = get_array_module(x)
        if self.p == 1.0:
            mask = xp.zeros_like(x)
        else:
            keep = self._generator(xp).random(x.shape, dtype=x.dtype) >= self.p
            mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.p))
        self._save_for_backward(mask)
        return x * mask

    def backward(self, grad_out: Any) -> Any:
        (mask,) = self._saved()
        return grad_out if mask is None else grad_out * mask


__all__ = [
    "GELU",
    "BatchNorm1D",
    "Dropout",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Module",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "grad_enabled",
    "make_activation",
    "no_grad",
]
