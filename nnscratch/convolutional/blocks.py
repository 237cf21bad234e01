"""The blocks modern CNNs are stacked from: a few layers on a main path, plus a shortcut.

- ``ResidualBlock``: ResNet's basic block (He et al. 2016, "Deep Residual Learning").
- ``MBConvBlock``: the inverted residual of MobileNetV2 (Sandler et al. 2018) with
  squeeze-and-excitation, as EfficientNet uses it (Tan & Le 2019); without SE and with ReLU6
  it is the EfficientNet-Lite variant.
- ``ConvNeXtBlock``: ConvNeXt's block (Liu et al. 2022, "A ConvNet for the 2020s").

Every block's backward is its forward read backwards: the parts' backwards in reverse order.
Where the input also skips ahead (the residual connection y = f(x) + x), x reaches y along
two paths, so dL/dx is the sum of the gradients along each:

    dL/dx = f.backward(dL/dy) + dL/dy        (or + shortcut.backward(dL/dy) with a projection)

Sizes and options are constructor arguments; the architectures (ResNet18, EfficientNet-Lite0,
ConvNeXt-Tiny) are built from these by choosing them.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import xp
from ..common.checks import check_int
from ..vectorized.per_channel import per_channel
from .modules import (
    GELU,
    BatchNorm2D,
    Conv2D,
    DepthwiseConv2D,
    Identity,
    LayerNorm2D,
    Module,
    Parameter,
    ReLU,
    Sequential,
    SqueezeExcite,
    make_activation,
)
from .windows import check_images


class ResidualBlock(Module):
    """ResNet basic block: two 3x3 convolutions and a shortcut.

        main      = conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN
        shortcut  = identity, or conv1x1(stride) -> BN when the stride or the channel count changes
        y         = ReLU(main(x) + shortcut(x))

    x: (N, in_channels, H, W) -> y: (N, out_channels, H', W'), H' = (H - 1) // stride + 1.
    The convolutions have no bias (the BatchNorm after each has one), as in torchvision.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        self.in_channels = check_int("ResidualBlock", "in_channels", in_channels)
        self.out_channels = check_int("ResidualBlock", "out_channels", out_channels)
        self.stride = check_int("ResidualBlock", "stride", stride)
        self.conv1 = Conv2D(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2D(out_channels)
        self.relu1 = ReLU()
        self.conv2 = Conv2D(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2D(out_channels)
        if stride != 1 or in_channels != out_channels:
            # a 1x1 projection makes the shortcut the same shape as the main path
            self.shortcut = Sequential(
                Conv2D(in_channels, out_channels, 1, stride=stride, bias=False), BatchNorm2D(out_channels)
            )
        else:
            self.shortcut = Identity()
        self.relu_out = ReLU()

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "ResidualBlock", {}  # written in ``interop.torch``, from this docstring

    def onnx_nodes(self, graph: Any, x: str) -> str:
        main = graph.chain(self, ("conv1", "bn1", "relu1", "conv2", "bn2"), x)
        total = graph.node("Add", [main, graph.add("shortcut", self.shortcut, x)])
        return graph.add("relu_out", self.relu_out, total)

    def forward(self, x: Any) -> Any:
        check_images(f"ResidualBlock(in_channels={self.in_channels})", x, self.in_channels)
        main = self.bn2.forward(self.conv2.forward(self.relu1.forward(self.bn1.forward(self.conv1.forward(x)))))
        return self.relu_out.forward(main + self.shortcut.forward(x))

    def backward(self, grad_out: Any) -> Any:
        grad_sum = self.relu_out.backward(grad_out)
        # the sum hands the same gradient to both paths; their input gradients add up
        grad_main = self.bn2.backward(grad_sum)
        grad_main = self.conv2.backward(grad_main)
        grad_main = self.relu1.backward(grad_main)
        grad_main = self.bn1.backward(grad_main)
        grad_main = self.conv1.backward(grad_main)
        return grad_main + self.shortcut.backward(grad_sum)


class MBConvBlock(Module):
    """Mobile inverted bottleneck: widen with a 1x1 conv, filter each channel, squeeze back.

        expand     1x1 conv C -> C*expand_ratio, BN, act       (left out when expand_ratio == 1)
        depthwise  kxk depthwise conv (stride, padding k//2), BN, act
        se         SqueezeExcite(C*expand_ratio, max(1, int(C * se_ratio)))   (when use_se)
        project    1x1 conv -> out_channels, BN                 (no activation: a linear bottleneck)
        y = x + project(...)  when stride == 1 and in_channels == out_channels, else project(...)

    x: (N, in_channels, H, W) -> y: (N, out_channels, H', W'), H' = (H - 1) // stride + 1.
    ``activation``: "silu" as in EfficientNet-B0, "relu6" as in EfficientNet-Lite (which also
    drops SE: ``use_se=False``), or any name ``make_activation`` knows. Convolutions have no
    bias (each is followed by BatchNorm).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        expand_ratio: int = 6,
        use_se: bool = True,
        se_ratio: float = 0.25,
        activation: str = "silu",
    ) -> None:
        self.in_channels = check_int("MBConvBlock", "in_channels", in_channels)
        self.out_channels = check_int("MBConvBlock", "out_channels", out_channels)
        check_int("MBConvBlock", "kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"MBConvBlock: kernel_size must be odd (padding k//2 keeps the size), got {kernel_size}")
        self.stride = check_int("MBConvBlock", "stride", stride)
        check_int("MBConvBlock", "expand_ratio", expand_ratio)
        if not 0.0 < se_ratio <= 1.0:
            raise ValueError(f"MBConvBlock: se_ratio must be in (0, 1], got {se_ratio}")
        hidden = in_channels * expand_ratio
        self.expand = None
        if expand_ratio != 1:
            self.expand = Sequential(
                Conv2D(in_channels, hidden, 1, bias=False), BatchNorm2D(hidden), make_activation(activation)
            )
        self.depthwise = Sequential(
            DepthwiseConv2D(hidden, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            BatchNorm2D(hidden),
            make_activation(activation),
        )
        self.se = SqueezeExcite(hidden, max(1, int(in_channels * se_ratio))) if use_se else None
        self.project = Sequential(Conv2D(hidden, out_channels, 1, bias=False), BatchNorm2D(out_channels))
        self.use_residual = stride == 1 and in_channels == out_channels

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}, residual={self.use_residual}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "MBConvBlock", {"use_residual": self.use_residual}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        h = graph.chain(self, ("expand", "depthwise", "se", "project"), x)
        return graph.node("Add", [h, x]) if self.use_residual else h

    def forward(self, x: Any) -> Any:
        check_images(f"MBConvBlock(in_channels={self.in_channels})", x, self.in_channels)
        h = x if self.expand is None else self.expand.forward(x)
        h = self.depthwise.forward(h)
        if self.se is not None:
            h = self.se.forward(h)
        h = self.project.forward(h)
        return h + x if self.use_residual else h

    def backward(self, grad_out: Any) -> Any:
        grad = self.project.backward(grad_out)
        if self.se is not None:
            grad = self.se.backward(grad)
        grad = self.depthwise.backward(grad)
        if self.expand is not None:
            grad = self.expand.backward(grad)
        # with the residual, x also reached the output directly: that path adds dL/dy itself
        return grad + grad_out if self.use_residual else grad


class ConvNeXtBlock(Module):
    """ConvNeXt block: a 7x7 depthwise conv, LayerNorm, and an inverted-bottleneck MLP, with layer scale.

        h = pwconv2(GELU(pwconv1(norm(dwconv(x)))))      dwconv: kxk depthwise, padding k//2, bias
                                                         norm: LayerNorm2D over the channels
                                                         pwconv1/2: 1x1 convs C -> expansion*C -> C
        y = x + gamma * h                                gamma: (C,) per-channel layer scale

    x: (N, C, H, W) -> y: (N, C, H, W). ``layer_scale_init`` is gamma's starting value (1e-6
    in the paper, which starts every block close to the identity); None or 0 leaves gamma
    out. Stochastic depth is not part of the block.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        expansion: int = 4,
        layer_scale_init: float | None = 1e-6,
        eps: float = 1e-6,
    ) -> None:
        self.channels = check_int("ConvNeXtBlock", "channels", channels)
        check_int("ConvNeXtBlock", "kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"ConvNeXtBlock: kernel_size must be odd (padding k//2 keeps the size), got {kernel_size}")
        check_int("ConvNeXtBlock", "expansion", expansion)
        self.dwconv = DepthwiseConv2D(channels, kernel_size, padding=kernel_size // 2)
        self.norm = LayerNorm2D(channels, eps=eps)
        self.pwconv1 = Conv2D(channels, expansion * channels, 1)
        self.act = GELU()
        self.pwconv2 = Conv2D(expansion * channels, channels, 1)
        self.gamma = Parameter(xp.full(channels, layer_scale_init, dtype=xp.float32)) if layer_scale_init else None

    def extra_repr(self) -> str:
        return f"{self.channels}, layer_scale={self.gamma is not None}"

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "ConvNeXtBlock", {"channels": self.channels, "layer_scale": self.gamma is not None}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        h = graph.chain(self, ("dwconv", "norm", "pwconv1", "act", "pwconv2"), x)
        if self.gamma is not None:
            h = graph.node("Mul", [h, graph.per_channel("gamma", self.gamma.data)])
        return graph.node("Add", [x, h])

    def forward(self, x: Any) -> Any:
        check_images(f"ConvNeXtBlock(channels={self.channels})", x, self.channels)
        h = self.pwconv2.forward(self.act.forward(self.pwconv1.forward(self.norm.forward(self.dwconv.forward(x)))))
        if self.gamma is None:
            self._save_for_backward(None)
            return x + h
        self._save_for_backward(h)
        return x + h * per_channel(self.gamma.data, h.shape)

    def backward(self, grad_out: Any) -> Any:
        (h,) = self._saved()
        grad_h = grad_out
        if self.gamma is not None:
            self.gamma.grad += (grad_out * h).sum(axis=(0, 2, 3))
            grad_h = grad_out * per_channel(self.gamma.data, grad_out.shape)
        grad = self.pwconv2.backward(grad_h)
        grad = self.act.backward(grad)
        grad = self.pwconv1.backward(grad)
        grad = self.norm.backward(grad)
        grad = self.dwconv.backward(grad)
        # the residual path carries dL/dy to x unchanged
        return grad + grad_out
