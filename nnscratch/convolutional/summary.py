"""``nnscratch summary ARCH``: every layer of a model with its output shape, parameters and FLOPs.

The layers are found by running one image through the model and noting each leaf module
(a module without sub-modules) as it computes, so the table follows the order of the
forward pass, blocks included. FLOPs are those of the forward pass for one image, counting
a multiply-add as 2:

    Conv2D           2 * C * kh * kw * F * H' * W'   (+ F * H' * W' for the bias)
    DepthwiseConv2D  2 * kh * kw * C * H' * W'       (+ C * H' * W')
    Linear           2 * in * out                    (+ out)
    MaxPool/AvgPool  kh * kw per output value;  global pooling: one per input value
    BatchNorm, LayerNorm: 2 per value (scale and shift, with the statistics folded in)
    activations, dropout: 1 per value;  Flatten, Identity: 0

Additions of residual connections and the gating product inside squeeze-excite are not
layers and are not counted (they are a small fraction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..common.backend import to_device
from ..vectorized.module import Module, no_grad
from .modules import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    DepthwiseConv2D,
    Flatten,
    GlobalAvgPool2D,
    Identity,
    LayerNorm2D,
    MaxPool2D,
)


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    flops: int


def _flops(module: Module, x: Any, y: Any) -> int:
    """Forward FLOPs of one leaf module for one image (x, y: input and output with batch 1)."""
    out = int(np.prod(y.shape[1:]))
    if isinstance(module, Conv2D):
        kh, kw = module.kernel_size
        return 2 * module.in_channels * kh * kw * out + (out if module.bias is not None else 0)
    if isinstance(module, DepthwiseConv2D):
        kh, kw = module.kernel_size
        return 2 * kh * kw * out + (out if module.bias is not None else 0)
    if hasattr(module, "in_features") and hasattr(module, "out_features"):  # Linear
        return 2 * module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)
    if isinstance(module, (MaxPool2D, AvgPool2D)):
        return module.kernel_size[0] * module.kernel_size[1] * out
    if isinstance(module, GlobalAvgPool2D):
        return int(np.prod(x.shape[1:]))
    if isinstance(module, (BatchNorm2D, LayerNorm2D)) or type(module).__name__.startswith("BatchNorm"):
        return 2 * out
    if isinstance(module, (Flatten, Identity)):
        return 0
    return out  # activations, dropout: one operation per value


def summarize(model: Module, input_shape: tuple[int, int, int]) -> list[LayerRow]:
    """The rows of the summary table for ``model`` on one image of ``input_shape`` (C, H, W)."""
    rows: list[LayerRow] = []
    leaves = [(name, module) for name, module in model.named_modules() if not list(module.named_children())]
    originals = {}
    for name, module in leaves:
        originals[name] = module.forward

        def traced(x: Any, name: str = name, module: Module = module) -> Any:
            y = originals[name](x)
            parameters = sum(int(p.data.size) for p in module.parameters())
            rows.append(LayerRow(name, type(module).__name__, tuple(y.shape[1:]), parameters, _flops(module, x, y)))
            return y

        module.forward = traced  # an instance attribute shadows the class's forward for this run only
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model.forward(to_device(np.zeros((1, *input_shape), dtype=np.float32)))
    finally:
        for _, module in leaves:
            del module.forward
        model.train(was_training)
    return rows


def format_summary(title: str, rows: list[LayerRow], total_parameters: int) -> str:
    """The summary as an aligned text table with totals."""
    lines = [title, f"{'layer':<28} {'type':<16} {'output shape':<16} {'parameters':>12} {'FLOPs':>14}"]
    lines.append("-" * len(lines[-1]))
    for row in rows:
        shape = "x".join(str(s) for s in row.output_shape)
        lines.append(f"{row.name:<28} {row.kind:<16} {shape:<16} {row.parameters:>12,} {row.flops:>14,}")
    lines.append("-" * len(lines[1]))
    flops = sum(row.flops for row in rows)
    lines.append(f"{'total':<62} {total_parameters:>12,} {flops:>14,}")
    lines.append(f"{total_parameters / 1e6:.2f} M parameters, {flops / 1e6:.1f} MFLOPs per image (forward)")
    return "\n".join(lines)
