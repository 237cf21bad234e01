"""nnscratch models as ONNX graphs, built with the ``onnx`` library; no PyTorch involved.

    export_onnx(model, "model.onnx")              # an ImageClassifier knows its input shape
    export_onnx(mlp, "mlp.onnx", input_shape=(784,))

Each layer writes its own ONNX form (``Module.onnx_nodes(graph, x) -> y``, next to its forward
in the layer's file), so this file holds no list of layers: it is the ``OnnxGraph`` those
methods write into, and the assembly of the file. A container composes its children with
``graph.add(name, child, x)``, which also keeps the child's path, so that initializers carry
the names of ``model.state_dict()`` (``"3.conv1.weight"``, PyTorch's names) and node names say
which layer made them (``"3.conv1/Conv"``). A module without an ONNX form is a ValueError
naming its class and its path in the model.

The graph is the model in evaluation mode: BatchNorm on its running statistics, Dropout the
identity. The batch dimension is dynamic (``"N"``): one file serves any batch size.

Opset 17: the first in which ``LayerNormalization`` is a standard operator (ConvNeXt's
channel LayerNorm maps onto it), and the oldest that holds every operator used here, so the
file opens in the widest range of runtimes. (Opset 20 added ``Gelu``; GELU is written out
with ``Erf`` or ``Tanh`` instead, which opset 17 has.)

Every exported file passes ``onnx.checker.check_model(full_check=True)``, which also runs
strict shape inference over the graph. onnx is imported the first time a function here runs,
never by importing nnscratch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import __version__
from ..common.backend import get_array_module, to_cpu
from ..vectorized.module import Module, no_grad

OPSET = 17  # see the module docstring
BATCH = "N"  # the name of the dynamic batch dimension
INPUT, OUTPUT = "input", "output"  # the names ONNX Runtime's ``run`` takes and gives


def _onnx() -> Any:
    """The onnx module, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            "nnscratch.interop.onnx needs the onnx package, which is not installed: pip install 'nnscratch[interop]'"
        ) from error
    return onnx


class OnnxGraph:
    """The nodes and initializers of one graph, as the layers' ``onnx_nodes`` add them.

    Value names are strings: a layer receives the name of its input and returns the name of its
    output. ``path`` is the module being written (``"3.conv1"``; ``""`` for the model itself).
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: dict[str, Any] = {}
        self.path = ""
        self._node_names: set[str] = set()

    def where(self) -> str:
        """The module being written, for messages: "at '3.conv1' in the model", or "the model itself"."""
        return f"at {self.path!r} in the model" if self.path else "the model itself"

    def add(self, name: str, module: Module, x: str) -> str:
        """Write ``module``, the child called ``name`` of the module being written, reading value ``x``."""
        outer = self.path
        self.path = f"{outer}.{name}" if outer else name
        try:
            return module.onnx_nodes(self, x)
        finally:
            self.path = outer

    def chain(self, module: Module, names: tuple[str, ...], x: str) -> str:
        """Write the children ``names`` of ``module`` one after another, each reading the last one's
        output; a child that is None (an optional part left out) is skipped."""
        for name in names:
            child = getattr(module, name)
            if child is not None:
                x = self.add(name, child, x)
        return x

    def node(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        """Add one ONNX node of the module being written; returns the name of its (single) output.

        The node and its output are named ``"<path>/<op_type>"`` (plus a counter when a module
        has several nodes of one type), so a graph viewer shows which layer each node came from.
        """
        base = f"{self.path or 'model'}/{op_type}"
        name, count = base, 1
        while name in self._node_names:
            count += 1
            name = f"{base}_{count}"
        self._node_names.add(name)
        self.nodes.append(_onnx().helper.make_node(op_type, inputs, [name], name=name, **attributes))
        return name

    def parameter(self, name: str, array: Any) -> str:
        """An initializer holding the module's ``name`` parameter, buffer or constant (GELU's 0.5,
        ReLU6's 6), in the graph's dtype, under its state_dict name (``"3.conv1.weight"``)."""
        return self._initializer(name, np.asarray(to_cpu(array), dtype=self.dtype))

    def weight_and_bias(self, layer: Module) -> list[str]:
        """The initializers of ``layer.weight`` and, where it has one, ``layer.bias``: the inputs after x
        of Gemm, Conv, BatchNormalization and LayerNormalization."""
        names = [self.parameter("weight", layer.weight.data)]
        if layer.bias is not None:
            names.append(self.parameter("bias", layer.bias.data))
        return names

    @staticmethod
    def window(layer: Module) -> dict[str, list[int]]:
        """The attributes of Conv, MaxPool and AveragePool for ``layer``'s windows; ONNX's pads
        are (top, left, bottom, right), nnscratch's padding is the same on both sides."""
        return {
            "kernel_shape": list(layer.kernel_size),
            "strides": list(layer.stride),
            "pads": [*layer.padding, *layer.padding],
        }

    def per_channel(self, name: str, array: Any) -> str:
        """A (C,) parameter shaped (C, 1, 1), so that it broadcasts over (N, C, H, W) as the layer's does.

        The initializer keeps the parameter's own shape and name; an ``Unsqueeze`` node reshapes it.
        """
        return self.node("Unsqueeze", [self.parameter(name, array), self.integers(f"{name}_axes", [1, 2])])

    def integers(self, name: str, values: list[int]) -> str:
        """An int64 initializer of the module being written: the axes and shapes that operators
        such as Unsqueeze and Reshape take as inputs (in int64 whatever the graph's dtype)."""
        return self._initializer(name, np.asarray(values, dtype=np.int64))

    def _initializer(self, name: str, values: np.ndarray) -> str:
        full_name = f"{self.path}.{name}" if self.path else name
        if full_name not in self.initializers:  # a parameter shared by two layers is stored once
            self.initializers[full_name] = _onnx().numpy_helper.from_array(values, full_name)
        return full_name


def _output_shape(model: Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``model`` gives one zero sample, on the model's device (where its parameters
    are): the graph's output shape, and a check that ``input_shape`` fits the model at all."""
    parameters = model.parameters()
    xp = get_array_module(parameters[0].data) if parameters else np
    with no_grad():
        return tuple(model.forward(xp.zeros((1, *input_shape), dtype=model._float_dtype())).shape)


@contextmanager
def _evaluation_mode(model: Module) -> Iterator[None]:
    """Every module in eval mode for the block, then each back in the mode it was in."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _input_shape(model: Module, input_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
    if input_shape is None:
        raise ValueError(
            f"export_onnx: {type(model).__name__} does not record its input shape; "
            "give input_shape, the shape of one sample without the batch axis, e.g. (784,) or (1, 28, 28)"
        )
    shape = tuple(input_shape)
    if not shape or not all(isinstance(size, (int, np.integer)) and size > 0 for size in shape):
        raise ValueError(f"export_onnx: input_shape must be positive sizes without the batch axis, got {input_shape}")
    return tuple(int(size) for size in shape)


def onnx_model(
    model: Module, input_shape: tuple[int, ...] | None = None, metadata: dict[str, str] | None = None
) -> Any:
    """The ``onnx.ModelProto`` of ``model`` in eval mode, checked (see the module docstring).

    input_shape: one sample's shape, without the batch axis (default: ``model.input_shape``);
    the graph reads ``"input"`` (N, *input_shape) and writes ``"output"`` (N, ...), N dynamic.
    metadata: strings stored in the model's ``metadata_props`` (the CLI records the input
    normalisation there). Float32 models give a float32 graph (float64 ones a float64 graph).
    """
    onnx = _onnx()
    helper = onnx.helper
    shape = _input_shape(model, input_shape)
    graph = OnnxGraph(model._float_dtype())
    with _evaluation_mode(model):
        output_shape = _output_shape(model, shape)
        result = model.onnx_nodes(graph, INPUT)
    graph.nodes.append(helper.make_node("Identity", [result], [OUTPUT], name=OUTPUT))
    element = helper.np_dtype_to_tensor_dtype(graph.dtype)
    graph_proto = helper.make_graph(
        graph.nodes,
        type(model).__name__,
        [helper.make_tensor_value_info(INPUT, element, [BATCH, *shape])],
        [helper.make_tensor_value_info(OUTPUT, element, [BATCH, *output_shape[1:]])],
        list(graph.initializers.values()),
    )
    proto = helper.make_model(
        graph_proto,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="nnscratch",
        producer_version=__version__,
    )
    if metadata:
        helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(
    model: Module,
    path: str | os.PathLike,
    input_shape: tuple[int, ...] | None = None,
    metadata: dict[str, str] | None = None,
) -> Any:
    """Write ``onnx_model(model, input_shape, metadata)`` to ``path``; returns the ModelProto."""
    proto = onnx_model(model, input_shape, metadata)
    _onnx().save(proto, os.fspath(path))
    return proto
