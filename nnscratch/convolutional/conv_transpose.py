"""``ConvTranspose2D``: the transposed convolution, Conv2D's algorithm run backwards.

A ``Conv2D`` maps x (N, C, H, W) to y (N, F, H', W') by a linear map, and its backward applies
that map's transpose (adjoint) to dL/dy: dL/dx = col2im(W^T @ dY). The transposed convolution
*is* that transpose, used as a layer in its own right (the learnable upsampling of decoders
and GANs: Zeiler et al. 2010, Dumoulin & Visin 2016). So its two halves are Conv2D's two,
swapped:

    ConvTranspose2D forward  = Conv2D backward:  cols = W^T @ x, then col2im    (scatter)
    ConvTranspose2D backward = Conv2D forward:   im2col of dY, then W @ cols     (gather)

With the same weight W (C_in, F/g, kh, kw), stride, padding and dilation, this layer computes
exactly the dL/dx a ``Conv2D`` from F to C_in channels would, for dL/dy = x: for any x and y,
<conv(x), y> = <x, conv_transpose(y)> (the tests check this identity).

Each input pixel spreads a kh x kw patch of weights onto the output, sh and sw pixels apart,
and the padding is cropped off afterwards; so sizes grow rather than shrink:

    H_out = (H - 1)*sh - 2*ph + dh*(kh - 1) + 1 + oph        (likewise W_out)

Several input sizes of a strided Conv2D give the same H', so its transpose cannot know which
H to go back to: ``output_padding`` (oph, opw), less than the stride or the dilation, adds
that many rows and columns at the bottom and right.
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module
from ..common.checks import check_int
from ..vectorized.initialization import default_parameters
from ..vectorized.module import Module
from ..vectorized.per_channel import per_channel
from .modules import by_group, check_groups, col2im, im2col
from .windows import as_pair, check_images, kernel_extent, pad_images, unpad_images, window_geometry


class ConvTranspose2D(Module):
    """The transposed 2-D convolution (see the module docstring), as ``torch.nn.ConvTranspose2d``.

    x: (N, C_in, H, W) -> y: (N, F, H_out, W_out), H_out as in the module docstring.
    weight: (C_in, F/g, kh, kw) (PyTorch's layout: input channels first), bias: (F,), both drawn
    from U(-1/sqrt(F/g*kh*kw), 1/sqrt(F/g*kh*kw)) as PyTorch does. ``kernel_size``, ``stride``,
    ``padding``, ``output_padding`` and ``dilation``: an int or an (height, width) pair;
    ``groups`` divides C_in and F.

    Forward (Conv2D's backward), per group, with x laid out as rows (C_in, N*H*W):

        cols = W^T @ x                   (F*kh*kw, N*H*W): each input pixel's patch of outputs
        y = col2im(cols) onto the full (N, F, Hf, Wf), Hf = (H - 1)*sh + dh*(kh - 1) + 1,
            grown by output_padding, then cropped by padding; plus the bias

    Backward (Conv2D's forward): dY padded back to the full size, then

        cols = im2col(dY)                (F*kh*kw, N*H*W): the patch of dY each input pixel fed
        dL/dx = W @ cols                 dL/dW = x @ cols^T          dL/db = dY summed over n, h, w
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        bias: bool = True,
        seed: int | None = None,
        *,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
    ) -> None:
        self.in_channels = check_int("ConvTranspose2D", "in_channels", in_channels)
        self.out_channels = check_int("ConvTranspose2D", "out_channels", out_channels)
        self.kernel_size, self.stride, self.padding = window_geometry("ConvTranspose2D", kernel_size, stride, padding)
        self.dilation = as_pair(dilation, "dilation", "ConvTranspose2D", minimum=1)
        self.output_padding = as_pair(output_padding, "output_padding", "ConvTranspose2D", minimum=0)
        if any(extra >= max(s, d) for extra, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True)):
            raise ValueError(
                f"ConvTranspose2D: output_padding {self.output_padding} must be smaller than the stride "
                f"{self.stride} or the dilation {self.dilation}"
            )
        self.groups = check_groups("ConvTranspose2D", groups, in_channels, out_channels)
        weight_shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.weight, self.bias = default_parameters(weight_shape, bias, seed, bias_size=out_channels)

    def extra_repr(self) -> str:
        options = "" if self.output_padding == (0, 0) else f", output_padding={self.output_padding}"
        options += "" if self.dilation == (1, 1) else f", dilation={self.dilation}"
        options += "" if self.groups == 1 else f", groups={self.groups}"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}{options}"
        )

    def owner(self) -> str:
        """How the layer introduces itself in errors: ``ConvTranspose2D(in_channels=3)``."""
        return f"ConvTranspose2D(in_channels={self.in_channels})"

    def full_size(self, input_shape: tuple[int, ...]) -> tuple[int, int]:
        """(Hf, Wf): the canvas col2im fills from an (N, C_in, H, W) input, before output padding and cropping."""
        (height, width), (sh, sw) = input_shape[2:], self.stride
        span_h, span_w = kernel_extent(self.kernel_size, self.dilation)
        return (height - 1) * sh + span_h, (width - 1) * sw + span_w

    def output_size(self, input_shape: tuple[int, ...]) -> tuple[int, int]:
        """(H_out, W_out) for an (N, C_in, H, W) input; a ValueError naming the layer if the padding leaves nothing."""
        full = self.full_size(input_shape)
        out = tuple(f + extra - 2 * p for f, extra, p in zip(full, self.output_padding, self.padding, strict=True))
        if min(out) < 1:
            raise ValueError(
                f"{self.owner()} got input of spatial size {tuple(input_shape[2:])}: padding {self.padding} "
                f"crops all of its output ({full[0]}, {full[1]}) away"
            )
        return out

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 * F/g * kh * kw per input value (each spreads a patch of products), plus 1 per output for the bias."""
        (kh, kw), per_input = self.kernel_size, self.out_channels // self.groups
        products = 2 * per_input * kh * kw * math.prod(input_shape)
        bias = 0 if self.bias is None else self.out_channels * math.prod(self.output_size((1, *input_shape)))
        return products + bias

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "ConvTranspose2d", {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "groups": self.groups,
            "bias": self.bias is not None,
            "dilation": self.dilation,
        }

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """ONNX's ConvTranspose: the same weight layout (C_in, F/g, kh, kw) and the same size rule,
        H_out = s*(H - 1) + output_padding + d*(k - 1) + 1 - pad_top - pad_bottom, with the output
        padding added at the bottom and right before the pads crop, as ``forward`` does."""
        geometry = {
            **graph.window(self),
            "dilations": list(self.dilation),
            "group": self.groups,
            "output_padding": list(self.output_padding),
        }
        return graph.node("ConvTranspose", [x, *graph.weight_and_bias(self)], **geometry)

    def forward(self, x: Any) -> Any:
        """Conv2D's backward as a layer: W^T @ x, col2im onto the full canvas, grow, crop, add the bias."""
        check_images(self.owner(), x, self.in_channels)
        self.output_size(x.shape)
        xp = get_array_module(x)
        rows = x.transpose(1, 0, 2, 3).reshape(self.in_channels, -1)  # (C_in, N*H*W)
        weight_matrix = by_group(self.weight.data.reshape(self.in_channels, -1), self.groups)  # (g, C_in/g, F/g*kh*kw)
        cols = (weight_matrix.swapaxes(1, 2) @ by_group(rows, self.groups)).reshape(-1, rows.shape[1])
        full_shape = (x.shape[0], self.out_channels, *self.full_size(x.shape))
        full = col2im(cols, full_shape, self.kernel_size, self.stride, self.dilation)  # (N, F, Hf, Wf)
        if self.output_padding != (0, 0):  # rows and columns no input pixel reaches: zeros
            (full_h, full_w), (extra_h, extra_w) = full_shape[2:], self.output_padding
            grown = xp.zeros((*full_shape[:2], full_h + extra_h, full_w + extra_w), dtype=x.dtype)
            grown[:, :, :full_h, :full_w] = full
            full = grown
        y = xp.ascontiguousarray(unpad_images(full, self.padding))
        if self.bias is not None:
            y += per_channel(self.bias.data, y.shape)
        self._save_for_backward(rows, x.shape, full_shape)
        return y

    def backward(self, grad_out: Any) -> Any:
        """Conv2D's forward as this layer's backward: im2col of dY, then W @ cols and x @ cols^T."""
        rows, x_shape, full_shape = self._saved()
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        # undo the crop (pad back) and the growth (slice off): dY on the full canvas, (N, F, Hf, Wf)
        grad_full = pad_images(grad_out, self.padding)[:, :, : full_shape[2], : full_shape[3]]
        grad_cols = by_group(im2col(grad_full, self.kernel_size, self.stride, self.dilation), self.groups)
        # dW = x @ cols^T, computed as (cols @ x^T)^T: the operand order BLAS runs faster, as in Conv2D
        grad_weight = (grad_cols @ by_group(rows, self.groups).swapaxes(1, 2)).swapaxes(1, 2)
        self.weight.grad += grad_weight.reshape(self.weight.shape)
        if not self.needs_input_grad:
            return None
        weight_matrix = by_group(self.weight.data.reshape(self.in_channels, -1), self.groups)
        grad_rows = (weight_matrix @ grad_cols).reshape(self.in_channels, x_shape[0], *x_shape[2:])
        return get_array_module(grad_out).ascontiguousarray(grad_rows.transpose(1, 0, 2, 3))
