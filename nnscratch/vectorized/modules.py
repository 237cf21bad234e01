"""The layers of tier 2, each a forward and its hand-written backward side by side.

The protocol (``Parameter``, ``Module``, ``Sequential``, ``no_grad``) lives in ``module.py``
and the activations in ``activations.py``; both are re-exported here, so
``from nnscratch.vectorized.modules import Linear, ReLU, Sequential`` finds everything.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import get_array_module
from ..common.seed import next_seed
from .activations import GELU, LeakyReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Tanh, make_activation
from .module import Module, Parameter, Sequential, grad_enabled, no_grad


class Identity(Module):
    """y = x (a placeholder, e.g. a shortcut that needs no projection)."""

    def forward(self, x: Any) -> Any:
        return x

    def backward(self, grad_out: Any) -> Any:
        return grad_out


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...); backward reshapes the gradient back."""

    def forward(self, x: Any) -> Any:
        self._save_for_backward(x.shape)
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: Any) -> Any:
        (shape,) = self._saved()
        return grad_out.reshape(shape)


class Dropout(Module):
    """Inverted dropout (Srivastava et al. 2014): in training, zero each element with
    probability ``p`` and scale the survivors by 1 / (1 - p), so the expected activation is
    unchanged and evaluation needs no rescaling: in eval mode it is the identity.

    x: any shape. ``seed`` fixes the mask stream (default: drawn from ``manual_seed``'s root).
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)
        self.seed = next_seed() if seed is None else seed
        self._rng = None
        self._rng_backend = None

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def _generator(self, xp: Any) -> Any:
        # created on first use, on the backend of the data, so CuPy draws its masks on the GPU
        if self._rng_backend is not xp:
            self._rng, self._rng_backend = xp.random.default_rng(self.seed), xp
        return self._rng

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
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
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
