"""``ConcatSkip``: U-Net's skip connection, the input laid beside what a sub-network made of it.

Ronneberger, Fischer & Brox 2015 ("U-Net: Convolutional Networks for Biomedical Image
Segmentation") downsample to see context, upsample back, and then *concatenate* the
upsampled features with the encoder's features of the same resolution: the decoder gets
both what the context says ("this region is a shirt") and where the edges were exactly, which
the trip through the coarse resolution blurred.

    y = concat([x, inner(x)], axis=1)      x: (N, C, H, W), inner(x): (N, C', H, W) -> y: (N, C + C', H, W)

Backward: y's first C channels are x itself, the rest are inner(x), so dL/dy splits along
the channels, and x collects the gradient of both paths:

    dL/dx = dL/dy[:, :C] + inner.backward(dL/dy[:, C:])

A residual connection (``blocks.ResidualBlock``) adds the two paths instead, which needs them
to have the same channels and mixes them into one; concatenation keeps them apart and lets
the next layer weigh each.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import get_array_module
from ..common.checks import check_int
from ..vectorized.module import Module
from .windows import check_images


class ConcatSkip(Module):
    """y = concat([x, inner(x)], channels): x (N, C, H, W) -> y (N, C + C', H, W), where ``inner``
    keeps the height and width (see the module docstring). ``channels``: C, the input's channels."""

    def __init__(self, channels: int, inner: Module) -> None:
        self.channels = check_int("ConcatSkip", "channels", channels)
        self.inner = inner

    def extra_repr(self) -> str:
        return f"channels={self.channels}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "ConcatSkip", {"channels": self.channels}  # written in ``interop.torch``, from this docstring

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """Concat of x and the inner network's output along the channels, in forward's order."""
        return graph.node("Concat", [x, graph.add("inner", self.inner, x)], axis=1)

    def forward(self, x: Any) -> Any:
        owner = f"ConcatSkip(channels={self.channels})"
        check_images(owner, x, self.channels)
        inner = self.inner.forward(x)
        if inner.ndim != 4 or inner.shape[2:] != x.shape[2:]:
            raise ValueError(
                f"{owner}: the inner network must keep the height and width, got {tuple(inner.shape)} "
                f"from input {tuple(x.shape)}"
            )
        return get_array_module(x).concatenate([x, inner], axis=1)

    def backward(self, grad_out: Any) -> Any:
        grad_inner = self.inner.backward(grad_out[:, self.channels :])
        grad_skip = grad_out[:, : self.channels]
        return grad_skip if grad_inner is None else grad_skip + grad_inner
