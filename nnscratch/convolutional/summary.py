"""``nnscratch summary ARCH``: every layer of a model with its output shape, parameters, FLOPs and route.

The layers are found by running one image through the model and noting each leaf module
(a module without sub-modules) as it computes (``vectorized.leaves.trace_layers``), so the
table follows the order of the forward pass, blocks included. Each layer counts its own
forward FLOPs for one image (``Module.flops``, a multiply-add counting 2):

    Conv2D           2 * C * kh * kw * F * H' * W'   (+ F * H' * W' for the bias)
    DepthwiseConv2D  2 * kh * kw * C * H' * W'       (+ C * H' * W')
    Linear           2 * in * out                    (+ out)
    MaxPool/AvgPool  kh * kw per output value;  global pooling: one per input value
    BatchNorm, LayerNorm: 2 per value (scale and shift, with the statistics folded in)
    activations, dropout: 1 per value;  Flatten, Identity: 0

A layer that does not count its FLOPs is an error, not a guess. Additions of residual
connections and the gating product inside squeeze-excite are not layers and are not counted
(they are a small fraction). The ``algorithm`` column is the route each convolution and pool
took (``last_algorithm``: ``convolutional/algorithms/``), for this input.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vectorized.leaves import trace_layers
from ..vectorized.module import Module


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    flops: int
    algorithm: str = ""


def summarize(model: Module, input_shape: tuple[int, int, int]) -> list[LayerRow]:
    """The rows of the summary table for ``model`` on one image of ``input_shape`` (C, H, W)."""
    rows = []
    for call in trace_layers(model, input_shape):
        try:
            flops = call.module.flops(call.input_shape)
        except NotImplementedError as error:
            raise NotImplementedError(f"summary: layer {call.name!r}: {error}: its FLOPs cannot be counted") from None
        parameters = sum(int(p.data.size) for p in call.module.parameters())
        algorithm = getattr(call.module, "last_algorithm", None) or ""
        rows.append(LayerRow(call.name, type(call.module).__name__, call.output_shape, parameters, flops, algorithm))
    return rows


def format_summary(title: str, rows: list[LayerRow], total_parameters: int) -> str:
    """The summary as an aligned text table with totals."""
    header = f"{'layer':<28} {'type':<16} {'output shape':<16} {'parameters':>12} {'FLOPs':>14}  algorithm"
    lines = [title, header, "-" * len(header)]
    for row in rows:
        shape = "x".join(str(s) for s in row.output_shape)
        line = f"{row.name:<28} {row.kind:<16} {shape:<16} {row.parameters:>12,} {row.flops:>14,}  {row.algorithm}"
        lines.append(line.rstrip())
    lines.append("-" * len(header))
    flops = sum(row.flops for row in rows)
    lines.append(f"{'total':<62} {total_parameters:>12,} {flops:>14,}")
    lines.append(f"{total_parameters / 1e6:.2f} M parameters, {flops / 1e6:.1f} MFLOPs per image (forward)")
    return "\n".join(lines)
