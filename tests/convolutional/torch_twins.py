"""PyTorch twins of nnscratch models: the same layers, the same parameter names, the same forward.

``torch_twin(model)`` walks an nnscratch module tree and builds the PyTorch module that
computes the same function, named so that ``twin.load_state_dict(model.state_dict())`` copies
every weight and running statistic across. Blocks get a twin whose forward is written with
torch operations straight from the block's docstring, so a parity test compares two
independent spellings of each architecture.

The parity tests use float64 twins (the default); the benchmarks (``benchmarks/``) build
float32 twins of the same models with ``torch_twin(model, torch.float32)``. This file imports
nothing from the test helpers, so that importing it leaves torch's global settings (the
tests' float64 default dtype) alone.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnscratch.common.backend import to_cpu
from nnscratch.convolutional import blocks, modules
from nnscratch.vectorized.batchnorm import BatchNorm, BatchNorm1D
from nnscratch.vectorized.modules import Linear, Sequential


class TorchLayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of NCHW images (ConvNeXt's channels_first LayerNorm)."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        normed = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return normed.permute(0, 3, 1, 2)


class TorchGlobalAvgPool2d(nn.Module):
    """(N, C, H, W) -> (N, C): the mean of each channel, one module (so per-layer timings see it)."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class TorchSqueezeExcite(nn.Module):
    def __init__(self, ours: modules.SqueezeExcite) -> None:
        super().__init__()
        self.reduce, self.expand = _build(ours.reduce), _build(ours.expand)

    def forward(self, x):
        return x * torch.sigmoid(self.expand(F.silu(self.reduce(F.adaptive_avg_pool2d(x, 1)))))


class TorchResidualBlock(nn.Module):
    def __init__(self, ours: blocks.ResidualBlock) -> None:
        super().__init__()
        # the ReLUs are modules, as in ours, so that per-layer timings (benchmarks/layer_times.py) see them
        for name in ("conv1", "bn1", "relu1", "conv2", "bn2", "shortcut", "relu_out"):
            setattr(self, name, _build(getattr(ours, name)))

    def forward(self, x):
        main = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu_out(main + self.shortcut(x))


class TorchMBConvBlock(nn.Module):
    def __init__(self, ours: blocks.MBConvBlock) -> None:
        super().__init__()
        self.expand = None if ours.expand is None else _build(ours.expand)
        self.depthwise = _build(ours.depthwise)
        self.se = None if ours.se is None else _build(ours.se)
        self.project = _build(ours.project)
        self.use_residual = ours.use_residual

    def forward(self, x):
        h = x if self.expand is None else self.expand(x)
        h = self.depthwise(h)
        if self.se is not None:
            h = self.se(h)
        h = self.project(h)
        return h + x if self.use_residual else h


class TorchConvNeXtBlock(nn.Module):
    def __init__(self, ours: blocks.ConvNeXtBlock) -> None:
        super().__init__()
        for name in ("dwconv", "norm", "pwconv1", "pwconv2"):
            setattr(self, name, _build(getattr(ours, name)))
        self.gamma = None if ours.gamma is None else nn.Parameter(_tensor(ours.gamma.data))

    def forward(self, x):
        h = self.pwconv2(F.gelu(self.pwconv1(self.norm(self.dwconv(x)))))
        return x + (h if self.gamma is None else self.gamma[None, :, None, None] * h)


ACTIVATIONS = {
    modules.ReLU: lambda m: nn.ReLU(),
    modules.ReLU6: lambda m: nn.ReLU6(),
    modules.LeakyReLU: lambda m: nn.LeakyReLU(m.negative_slope),
    modules.Tanh: lambda m: nn.Tanh(),
    modules.Sigmoid: lambda m: nn.Sigmoid(),
    modules.SiLU: lambda m: nn.SiLU(),
    modules.GELU: lambda m: nn.GELU(approximate=m.approximate),
}


def _tensor(array) -> torch.Tensor:
    """A torch tensor holding a copy of a NumPy or CuPy array (same dtype)."""
    return torch.from_numpy(np.array(to_cpu(array)))


def torch_twin(ours, dtype: torch.dtype = torch.float64) -> nn.Module:
    """The PyTorch module (parameters and buffers of ``dtype``) computing what ``ours`` computes,
    with the same parameter names.

    Weights are not copied here: ``copy_weights(ours, twin)`` does that.
    """
    return _build(ours).to(dtype)


def _build(ours) -> nn.Module:
    """The twin of ``ours`` and, recursively, of its children, in torch's default dtype."""
    kind = type(ours)
    if kind in ACTIVATIONS:
        twin = ACTIVATIONS[kind](ours)
    elif isinstance(ours, Sequential):
        twin = nn.Sequential(*(_build(layer) for layer in ours))
    elif kind is modules.Conv2D:
        twin = nn.Conv2d(
            ours.in_channels, ours.out_channels, ours.kernel_size, ours.stride, ours.padding, bias=ours.bias is not None
        )
    elif kind is modules.DepthwiseConv2D:
        channels = ours.channels
        twin = nn.Conv2d(
            channels, channels, ours.kernel_size, ours.stride, ours.padding, groups=channels, bias=ours.bias is not None
        )
    elif kind is Linear:
        twin = nn.Linear(ours.in_features, ours.out_features, bias=ours.bias is not None)
    elif isinstance(ours, BatchNorm):
        batchnorm = nn.BatchNorm1d if isinstance(ours, BatchNorm1D) else nn.BatchNorm2d
        twin = batchnorm(ours.num_features, eps=ours.eps, momentum=ours.momentum)
    elif kind is modules.LayerNorm2D:
        twin = TorchLayerNorm2d(ours.num_channels, ours.eps)
    elif kind is modules.MaxPool2D:
        twin = nn.MaxPool2d(ours.kernel_size, ours.stride, ours.padding)
    elif kind is modules.AvgPool2D:
        twin = nn.AvgPool2d(ours.kernel_size, ours.stride, ours.padding)
    elif kind is modules.GlobalAvgPool2D:
        twin = TorchGlobalAvgPool2d()
    elif kind is modules.Flatten:
        twin = nn.Flatten()
    elif kind is modules.Identity:
        twin = nn.Identity()
    elif kind is modules.Dropout:
        twin = nn.Dropout(ours.p)
    elif kind is modules.SqueezeExcite:
        twin = TorchSqueezeExcite(ours)
    elif kind is blocks.ResidualBlock:
        twin = TorchResidualBlock(ours)
    elif kind is blocks.MBConvBlock:
        twin = TorchMBConvBlock(ours)
    elif kind is blocks.ConvNeXtBlock:
        twin = TorchConvNeXtBlock(ours)
    else:
        raise TypeError(f"no torch twin for {kind.__name__}")
    return twin


def copy_weights(ours, twin: nn.Module) -> None:
    """Copy every parameter and buffer of ``ours`` into ``twin`` (the names must match exactly;
    values are converted to the twin's dtype)."""
    twin.load_state_dict({name: _tensor(value) for name, value in ours.state_dict().items()}, strict=True)
