"""The layers of tier 3, each a forward and its hand-written backward side by side.

Where each concept lives:

- here: ``Conv2D``, with its reference algorithm (``im2col``, one matrix product, ``col2im``),
  the definition as loops (``conv2d_naive``), ``DepthwiseConv2D`` (its ``groups=C`` case) and
  ``SqueezeExcite`` (channel attention);
- ``algorithms/``: the table of routes (``ROUTES``, ``use_algorithm``) and the faster routes,
  one file each (``wide``, ``winograd``, ``banded``, ``depthwise``);
- ``conv_transpose.py``: ``ConvTranspose2D``, Conv2D's algorithm run backwards (col2im forward,
  im2col backward);
- ``windows.py``: padding, output sizes and the sliding-window views every layer shares;
- ``pooling.py``: ``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool2D``;
- ``normalization.py``: ``BatchNorm2D``, ``LayerNorm2D`` (ConvNeXt's channel LayerNorm) and
  ``GroupNorm`` (statistics over groups of channels);
- ``blocks.py``: the residual, MBConv and ConvNeXt blocks built from these;
- ``skip.py``: ``ConcatSkip``, U-Net's skip connection (concatenation along the channels);
- the vectorized tier: the module protocol (``Module``, ``Parameter``, ``Sequential``,
  ``no_grad``), the activations (ReLU, LeakyReLU, ReLU6, Tanh, Sigmoid, SiLU, GELU, Softmax,
  LogSoftmax), ``Dropout``, ``Flatten`` and ``Identity``. They are re-exported here, one implementation
  each, so ``from nnscratch.convolutional.modules import Conv2D, ReLU, Sequential`` finds all.

Images are NCHW: x (N, C, H, W), batch first, then channels, then rows and columns; weights
are shaped as PyTorch's, so they can be copied across.

The convolution (cross-correlation, as every deep-learning library computes it) of x with
F filters W (F, C, kh, kw), stride (sh, sw) and zero padding (ph, pw) is

    y[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, sh*h + i, sw*w + j]

Two options generalise it, as in PyTorch. ``dilation`` (dh, dw) spreads the kernel's taps
apart: x_pad[n, c, sh*h + dh*i, sw*w + dw*j], a wider view for the same weights. ``groups``
g splits the C channels and the F filters into g groups: filter f sees only the C/g channels
of its own group, so W is (F, C/g, kh, kw) and c runs over that group (g = C with F = C is the
depthwise convolution, one filter per channel).

``conv2d_naive`` is exactly this formula as six nested loops. The reference algorithm,
``Conv2D.im2col_forward`` and ``Conv2D.col2im_backward``, computes the same numbers as one matrix product:

1. pad x with zeros;
2. ``im2col``: lay every kh x kw patch out as a column of a matrix ``cols`` (C*kh*kw rows,
   one column per output pixel of every sample);
3. multiply: W reshaped to (F, C*kh*kw) times ``cols`` is every output at once (with groups,
   one such product per group: its F/g filters times the C/g*kh*kw rows of its channels);
4. reshape the (F, N*H'*W') product back to (N, F, H', W').

Backward reverses it: dW = dY @ cols^T and dcols = W^T @ dY are two more matrix products,
and ``col2im`` adds each column of dcols back onto the pixels its patch came from.

Faster routes compute the same numbers another way (Winograd's minimal filtering, row bands,
a wider im2col layout, a depthwise loop without the product); those written for plain taps
step aside for a dilated or grouped layer, which the reference computes. ``Conv2D`` picks
one from ``algorithms.ROUTES``: the first that applies to the layer and pays off, or the one
``algorithm=`` or ``use_algorithm`` names; ``last_algorithm`` says which ran, and
``nnscratch summary`` shows it for every layer.
"""

from __future__ import annotations

import math
from typing import Any

from ..common.backend import get_array_module
from ..common.checks import check_int
from ..vectorized.initialization import default_parameters
from ..vectorized.modules import (
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    LogSoftmax,
    Module,
    Parameter,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    grad_enabled,
    make_activation,
    no_grad,
)
from ..vectorized.per_channel import per_channel
from .algorithms import ROUTES, Route, active_algorithm, check_algorithm
from .normalization import BatchNorm2D, GroupNorm, LayerNorm2D
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .windows import (
    as_pair,
    check_images,
    kernel_extent,
    kernel_offset,
    kernel_positions,
    output_size,
    pad_images,
    sliding_windows,
    unpad_images,
    window_geometry,
)

# ----------------------------------------------------------------------------- the definition


def conv2d_naive(
    x: Any,
    weight: Any,
    bias: Any,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
) -> Any:
    """y[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, first + c, sh*h + dh*i, sw*w + dw*j], by loops.

    x: (N, C, H, W), weight: (F, C/g, kh, kw), bias: (F,) or None -> y: (N, F, H', W'), where
    ``first`` = (f // (F/g)) * C/g is the first channel of filter f's group (0 without groups).
    One multiply-add at a time, in Python: far too slow for real work, it is what every route
    is tested against, on tiny inputs.
    """
    n_samples = x.shape[0]
    filters, group_channels, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    out_h, out_w = output_size("conv2d_naive", x.shape, (kh, kw), stride, padding, dilation)
    x_pad = pad_images(x, padding)
    y = get_array_module(x).zeros((n_samples, filters, out_h, out_w), dtype=x.dtype)
    for n in range(n_samples):
        for f in range(filters):
            first = (f // (filters // groups)) * group_channels
            for h in range(out_h):
                for w in range(out_w):
                    total = 0.0 if bias is None else bias[f]
                    for c in range(group_channels):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[f, c, i, j] * x_pad[n, first + c, sh * h + dh * i, sw * w + dw * j]
                    y[n, f, h, w] = total
    return y


# ----------------------------------------------------------------------------- the reference: im2col, col2im


def im2col(
    padded: Any, kernel_size: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int] = (1, 1)
) -> Any:
    """Every kh x kw patch of a padded batch, as the columns of one matrix.

    padded: (N, C, Hp, Wp) -> cols: (C*kh*kw, N*H'*W'), where

        cols[(c, i, j), (n, h, w)] = padded[n, c, sh*h + dh*i, sw*w + dw*j]

    Row (c, i, j) lines up with ``weight.reshape(F, C*kh*kw)``, so ``weight_matrix @ cols`` is
    the convolution for every sample and pixel at once, shaped (F, N, H', W').
    The patches come from ``sliding_windows`` (a strided view, no copy); the one copy is the
    assignment that lays them out as a matrix.
    """
    xp = get_array_module(padded)
    # (N, C, H', W', kh, kw) -> (C, kh, kw, N, H', W'): the order of the rows and columns of cols
    windows = sliding_windows(padded, kernel_size, stride, dilation).transpose(1, 4, 5, 0, 2, 3)
    c, kh, kw, n, out_h, out_w = windows.shape
    cols = xp.empty((c * kh * kw, n * out_h * out_w), dtype=padded.dtype)
    cols.reshape(windows.shape)[...] = windows
    return cols


def col2im(
    cols: Any,
    padded_shape: tuple[int, ...],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> Any:
    """The adjoint of ``im2col``: add every column back onto the pixels its patch came from.

    cols: (C*kh*kw, N*H'*W'), laid out as ``im2col`` makes it -> (N, C, Hp, Wp) = ``padded_shape``.

        out[n, c, sh*h + dh*i, sw*w + dw*j] += cols[(c, i, j), (n, h, w)]   for every c, i, j, n, h, w

    Patches overlap when the stride is smaller than the kernel, so one pixel collects several
    terms: they are added one kernel position (i, j) at a time, each a strided slice of all
    samples and pixels (kh*kw vectorised steps, no per-pixel loop, no ``add.at``). Within one
    position no two terms land on the same pixel, so each step is a plain ``+=``.
    """
    n, c, height, width = padded_shape
    (span_h, span_w), (sh, sw) = kernel_extent(kernel_size, dilation), stride
    out_size = ((height - span_h) // sh + 1, (width - span_w) // sw + 1)
    out = get_array_module(cols).zeros(padded_shape, dtype=cols.dtype)
    blocks = cols.reshape(c, *kernel_size, n, *out_size)
    for i, j in kernel_positions(kernel_size):
        out[kernel_offset(i, j, stride, out_size, dilation)] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return out


def by_group(matrix: Any, groups: int) -> Any:
    """A (rows, M) matrix as (groups, rows/groups, M), a view: the rows of each group are consecutive.

    ``cols`` rows run over (c, i, j), channel first, so the C/g channels of one group are one
    block of rows; a weight (F, C/g, kh, kw) reshaped to (F, C/g*kh*kw) has its groups' filters
    in consecutive blocks too. One batched product over the groups is then the grouped convolution.
    """
    return matrix.reshape(groups, -1, matrix.shape[-1])


def check_groups(owner: str, groups: Any, in_channels: int, out_channels: int) -> int:
    """``groups`` if it is a positive int dividing both channel counts, else a ValueError naming ``owner``."""
    groups = check_int(owner, "groups", groups)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{owner}: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
        )
    return groups


# ----------------------------------------------------------------------------- Conv2D


class Conv2D(Module):
    """2-D convolution, computed by one of ``ROUTES`` (see the module docstring).

    x: (N, C, H, W) -> y: (N, F, H', W'), H' = (H + 2ph - dh*(kh - 1) - 1) // sh + 1 (likewise W').
    weight: (F, C/g, kh, kw), bias: (F,), both drawn as in ``torch.nn.Conv2d``:
    U(-1/sqrt(C/g*kh*kw), 1/sqrt(C/g*kh*kw)), from ``new_generator(seed)``.
    ``kernel_size``, ``stride``, ``padding`` and ``dilation``: an int or an (height, width) pair;
    ``groups`` g divides C and F (see the module docstring).

    Backward, with dY = dL/dy reshaped to (F, N*H'*W') and cols = im2col(x_pad), per group:

        dL/dW = dY @ cols^T        dL/db = dY summed over n, h, w
        dL/dx = col2im(W^T @ dY), cropped back from the padded size

    ``algorithm``: "auto" (the default: the first route of ``ROUTES`` that applies and pays
    off) or a route's name, "im2col" being the reference; ``use_algorithm`` overrides it for a
    whole model. ``last_algorithm`` is the route the latest forward took, and backward follows
    it. ``needs_input_grad = False`` skips dL/dx (backward returns None): a network's first
    layer, whose input is the data, saves that work.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        seed: int | None = None,
        algorithm: str = "auto",
        *,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
    ) -> None:
        name = type(self).__name__
        self.in_channels = check_int(name, "in_channels", in_channels)
        self.out_channels = check_int(name, "out_channels", out_channels)
        self.kernel_size, self.stride, self.padding = window_geometry(name, kernel_size, stride, padding)
        self.dilation = as_pair(dilation, "dilation", name, minimum=1)
        self.groups = check_groups(name, groups, in_channels, out_channels)
        self.algorithm = check_algorithm(name, algorithm)
        self.last_algorithm: str | None = None
        weight_shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight, self.bias = default_parameters(weight_shape, bias, seed)

    def extra_repr(self) -> str:
        options = "" if self.dilation == (1, 1) else f", dilation={self.dilation}"
        options += "" if self.groups == 1 else f", groups={self.groups}"
        options += "" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}{options}"
        )

    def owner(self) -> str:
        """How the layer introduces itself in errors: ``Conv2D(in_channels=3)``."""
        return f"Conv2D(in_channels={self.in_channels})"

    def output_size(self, input_shape: tuple[int, ...]) -> tuple[int, int]:
        """(H', W') for an input of ``input_shape`` (N, C, H, W); a ValueError naming the layer if none fits."""
        return output_size(self.owner(), input_shape, self.kernel_size, self.stride, self.padding, self.dilation)

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 * C/g * kh * kw per output value (whatever the route), plus 1 for the bias."""
        (kh, kw), bias = self.kernel_size, 1 if self.bias is not None else 0
        fan_in = self.in_channels // self.groups * kh * kw
        return (2 * fan_in + bias) * self.out_channels * math.prod(self.output_size((1, *input_shape)))

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "Conv2d", {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "bias": self.bias is not None,
        }

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """ONNX's Conv has the same weight layout (F, C/g, kh, kw), dilation and groups."""
        geometry = {**graph.window(self), "dilations": list(self.dilation), "group": self.groups}
        return graph.node("Conv", [x, *graph.weight_and_bias(self)], **geometry)

    def route(self, input_shape: tuple[int, ...]) -> Route:
        """The route for an input of ``input_shape`` (N, C, H, W): the one named by ``use_algorithm``
        or ``algorithm``, else the first of ``ROUTES`` that applies and pays off."""
        name = active_algorithm(self.algorithm)
        if name == "auto":
            return next(r for r in ROUTES.values() if r.applies(self, input_shape) and r.pays_off(self, input_shape))
        route = ROUTES[name]
        if not route.applies(self, input_shape):
            raise ValueError(
                f"{self.owner()}: algorithm {name!r} needs {route.needs}, and this layer has kernel_size "
                f"{self.kernel_size}, stride {self.stride}, dilation {self.dilation} and groups {self.groups}; "
                "use 'auto' or the reference 'im2col'"
            )
        return route

    def forward(self, x: Any) -> Any:
        check_images(self.owner(), x, self.in_channels)
        self.output_size(x.shape)
        route = self.route(x.shape)
        y, saved = route.forward(self, x)
        self.last_algorithm = route.name
        self._save_for_backward(route, saved)
        return y

    def backward(self, grad_out: Any) -> Any:
        route, saved = self._saved()  # the route forward took, and what it kept
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        return route.backward(self, saved, grad_out)

    # ------------------------------------------------------------------ the reference route, "im2col"

    def im2col_forward(self, x: Any) -> tuple[Any, Any]:
        """The reference forward: pad, im2col, one matrix product per group, back to images, plus the bias.

        x: (N, C, H, W) -> y: (N, F, H', W'), and what ``col2im_backward`` needs: cols and the padded shape.
        """
        xp = get_array_module(x)
        out_h, out_w = self.output_size(x.shape)
        padded = pad_images(x, self.padding)
        cols = im2col(padded, self.kernel_size, self.stride, self.dilation)  # (C*kh*kw, N*H'*W')
        weight_matrix = self.weight.data.reshape(self.out_channels, -1)  # (F, C/g*kh*kw), a view
        # (g, F/g, N*H'*W'): every filter against every patch of its group's channels
        product = by_group(weight_matrix, self.groups) @ by_group(cols, self.groups)
        y = xp.ascontiguousarray(product.reshape(-1, x.shape[0], out_h, out_w).transpose(1, 0, 2, 3))
        if self.bias is not None:
            y += per_channel(self.bias.data, y.shape)
        return y, (cols, padded.shape)

    def col2im_backward(self, saved: Any, grad_out: Any) -> Any:
        """The reference backward: dL/dW = dY @ cols^T into ``weight.grad``; returns dL/dx.

        dY (N, F, H', W') is laid out like the product, (F, N*H'*W'); dL/dcols = W^T @ dY, and
        ``col2im`` adds each column back onto its patch; cropping the padding off gives dL/dx
        (None when ``needs_input_grad`` is False).
        """
        cols, padded_shape = saved
        grad_rows = grad_out.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)  # (F, N*H'*W')
        group_grads = by_group(grad_rows, self.groups)  # (g, F/g, N*H'*W')
        group_patches = by_group(cols, self.groups)  # (g, C/g*kh*kw, N*H'*W')
        # dW = dY @ cols^T per group, computed as (cols @ dY^T)^T: the operand order BLAS runs several times faster
        grad_weight = (group_patches @ group_grads.swapaxes(1, 2)).swapaxes(1, 2)  # (g, F/g, C/g*kh*kw)
        self.weight.grad += grad_weight.reshape(self.weight.shape)
        if not self.needs_input_grad:
            return None
        group_weights = by_group(self.weight.data.reshape(self.out_channels, -1), self.groups)  # (g, F/g, C/g*kh*kw)
        # dcols = W^T @ dY per group; the groups' blocks of rows stacked back: (C*kh*kw, N*H'*W')
        grad_cols = (group_weights.swapaxes(1, 2) @ group_grads).reshape(cols.shape)
        grad_padded = col2im(grad_cols, padded_shape, self.kernel_size, self.stride, self.dilation)
        return unpad_images(grad_padded, self.padding)


# ----------------------------------------------------------------------------- DepthwiseConv2D


class DepthwiseConv2D(Conv2D):
    """Depthwise convolution: each channel convolved with its own kh x kw filter, ``Conv2D`` with groups = C.

    x: (N, C, H, W) -> y: (N, C, H', W'); weight: (C, 1, kh, kw) and bias: (C,), shaped and
    drawn as ``torch.nn.Conv2d(C, C, k, groups=C)`` (fan-in kh*kw). The building block of
    depthwise-separable convolutions (MobileNet, Howard et al. 2017; EfficientNet; ConvNeXt):

        y[n, c, h, w] = b[c] + sum_{i, j} W[c, 0, i, j] * x_pad[n, c, sh*h + dh*i, sw*w + dw*j]

    The math is Conv2D's (the reference route computes it as g = C matrix products of one row
    each); auto takes the ``depthwise`` route (``algorithms/depthwise.py``), which needs no
    matrix product at all. This class only names the case: ``channels`` and its errors.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        seed: int | None = None,
        algorithm: str = "auto",
        *,
        dilation: int | tuple[int, int] = 1,
    ) -> None:
        self.channels = check_int("DepthwiseConv2D", "channels", channels)
        super().__init__(
            channels, channels, kernel_size, stride, padding, bias, seed, algorithm, dilation=dilation, groups=channels
        )

    def extra_repr(self) -> str:
        options = "" if self.dilation == (1, 1) else f", dilation={self.dilation}"
        options += "" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}"
        return (
            f"{self.channels}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"bias={self.bias is not None}{options}"
        )

    def owner(self) -> str:
        return f"DepthwiseConv2D(channels={self.channels})"


# ----------------------------------------------------------------------------- SqueezeExcite


class SqueezeExcite(Module):
    """Squeeze-and-excitation (Hu et al. 2018): rescale each channel by a gate computed from all of them.

    x: (N, C, H, W) -> y: (N, C, H, W), y = x * s with the gate s: (N, C, 1, 1) from

        squeeze  z = mean over (H, W) of x                        (N, C)
        excite   s = sigmoid(expand(silu(reduce(z))))            reduce, expand: 1x1 convs with bias

    ``reduce`` maps C -> ``reduced_channels`` and ``expand`` maps back; SiLU between them as in
    EfficientNet. Its four parameters are the two convs', found by ``parameters()`` and saved in
    ``state_dict`` as ``reduce.weight``, ``reduce.bias``, ``expand.weight``, ``expand.bias``.

    Backward: x reaches y twice, directly and through the gate, and the two gradients add:

        dL/dx = dY * s  +  pool.backward(gate path backward(sum over (H, W) of dY * x))
    """

    def __init__(self, channels: int, reduced_channels: int) -> None:
        self.channels = check_int("SqueezeExcite", "channels", channels)
        self.reduced_channels = check_int("SqueezeExcite", "reduced_channels", reduced_channels)
        self.pool = GlobalAvgPool2D()
        self.reduce = Conv2D(channels, reduced_channels, 1)
        self.activation = SiLU()
        self.expand = Conv2D(reduced_channels, channels, 1)
        self.gate = Sigmoid()

    def extra_repr(self) -> str:
        return f"{self.channels}, reduced_channels={self.reduced_channels}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "SqueezeExcite", {}  # written in ``interop.torch``, from this docstring

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """The forward, with ONNX's GlobalAveragePool as the squeeze: it keeps the (N, C, 1, 1)
        shape the 1x1 convolutions read, where ``pool`` drops the two axes and forward restores them."""
        squeezed = graph.node("GlobalAveragePool", [x])
        return graph.node("Mul", [x, graph.chain(self, ("reduce", "activation", "expand", "gate"), squeezed)])

    def forward(self, x: Any) -> Any:
        check_images(f"SqueezeExcite(channels={self.channels})", x, self.channels)
        squeezed = self.pool.forward(x).reshape(x.shape[0], self.channels, 1, 1)
        scale = self.gate.forward(self.expand.forward(self.activation.forward(self.reduce.forward(squeezed))))
        self._save_for_backward(x, scale)
        return x * scale

    def backward(self, grad_out: Any) -> Any:
        x, scale = self._saved()
        grad_scale = (grad_out * x).sum(axis=(2, 3), keepdims=True)  # (N, C, 1, 1)
        grad_squeezed = self.reduce.backward(
            self.activation.backward(self.expand.backward(self.gate.backward(grad_scale)))
        )
        grad_through_gate = self.pool.backward(grad_squeezed.reshape(x.shape[0], self.channels))
        return grad_out * scale + grad_through_gate


__all__ = [
    "GELU",
    "AvgPool2D",
    "BatchNorm2D",
    "Conv2D",
    "DepthwiseConv2D",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "GroupNorm",
    "Identity",
    "LayerNorm2D",
    "LeakyReLU",
    "LogSoftmax",
    "MaxPool2D",
    "Module",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "SqueezeExcite",
    "Tanh",
    "col2im",
    "conv2d_naive",
    "grad_enabled",
    "im2col",
    "make_activation",
    "no_grad",
]
