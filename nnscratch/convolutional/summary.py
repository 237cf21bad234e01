"""``nnscratch summary ARCH``: every layer of a model with its output shape, parameters, FLOPs and route.

The layers are found by running one image through the model and noting each leaf module
(a module without sub-modules) as it computes (``vectorized.leaves.trace_layers``), so the
table follows the order of the forward pass, blocks included. Each layer counts its own
forward FLOPs for one image (``Module.flops``, a multiply-add counting 2):

    Conv2D           2 * C/g * kh * kw * F * H' * W' (+ F * H' * W' for the bias; g the groups)
    DepthwiseConv2D  2 * kh * kw * C * H' * W'       (+ C * H' * W'; Conv2D with g = C = F)
    ConvTranspose2D  2 * F/g * kh * kw * C * H * W   (+ F * H_out * W_out: each input spreads a patch)
    Linear           2 * in * out                    (+ out)
    MaxPool/AvgPool  kh * kw per output value;  global pooling: one per input value
    BatchNorm, LayerNorm, GroupNorm: 2 per value (scale and shift, with the statistics folded in)
    activations, dropout: 1 per value;  Flatten, Identity: 0

A layer that does not count its FLOPs is an error, not a guess. Additions of residual
connections and the gating product inside squeeze-excite are not layers and are not counted
(they are a small fraction). The ``algorithm`` column is the route each convolution and pool
took (``last_algorithm``: ``convolutional/algorithms/``), for this input.

Given a ``TrainingMemory`` (``vectorized.training_memory``: measured on the real layers at a
batch size), each row also says what the layer keeps for backward and its workspace, and the
table ends with the memory of one training step: kept activations, parameters, gradients,
optimizer state and the largest layer's workspace, and their sum, the estimated peak.
Every parameter is trainable: nnscratch has no frozen parameters, so there is no frozen column.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vectorized.leaves import trace_layers
from ..vectorized.module import Module
from ..vectorized.training_memory import TrainingMemory

MIB = 2**20


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    flops: int
    algorithm: str = ""
    kept_bytes: int | None = None  # kept by its forward for backward, for the batch of the memory given
    workspace_bytes: int | None = None  # the most its forward or backward allocates beyond what is held


def summarize(model: Module, input_shape: tuple[int, int, int], memory: TrainingMemory | None = None) -> list[LayerRow]:
    """The rows of the summary table for ``model`` on one image of ``input_shape`` (C, H, W), with
    each layer's memory from ``memory`` when it is given (``measure_training_memory``)."""
    rows = []
    for call in trace_layers(model, input_shape):
        try:
            flops = call.module.flops(call.input_shape)
        except NotImplementedError as error:
            raise NotImplementedError(f"summary: layer {call.name!r}: {error}: its FLOPs cannot be counted") from None
        parameters = sum(int(p.data.size) for p in call.module.parameters())
        algorithm = getattr(call.module, "last_algorithm", None) or ""
        row = LayerRow(call.name, type(call.module).__name__, call.output_shape, parameters, flops, algorithm)
        if memory is not None:
            row.kept_bytes, row.workspace_bytes = memory.layers[call.name].kept, memory.layers[call.name].workspace
        rows.append(row)
    return rows


def format_summary(
    title: str, rows: list[LayerRow], total_parameters: int, memory: TrainingMemory | None = None
) -> str:
    """The summary as an aligned text table with totals, and the memory of a training step when given."""
    header = f"{'layer':<28} {'type':<16} {'output shape':<16} {'parameters':>12} {'FLOPs':>14}"
    header += f" {'kept MiB':>9} {'work MiB':>9}  algorithm"
    lines = [title, header, "-" * len(header)]
    for row in rows:
        shape = "x".join(str(s) for s in row.output_shape)
        line = f"{row.name:<28} {row.kind:<16} {shape:<16} {row.parameters:>12,} {row.flops:>14,}"
        line += f" {_mib(row.kept_bytes):>9} {_mib(row.workspace_bytes):>9}  {row.algorithm}"
        lines.append(line.rstrip())
    lines.append("-" * len(header))
    flops = sum(row.flops for row in rows)
    lines.append(f"{'total':<62} {total_parameters:>12,} {flops:>14,}")
    # three significant digits: a 2.6k-parameter autoencoder is not "0.00 M"
    lines.append(f"{total_parameters / 1e6:.3g} M parameters, {flops / 1e6:.3g} MFLOPs per image (forward)")
    lines.append("all parameters are trainable (nnscratch has no frozen parameters)")
    if memory is not None:
        lines += memory_lines(memory)
    return "\n".join(lines)


def memory_lines(memory: TrainingMemory) -> list[str]:
    """The memory of one training step, line by line, ending in the estimated peak."""
    workspace = memory.workspace
    parts = [("kept for backward (activations)", memory.kept)]
    if memory.kept_by_blocks:
        parts.append(("  of which by blocks, not by layers", memory.kept_by_blocks))
    parts += [
        ("parameters", memory.parameters),
        ("gradients", memory.gradients),
        ("optimizer state", memory.optimizer_state),
        (
            f"workspace of the largest layer ({workspace[0]})" if workspace else "workspace (not measured on the GPU)",
            workspace[1] if workspace else None,
        ),
        ("estimated peak of a training step", memory.total),
    ]
    lines = [f"memory of one training step, batch of {memory.batch_size}, {memory.dtype}:"]
    return lines + [f"  {label:<44} {_mib(size):>10} MiB" for label, size in parts]


def _mib(size: int | None) -> str:
    """Bytes as MiB with two decimals; blank when not measured."""
    return "" if size is None else f"{size / MIB:.2f}"
