"""The layers of tier 3, each a forward and its hand-written backward side by side.

Where each concept lives:

- here: ``Conv2D``, with its reference algorithm (``im2col``, one matrix product, ``col2im``),
  the definition as loops (``conv2d_naive``), and ``SqueezeExcite`` (channel attention);
- ``algorithms/``: the table of routes (``ROUTES``, ``use_algorithm``) and the faster routes,
  one file each (``wide``, ``winograd``, ``banded``);
- ``depthwise.py``: ``DepthwiseConv2D`` (one filter per channel);
- ``windows.py``: padding, output sizes and the sliding-window views every layer shares;
- ``pooling.py``: ``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool2D``;
- ``normalization.py``: ``BatchNorm2D`` and ``LayerNorm2D`` (ConvNeXt's channel LayerNorm);
- ``blocks.py``: the residual, MBConv and ConvNeXt blocks built from these;
- the vectorized tier: the module protocol (``Module``, ``Parameter``, ``Sequential``,
  ``no_grad``), the activations (ReLU, LeakyReLU, ReLU6, Tanh, Sigmoid, SiLU, GELU, Softmax),
  ``Dropout``, ``Flatten`` and ``Identity``. They are re-exported here, one implementation
  each, so ``from nnscratch.convolutional.modules import Conv2D, ReLU, Sequential`` finds all.

Images are NCHW: x (N, C, H, W), batch first, then channels, then rows and columns; weights
are shaped as PyTorch's, so they can be copied across.

The convolution (cross-correlation, as every deep-learning library computes it) of x with
F filters W (F, C, kh, kw), stride (sh, sw) and zero padding (ph, pw) is

    y[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, sh*h + i, sw*w + j]

``conv2d_naive`` is exactly this formula as six nested loops. The reference algorithm,
``Conv2D.im2col_forward`` and ``Conv2D.col2im_backward``, computes the same numbers as one matrix product:

1. pad x with zeros;
2. ``im2col``: lay every kh x kw patch out as a column of a matrix ``cols`` (C*kh*kw rows,
   one column per output pixel of every sample);
3. multiply: W reshaped to (F, C*kh*kw) times ``cols`` is every output at once;
4. reshape the (F, N*H'*W') product back to (N, F, H', W').

Backward reverses it: dW = dY @ cols^T and dcols = W^T @ dY are two more matrix products,
and ``col2im`` adds each column of dcols back onto the pixels its patch came from.

Faster routes compute the same numbers another way (Winograd's minimal filtering, row bands,
a wider im2col layout). ``Conv2D`` picks one from ``algorithms.ROUTES``: the first that applies
to the layer and pays off, or the one ``algorithm=`` or ``use_algorithm`` names; ``last_algorithm``
says which ran, and ``nnscratch summary`` shows it for every layer.
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
from .depthwise import DepthwiseConv2D
from .normalization import BatchNorm2D, LayerNorm2D
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .windows import (
    check_images,
    kernel_offset,
    kernel_positions,
    output_size,
    pad_images,
    sliding_windows,
    unpad_images,
    window_geometry,
)

# ----------------------------------------------------------------------------- the definition


def conv2d_naive(x: Any, weight: Any, bias: Any, stride: tuple[int, int], padding: tuple[int, int]) -> Any:
    """y[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, sh*h + i, sw*w + j], by loops.

    x: (N, C, H, W), weight: (F, C, kh, kw), bias: (F,) or None -> y: (N, F, H', W'). One
    multiply-add at a time, in Python: far too slow for real work, it is what every route is
    tested against, on tiny inputs.
    """
    n_samples, channels = x.shape[:2]
    filters, _, kh, kw = weight.shape
    (sh, sw), (out_h, out_w) = stride, output_size("conv2d_naive", x.shape, (kh, kw), stride, padding)
    x_pad = pad_images(x, padding)
    y = get_array_module(x).zeros((n_samples, filters, out_h, out_w), dtype=x.dtype)
    for n in range(n_samples):
        for f in range(filters):
            for h in range(out_h):
                for w in range(out_w):
                    total = 0.0 if bias is None else bias[f]
                    for c in range(channels):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[f, c, i, j] * x_pad[n, c, sh * h + i, sw * w + j]
                    y[n, f, h, w] = total
    return y


# ----------------------------------------------------------------------------- the reference: im2col, col2im


def im2col(padded: Any, kernel_size: tuple[int, int], stride: tuple[int, int]) -> Any:
    """Every kh x kw patch of a padded batch, as the columns of one matrix.

    padded: (N, C, Hp, Wp) -> cols: (C*kh*kw, N*H'*W'), where

        cols[(c, i, j), (n, h, w)] = padded[n, c, sh*h + i, sw*w + j]

    Row (c, i, j) lines up with ``weight.reshape(F, C*kh*kw)``, so ``weight_matrix @ cols`` is
    the convolution for every sample and pixel at once, shaped (F, N, H', W').
    The patches come from ``sliding_windows`` (a strided view, no copy); the one copy is the
    assignment that lays them out as a matrix.
    """
    xp = get_array_module(padded)
    windows = sliding_windows(padded, kernel_size, stride).transpose(1, 4, 5, 0, 2, 3)  # (C, kh, kw, N, H', W')
    c, kh, kw, n, out_h, out_w = windows.shape
    cols = xp.empty((c * kh * kw, n * out_h * out_w), dtype=padded.dtype)
    cols.reshape(windows.shape)[...] = windows
    return cols


def col2im(cols: Any, padded_shape: tuple[int, ...], kernel_size: tuple[int, int], stride: tuple[int, int]) -> Any:
    """The adjoint of ``im2col``: add every column back onto the pixels its patch came from.

    cols: (C*kh*kw, N*H'*W'), laid out as ``im2col`` makes it -> (N, C, Hp, Wp) = ``padded_shape``.

        out[n, c, sh*h + i, sw*w + j] += cols[(c, i, j), (n, h, w)]   for every c, i, j, n, h, w

    Patches overlap when the stride is smaller than the kernel, so one pixel collects several
    terms: they are added one kernel position (i, j) at a time, each a strided slice of all
    samples and pixels (kh*kw vectorised steps, no per-pixel loop, no ``add.at``). Within one
    position no two terms land on the same pixel, so each step is a plain ``+=``.
    """
    n, c, height, width = padded_shape
    (kh, kw), (sh, sw) = kernel_size, stride
    out_size = ((height - kh) // sh + 1, (width - kw) // sw + 1)
    out = get_array_module(cols).zeros(padded_shape, dtype=cols.dtype)
    blocks = cols.reshape(c, kh, kw, n, *out_size)
    for i, j in kernel_positions(kernel_size):
        out[kernel_offset(i, j, stride, out_size)] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return out


# ----------------------------------------------------------------------------- Conv2D


class Conv2D(Module):
    """2-D convolution, computed by one of ``ROUTES`` (see the module docstring).

    x: (N, C, H, W) -> y: (N, F, H', W'), H' = (H + 2ph - kh) // sh + 1 (likewise W').
    weight: (F, C, kh, kw), bias: (F,), both drawn as in ``torch.nn.Conv2d``:
    U(-1/sqrt(C*kh*kw), 1/sqrt(C*kh*kw)), from ``new_generator(seed)``.
    ``kernel_size``, ``stride`` and ``padding``: an int or an (height, width) pair.

    Backward, with dY = dL/dy reshaped to (F, N*H'*W') and cols = im2col(x_pad):

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
    ) -> None:
        self.in_channels = check_int("Conv2D", "in_channels", in_channels)
        self.out_channels = check_int("Conv2D", "out_channels", out_channels)
        self.kernel_size, self.stride, self.padding = window_geometry("Conv2D", kernel_size, stride, padding)
        self.algorithm = check_algorithm("Conv2D", algorithm)
        self.last_algorithm: str | None = None
        self.weight, self.bias = default_parameters((out_channels, in_channels, *self.kernel_size), bias, seed)

    def extra_repr(self) -> str:
        algorithm = "" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}{algorithm}"
        )

    def owner(self) -> str:
        """How the layer introduces itself in errors: ``Conv2D(in_channels=3)``."""
        return f"Conv2D(in_channels={self.in_channels})"

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """2 * C * kh * kw per output value (whatever the route), plus 1 for the bias."""
        out_size = output_size(self.owner(), (1, *input_shape), self.kernel_size, self.stride, self.padding)
        (kh, kw), bias = self.kernel_size, 1 if self.bias is not None else 0
        return (2 * self.in_channels * kh * kw + bias) * self.out_channels * math.prod(out_size)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "Conv2d", {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "bias": self.bias is not None,
        }

    def onnx_nodes(self, graph: Any, x: str) -> str:
        return graph.node("Conv", [x, *graph.weight_and_bias(self)], **graph.window(self))

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
                f"{self.kernel_size} and stride {self.stride}; use 'auto' or the reference 'im2col'"
            )
        return route

    def forward(self, x: Any) -> Any:
        check_images(self.owner(), x, self.in_channels)
        output_size(self.owner(), x.shape, self.kernel_size, self.stride, self.padding)
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
        """The reference forward: pad, im2col, one matrix product, back to images, plus the bias.

        x: (N, C, H, W) -> y: (N, F, H', W'), and what ``col2im_backward`` needs: cols and the padded shape.
        """
        xp = get_array_module(x)
        out_h, out_w = output_size(self.owner(), x.shape, self.kernel_size, self.stride, self.padding)
        padded = pad_images(x, self.padding)
        cols = im2col(padded, self.kernel_size, self.stride)  # (C*kh*kw, N*H'*W')
        weight_matrix = self.weight.data.reshape(self.out_channels, -1)  # (F, C*kh*kw), a view
        product = weight_matrix @ cols  # (F, N*H'*W'): every filter against every patch
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
        # dW = dY @ cols^T, computed as (cols @ dY^T)^T: the operand order BLAS runs several times faster
        self.weight.grad += (cols @ grad_rows.T).T.reshape(self.weight.shape)
        if not self.needs_input_grad:
            return None
        weight_matrix = self.weight.data.reshape(self.out_channels, -1)
        grad_cols = weight_matrix.T @ grad_rows  # (C*kh*kw, N*H'*W')
        return unpad_images(col2im(grad_cols, padded_shape, self.kernel_size, self.stride), self.padding)


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
    "Identity",
    "LayerNorm2D",
    "LeakyReLU",
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
