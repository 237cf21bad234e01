"""nnscratch models as PyTorch modules and back: the same layers, the same parameter names, the same numbers.

    twin = to_torch(model)        # torch.nn.Module, float32 or float64 as the model, weights copied
    twin(torch.from_numpy(x))     # the same logits as model.forward(x), to rounding
    ours = from_torch(twin)       # an nnscratch model again: step through its hand-written backward

Each layer declares its PyTorch equivalent as data (``Module.torch_equivalent``: a class name
and its arguments), so this file holds no list of layers. ``to_torch`` builds that class from
``torch.nn``, or from the twins below where torch.nn has none (a channels-first LayerNorm, a
global average pool, squeeze-excite, the blocks and U-Net's skip); then converts the layer's sub-modules and
attaches them under the same names, so that ``twin.load_state_dict(model.state_dict())`` copies
every weight and running statistic across (``copy_weights``). Each twin's forward is written
with torch operations straight from the nnscratch class's docstring: a parity test compares
two independent spellings of each block.

``from_torch`` goes the other way for a PyTorch model built from the layers nnscratch has,
``Sequential`` trees, torchvision's ResNet ``BasicBlock`` and the twins written here; the
table of conversions is in ``from_torch.py``. An unsupported layer is a TypeError listing them all.

The tests compare every architecture with its twin; the benchmarks race the two. torch is
imported the first time a function here runs, never by importing nnscratch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..common.backend import to_cpu
from ..vectorized.module import Module
from .from_torch import convert


def _torch() -> Any:
    """The torch module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("nnscratch.interop.torch needs PyTorch, which is not installed: pip install torch") from error
    return torch


@cache
def twins() -> dict[str, type]:
    """The twins of the layers torch.nn lacks, by the name their ``torch_equivalent`` gives."""
    torch = _torch()
    nn, functional = torch.nn, torch.nn.functional

    class LayerNorm2d(nn.Module):
        """LayerNorm over the channel axis of NCHW images (ConvNeXt's channels-first LayerNorm)."""

        def __init__(self, channels: int, eps: float) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))
            self.eps = eps

        def forward(self, x: Any) -> Any:
            normed = functional.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
            return normed.permute(0, 3, 1, 2)

    class GlobalAvgPool2d(nn.Module):
        """(N, C, H, W) -> (N, C): the mean of each channel, one module (so per-layer timings see it)."""

        def forward(self, x: Any) -> Any:
            return x.mean(dim=(2, 3))

    class SqueezeExcite(nn.Module):
        """x times a gate per channel: sigmoid(expand(silu(reduce(mean over H, W of x))))."""

        def forward(self, x: Any) -> Any:
            squeezed = self.pool(x)[:, :, None, None]
            return x * self.gate(self.expand(self.activation(self.reduce(squeezed))))

    class ResidualBlock(nn.Module):
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the ReLUs are modules, as in nnscratch."""

        def forward(self, x: Any) -> Any:
            main = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
            return self.relu_out(main + self.shortcut(x))

    class MBConvBlock(nn.Module):
        """project(se(depthwise(expand(x)))), plus x when the shapes allow; expand and se are optional."""

        def __init__(self, use_residual: bool) -> None:
            super().__init__()
            self.expand, self.se, self.use_residual = None, None, use_residual

        def forward(self, x: Any) -> Any:
            h = x if self.expand is None else self.expand(x)
            h = self.depthwise(h)
            if self.se is not None:
                h = self.se(h)
            h = self.project(h)
            return h + x if self.use_residual else h

    class ConvNeXtBlock(nn.Module):
        """x + gamma * pwconv2(gelu(pwconv1(norm(dwconv(x))))), gamma the optional layer scale."""

        def __init__(self, channels: int, layer_scale: bool) -> None:
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(channels)) if layer_scale else None

        def forward(self, x: Any) -> Any:
            h = self.pwconv2(self.act(self.pwconv1(self.norm(self.dwconv(x)))))
            return x + (h if self.gamma is None else self.gamma[None, :, None, None] * h)

    class ConcatSkip(nn.Module):
        """U-Net's skip: torch.cat([x, inner(x)], dim=1), the input beside what the inner network made of it."""

        def __init__(self, channels: int) -> None:
            super().__init__()
            self.channels = channels  # the input's: what from_torch needs to build the skip back

        def forward(self, x: Any) -> Any:
            return torch.cat([x, self.inner(x)], dim=1)

    written = (LayerNorm2d, GlobalAvgPool2d, SqueezeExcite, ResidualBlock, MBConvBlock, ConvNeXtBlock, ConcatSkip)
    return {twin.__name__: twin for twin in written}


def torch_module(layer: Module) -> Any:
    """The torch module ``layer.torch_equivalent()`` describes, with its sub-modules converted and
    attached under the same names; torch's default dtype, weights not copied."""
    equivalent = layer.torch_equivalent()
    if equivalent is None:
        raise TypeError(f"to_torch: {type(layer).__name__} declares no torch_equivalent(), so it has no PyTorch twin")
    name, arguments = equivalent
    nn = _torch().nn
    twin = twins()[name](**arguments) if name in twins() else getattr(nn, name)(**arguments)
    for child_name, child in layer.named_children():
        setattr(twin, child_name, torch_module(child))  # registers it, as an attribute assignment in __init__
    return twin


def to_torch(model: Module) -> Any:
    """The PyTorch twin of ``model``, in its parameters' dtype, holding a copy of its weights and buffers."""
    torch = _torch()
    parameters = model.parameters()
    dtype = getattr(torch, parameters[0].data.dtype.name) if parameters else torch.get_default_dtype()
    twin = torch_module(model).to(dtype)
    copy_weights(model, twin)
    return twin


def from_torch(module: Any) -> Module:
    """The nnscratch model computing what the PyTorch ``module`` computes, holding a copy of its weights and
    buffers in their dtype, in its training mode (see ``from_torch.py`` for what converts, and how).

    A TypeError lists every module that cannot be converted, by path, class and reason.
    """
    return convert(module)


def copy_weights(model: Module, twin: Any) -> None:
    """Copy every parameter and buffer of ``model`` into ``twin`` (the names must match exactly;
    values are converted to the twin's dtype)."""
    torch = _torch()
    state = {name: torch.from_numpy(np.array(to_cpu(value))) for name, value in model.state_dict().items()}
    twin.load_state_dict(state, strict=True)
