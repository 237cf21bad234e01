"""PyTorch modules -> nnscratch modules holding the same weights, so a learner can step through the backward.

``nnscratch.interop.torch.from_torch(module)`` calls ``convert`` here. It walks the PyTorch tree
and looks up each module's class name in ``CONVERTERS``:

- layers nnscratch has (``Conv2d``, ``Linear``, ``BatchNorm2d``, the activations ...): built with
  the same settings, then given a copy of the module's ``state_dict()`` (weights and running
  statistics, in the module's dtype);
- containers (``Sequential``) and blocks: built from their converted children. The blocks are
  the twins ``to_torch`` writes (so ``from_torch(to_torch(model))`` is ``model`` again) and
  torchvision's ``BasicBlock`` (conv1, bn1, relu, conv2, bn2, downsample), which is nnscratch's
  ``ResidualBlock`` under other names: ``downsample`` becomes ``shortcut``, and its one ``relu``,
  used twice in its forward, becomes two ReLU modules (each keeps what its own backward needs).

Classes are recognised by name; a twin must be the very class ``to_torch`` writes. A setting
nnscratch does not implement (a convolution padding by reflection, ``ceil_mode``, a BatchNorm without
running statistics, bfloat16 weights, an ``AdaptiveAvgPool2d`` to an output size other than 1) makes its
layer unsupported, like a class nnscratch lacks: every such module is listed, by path, in one
TypeError, before anything is returned. Children of a ``Sequential`` are named by position in
nnscratch (``"0.weight"``), as they are in PyTorch unless the Sequential was given names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common.backend import to_device
from ..convolutional.blocks import ConvNeXtBlock, MBConvBlock, ResidualBlock
from ..convolutional.conv_transpose import ConvTranspose2D
from ..convolutional.modules import Conv2D, DepthwiseConv2D, SqueezeExcite
from ..convolutional.normalization import BatchNorm2D, GroupNorm, LayerNorm2D
from ..convolutional.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from ..convolutional.skip import ConcatSkip
from ..vectorized.activations import GELU, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Tanh
from ..vectorized.batchnorm import BatchNorm1D
from ..vectorized.layernorm import LayerNorm
from ..vectorized.module import Module, Parameter, Sequential
from ..vectorized.modules import Dropout, Flatten, Identity, Linear


class Unsupported(Exception):
    """A PyTorch module that has no nnscratch equivalent; the message says which setting, if one."""


class _Walk:
    """One conversion: the problems found so far, and the conversion of a module's children by name."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def module(self, torch_module: Any, path: str) -> Module:
        """``torch_module`` converted; on a problem, the problem noted and an Identity standing in, so that
        the walk goes on and every unsupported module is reported at once."""
        name = type(torch_module).__name__
        converter = CONVERTERS.get(name)
        try:
            if converter is None:
                raise Unsupported("no nnscratch equivalent")
            return converter(torch_module, lambda child: self.module(getattr(torch_module, child), f"{path}.{child}"))
        except (Unsupported, AttributeError) as reason:
            # AttributeError: a class of a known name (BasicBlock ...) without the sub-modules that name promises
            self.problems.append(f"{path.removeprefix('.') or 'the model'} ({name}: {reason})")
            return Identity()


def convert(torch_module: Any) -> Module:
    """The nnscratch module computing what ``torch_module`` computes, with a copy of its weights and
    buffers, in its training mode; a TypeError listing every module that cannot be converted."""
    walk = _Walk()
    model = walk.module(torch_module, "")
    if walk.problems:
        raise TypeError(
            f"from_torch: cannot convert {'; '.join(walk.problems)}. Supported: {', '.join(sorted(CONVERTERS))}"
        )
    return model.train(torch_module.training)


# ----------------------------------------------------------------------------- layers


def _with_weights(layer: Module, torch_module: Any) -> Module:
    """``layer`` in the dtype of ``torch_module``'s floating tensors, holding a copy of its state_dict()."""
    state = {name: _as_numpy(name, tensor) for name, tensor in torch_module.state_dict().items()}
    floating = [array.dtype for array in state.values() if array.dtype.kind == "f"]
    if floating:
        layer.to(floating[0])
    layer.load_state_dict(state)
    return layer


def _as_numpy(name: str, tensor: Any) -> Any:
    try:
        return tensor.detach().cpu().numpy()
    except TypeError:  # bfloat16 and the other dtypes NumPy has none of
        raise Unsupported(f"{name} is {tensor.dtype}, which NumPy cannot hold: convert with .float() first") from None


def _require(torch_module: Any, **expected: Any) -> None:
    """Unsupported, naming the first setting of ``torch_module`` that differs from ``expected``
    (a pair of equal numbers counts as that number: torch keeps ``dilation=1`` as given, 1 or (1, 1))."""
    for setting, value in expected.items():
        actual = getattr(torch_module, setting)
        if actual != value and actual != (value, value):
            raise Unsupported(f"{setting}={actual!r}, nnscratch has only {setting}={value!r}")


def _conv(conv: Any, child: Callable) -> Module:
    """Conv2d: a Conv2D, or a DepthwiseConv2D when there is one group per channel and one filter each."""
    _require(conv, padding_mode="zeros")
    if isinstance(conv.padding, str):
        raise Unsupported(f"padding={conv.padding!r}: give the padding in pixels")
    geometry = {"stride": conv.stride, "padding": conv.padding, "bias": conv.bias is not None}
    if conv.groups == conv.in_channels == conv.out_channels:
        return _with_weights(
            DepthwiseConv2D(conv.in_channels, conv.kernel_size, **geometry, dilation=conv.dilation), conv
        )
    built = Conv2D(
        conv.in_channels, conv.out_channels, conv.kernel_size, **geometry, dilation=conv.dilation, groups=conv.groups
    )
    return _with_weights(built, conv)


def _conv_transpose(conv: Any, child: Callable) -> Module:
    _require(conv, padding_mode="zeros")
    built = ConvTranspose2D(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.output_padding,
        bias=conv.bias is not None,
        dilation=conv.dilation,
        groups=conv.groups,
    )
    return _with_weights(built, conv)


def _group_norm(norm: Any, child: Callable) -> Module:
    _require(norm, affine=True)
    return _with_weights(GroupNorm(norm.num_groups, norm.num_channels, eps=norm.eps), norm)


def _layer_norm(norm: Any, child: Callable) -> Module:
    """LayerNorm over the last dimension only (nnscratch's LayerNorm), with its weight and bias."""
    if len(norm.normalized_shape) != 1:
        raise Unsupported(f"normalized_shape={tuple(norm.normalized_shape)}: nnscratch normalises the last axis only")
    if not norm.elementwise_affine or norm.bias is None:
        raise Unsupported("elementwise_affine=False or bias=False: nnscratch's LayerNorm has both weight and bias")
    return _with_weights(LayerNorm(norm.normalized_shape[0], eps=norm.eps), norm)


def _batch_norm(layer: type[Module]) -> Callable:
    def build(norm: Any, child: Callable) -> Module:
        _require(norm, affine=True, track_running_stats=True)
        if norm.momentum is None:
            raise Unsupported("momentum=None (a cumulative average): nnscratch keeps an exponential one")
        return _with_weights(layer(norm.num_features, eps=norm.eps, momentum=norm.momentum), norm)

    return build


def _pool(layer: type[Module], **expected: Any) -> Callable:
    def build(pool: Any, child: Callable) -> Module:
        _require(pool, ceil_mode=False, **expected)
        return layer(pool.kernel_size, stride=pool.stride, padding=pool.padding)

    return build


def _adaptive_avg_pool(pool: Any, child: Callable) -> Module:
    """AdaptiveAvgPool2d(1), how torchvision's ResNet ends: the mean of each channel, (N, C, 1, 1)."""
    if pool.output_size not in (1, (1, 1)):
        raise Unsupported(f"output_size={pool.output_size!r}, nnscratch has only output_size=1, a global average pool")
    return GlobalAvgPool2D(keepdims=True)


def _flatten(flatten: Any, child: Callable) -> Module:
    _require(flatten, start_dim=1, end_dim=-1)
    return Flatten()


def _along_axis(layer: type[Module]) -> Callable:
    """Softmax, LogSoftmax: the same layer along the same axis."""

    def build(torch_module: Any, child: Callable) -> Module:
        if torch_module.dim is None:
            raise Unsupported("dim=None: give the axis")
        return layer(axis=torch_module.dim)

    return build


def _plain(layer: type[Module]) -> Callable:
    """A module without settings or weights (ReLU, Identity ...)."""
    return lambda torch_module, child: layer()


# ----------------------------------------------------------------------------- containers and blocks


def _twin(build: Callable) -> Callable:
    """``build`` for a twin of ``interop.torch``, refusing another class that happens to have its name."""

    def checked(block: Any, child: Callable) -> Module:
        from .torch import twins  # torch.py imports this file: the twins are looked up when one is met

        if type(block) is not twins()[type(block).__name__]:
            raise Unsupported("a class of that name, but not the twin nnscratch.interop.torch writes")
        return build(block, child)

    return checked


def _assembled(block: Module, children: dict[str, Module]) -> Module:
    """``block`` with its sub-modules replaced by ``children`` (converted, weights included). The block's
    constructor only set its own attributes; the layers it built are thrown away."""
    for name, child in children.items():
        setattr(block, name, child)  # an attribute that exists keeps its place: parameter order is unchanged
    return block


def _sequential(sequential: Any, child: Callable) -> Module:
    return Sequential(*(child(name) for name, _ in sequential.named_children()))


def _residual_block(block: Any, child: Callable) -> Module:
    """nnscratch's own twin (conv1 bn1 relu1 conv2 bn2 shortcut relu_out)."""
    names = ("conv1", "bn1", "relu1", "conv2", "bn2", "shortcut", "relu_out")
    built = ResidualBlock(block.conv1.in_channels, block.conv1.out_channels, stride=block.conv1.stride[0])
    return _assembled(built, {name: child(name) for name in names})


def _basic_block(block: Any, child: Callable) -> Module:
    """torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)), downsample None
    for the identity. The same computation as ResidualBlock's, under other names."""
    built = ResidualBlock(block.conv1.in_channels, block.conv1.out_channels, stride=block.conv1.stride[0])
    shortcut = Identity() if block.downsample is None else child("downsample")
    children = {"conv1": child("conv1"), "bn1": child("bn1"), "relu1": child("relu")}
    children |= {"conv2": child("conv2"), "bn2": child("bn2"), "shortcut": shortcut, "relu_out": child("relu")}
    return _assembled(built, children)


def _mbconv_block(block: Any, child: Callable) -> Module:
    first = block.depthwise[0] if block.expand is None else block.expand[0]
    stride = block.depthwise[0].stride[0]
    built = MBConvBlock(first.in_channels, block.project[0].out_channels, 1, stride, expand_ratio=1, use_se=False)
    children = {name: child(name) for name in ("depthwise", "project")}
    children |= {name: None if getattr(block, name) is None else child(name) for name in ("expand", "se")}
    built = _assembled(built, children)
    built.use_residual = block.use_residual
    return built


def _convnext_block(block: Any, child: Callable) -> Module:
    channels = block.dwconv.in_channels
    built = ConvNeXtBlock(channels, kernel_size=1, expansion=1, layer_scale_init=None)
    built = _assembled(built, {name: child(name) for name in ("dwconv", "norm", "pwconv1", "act", "pwconv2")})
    if block.gamma is not None:
        built.gamma = Parameter(to_device(_as_numpy("gamma", block.gamma)))
    return built


def _squeeze_excite(block: Any, child: Callable) -> Module:
    built = SqueezeExcite(block.reduce.in_channels, block.reduce.out_channels)
    return _assembled(built, {name: child(name) for name in ("pool", "reduce", "activation", "expand", "gate")})


# torch class name -> build(torch module, child) where child(name) converts the sub-module ``name``
CONVERTERS: dict[str, Callable[[Any, Callable[[str], Module]], Module]] = {
    "Sequential": _sequential,
    "Conv2d": _conv,
    "ConvTranspose2d": _conv_transpose,
    "Linear": lambda linear, child: _with_weights(
        Linear(linear.in_features, linear.out_features, bias=linear.bias is not None), linear
    ),
    "BatchNorm1d": _batch_norm(BatchNorm1D),
    "BatchNorm2d": _batch_norm(BatchNorm2D),
    "GroupNorm": _group_norm,
    "LayerNorm": _layer_norm,
    "MaxPool2d": _pool(MaxPool2D, dilation=1, return_indices=False),
    "AvgPool2d": _pool(AvgPool2D, count_include_pad=True, divisor_override=None),
    "AdaptiveAvgPool2d": _adaptive_avg_pool,
    "Flatten": _flatten,
    "Dropout": lambda dropout, child: Dropout(dropout.p),
    "Identity": _plain(Identity),
    "ReLU": _plain(ReLU),
    "ReLU6": _plain(ReLU6),
    "LeakyReLU": lambda relu, child: LeakyReLU(relu.negative_slope),
    "Tanh": _plain(Tanh),
    "Sigmoid": _plain(Sigmoid),
    "SiLU": _plain(SiLU),
    "GELU": lambda gelu, child: GELU(gelu.approximate),
    "Softmax": _along_axis(Softmax),
    "LogSoftmax": _along_axis(LogSoftmax),
    "BasicBlock": _basic_block,
    # the twins of nnscratch.interop.torch
    "LayerNorm2d": _twin(lambda norm, child: _with_weights(LayerNorm2D(norm.weight.shape[0], eps=norm.eps), norm)),
    "GlobalAvgPool2d": _twin(_plain(GlobalAvgPool2D)),
    "SqueezeExcite": _twin(_squeeze_excite),
    "ResidualBlock": _twin(_residual_block),
    "MBConvBlock": _twin(_mbconv_block),
    "ConvNeXtBlock": _twin(_convnext_block),
    "ConcatSkip": _twin(lambda skip, child: ConcatSkip(skip.channels, child("inner"))),
}
