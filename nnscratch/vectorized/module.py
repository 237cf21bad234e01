"""The module protocol shared by tiers 2 and 3: Parameter, Module, Sequential.

A module is a function with a hand-written derivative:

    y = module.forward(x)              computes the output and keeps what backward needs
    grad_x = module.backward(grad_y)   given dL/dy, adds dL/dparameter into each
                                       ``parameter.grad`` and returns dL/dx

There is no automatic differentiation: every ``backward`` sits next to its ``forward`` so the
two can be read together. A network is modules composed; its backward is its parts'
backwards called in reverse order (the chain rule, spelled out).

Parameters are found by walking the module's attributes (as tinygrad does): a ``Parameter``,
a sub-``Module``, or a list/tuple/dict holding them, in the order they were assigned. No
registration calls are needed. Buffers (state that is saved but not trained, such as
BatchNorm's running statistics) are declared with ``register_buffer``.

Caching for backward can be switched off for inference with ``no_grad()``, which the
trainers use in ``evaluate`` and ``predict``: nothing is kept, so memory stays flat.

Rules every layer follows are written once, in ``layer_rules.py``: ``__init_subclass__`` wraps
the ``forward`` and ``backward`` of every subclass so that integer input is cast to float, a
second backward without a new forward is an error, and so is a gradient of the wrong shape.

Hooks (``hooks.py``) look inside without changing a layer: ``register_forward_pre_hook``,
``register_forward_hook``, ``register_backward_pre_hook`` and ``register_backward_hook`` call a
function around every forward or backward of the module, with PyTorch's arguments.

``state_dict()`` holds the parameters and buffers. A module's state that is neither, such as
the position of Dropout's mask generator, is its ``extra_state()``; ``extra_state_dict()``
collects it over the tree, so a checkpoint of any network carries every dropout stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..common.backend import get_array_module, to_device
from ..common.state import state_problems
from .grad_mode import grad_enabled, no_grad  # noqa: F401  (no_grad: imported from here by the tiers)
from .hooks import ModuleHooks, RemovableHandle, add_hook
from .layer_rules import checked_backward, checked_forward

DEFAULT_FLOAT_DTYPE = "float32"  # what every layer builds its parameters in


class Parameter:
    """A trainable array ``data`` and the gradient ``grad`` (same shape) that backward adds into."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.grad = get_array_module(data).zeros_like(data)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    def zero_grad(self) -> None:
        self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class of every layer and network in tiers 2 and 3. See the module docstring."""

    training: bool = True
    # False when nothing upstream wants dL/dx, as for a first layer whose input is the data:
    # a layer may then skip that product and return None (autograd makes the same saving for
    # inputs that don't require grad). Layers that ignore it simply return dL/dx anyway.
    needs_input_grad: bool = True
    # set by the wrappers of forward and backward (see ``__init_subclass__``)
    _output_shape: tuple[int, ...] | None = None
    _cache_used: bool = False
    _hooks: ModuleHooks | None = None  # None until a hook is registered (see hooks.py)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap each ``forward`` and ``backward`` a subclass defines with the rules of the module
        docstring, so that every layer follows them without repeating them."""
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = checked_forward(vars(cls)["forward"])
        if "backward" in vars(cls):
            cls.backward = checked_backward(vars(cls)["backward"])

    def forward(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def backward(self, grad_out: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define backward()")

    def __call__(self, x: Any) -> Any:
        return self.forward(x)

    def flops(self, input_shape: tuple[int, ...]) -> int:
        """Forward FLOPs for one sample of ``input_shape`` (no batch axis), a multiply-add counting 2.

        A layer (a module without sub-modules) counts its own and must override this. A module
        built of others sums theirs, each at the shape that reaches it, found by running one
        sample through (``leaves.trace_layers``); what it computes outside its layers (a
        residual addition) is not counted.
        """
        if not any(True for _ in self.named_children()):
            raise NotImplementedError(f"{type(self).__name__} does not define flops(input_shape)")
        from .leaves import trace_layers  # leaves.py builds on this file

        return sum(call.module.flops(call.input_shape) for call in trace_layers(self, input_shape))

    def torch_equivalent(self) -> tuple[str, dict[str, Any]] | None:
        """The PyTorch module computing what this one computes, as data: (class name, keyword arguments).

        The name is a class of ``torch.nn`` (``("Conv2d", {"in_channels": 3, ...})``) or, where
        torch.nn has none, one of the twins ``nnscratch.interop.torch`` writes. Sub-modules are
        converted on their own and attached under the same names, so parameter names match.
        None (the default): no equivalent. The library never imports torch for this.
        """
        return None

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """Write this module's evaluation-mode forward into an ONNX graph; the name of its output.

        ``graph`` is ``nnscratch.interop.onnx.OnnxGraph``; ``x`` names the input value, shaped as
        ``forward``'s input (batch axis first). A layer adds its nodes with ``graph.node(op_type,
        inputs, **attributes)`` and its weights with ``graph.parameter(name, array)``; a module
        built of others writes each child with ``graph.add(child_name, child, value)``. The
        default: this module has no ONNX form, a ValueError naming it and where it sits.
        """
        raise ValueError(
            f"export_onnx: {type(self).__name__} ({graph.where()}) has no ONNX form: "
            "it does not define onnx_nodes(graph, x)"
        )

    # ------------------------------------------------------------------ hooks (see hooks.py)

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward; inputs: ``(x,)``. It may return a new x."""
        return add_hook(self, "forward_pre", hook)

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; inputs: ``(x,)``, output: y.
        It may return a new y (same shape: the layer's backward is unchanged)."""
        return add_hook(self, "forward", hook)

    def register_backward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` before every backward; grad_output: ``(dL/dy,)``. It may
        return a new dL/dy. (PyTorch's ``register_full_backward_pre_hook``.)"""
        return add_hook(self, "backward_pre", hook)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` after every backward: ``(dL/dx,)`` (dL/dx None
        when the layer skipped it) and ``(dL/dy,)``. It may return a new dL/dx, which the layer
        before receives. (PyTorch's ``register_full_backward_hook``.)"""
        return add_hook(self, "backward", hook)

    # ------------------------------------------------------------------ the backward cache

    def _save_for_backward(self, *values: Any) -> None:
        """Keep ``values`` for one backward, unless inside ``no_grad()`` (then keep nothing)."""
        self._cache = values if grad_enabled() else None
        self._cache_used = False

    def _saved(self) -> tuple:
        """What forward kept; a clear error when there is nothing to differentiate."""
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward() "
                "(or after a forward inside no_grad(), which keeps nothing for backward)"
            )
        if self._cache_used:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called a second time after one forward(): a backward uses up "
                "what its forward kept (as PyTorch's 'Trying to backward through the graph a second time'); "
                "run forward() again first"
            )
        return cache

    def _float_dtype(self) -> Any:
        """The dtype integer input is cast to: the first parameter's, or the library's default float."""
        parameters = self.parameters()
        return parameters[0].dtype if parameters else DEFAULT_FLOAT_DTYPE

    # ------------------------------------------------------------------ walking the tree

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute paths, in assignment order."""
        for name, value in _public_attributes(self):
            for path, item in _walk(name, value):
                if isinstance(item, Module):
                    yield path, item

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> list[Module]:
        return [module for _, module in self.named_modules()]

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every Parameter below this module, named by attribute path (``"layers.0.weight"``).

        Stable order: attribute assignment order, depth first. A Parameter shared by two
        modules is listed once.
        """
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in _public_attributes(module):
                for path, item in _walk(name, value):
                    if isinstance(item, Parameter) and id(item) not in seen:
                        seen.add(id(item))
                        yield (f"{prefix}.{path}" if prefix else path), item

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def register_buffer(self, name: str, value: Any) -> None:
        """Attach ``value`` as saved-but-not-trained state (e.g. running statistics)."""
        if "_buffer_names" not in vars(self):
            self._buffer_names: list[str] = []
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        setattr(self, name, value)

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        for prefix, module in self.named_modules():
            for name in vars(module).get("_buffer_names", []):
                yield (f"{prefix}.{name}" if prefix else name), getattr(module, name)

    # ------------------------------------------------------------------ modes and gradients

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) or, with ``mode=False``, evaluation mode."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.zero_grad()

    def to(self, dtype: Any = None) -> Module:
        """Move every parameter and buffer to the active backend, optionally as ``dtype``.

        Call it before creating the optimizer (whose state is built from the parameters).
        """
        for parameter in self.parameters():
            parameter.data = to_device(parameter.data, dtype)
            parameter.grad = get_array_module(parameter.data).zeros_like(parameter.data)
        for module in self.modules():
            for name in vars(module).get("_buffer_names", []):
                value = getattr(module, name)
                floating = get_array_module(value).issubdtype(value.dtype, get_array_module(value).floating)
                setattr(module, name, to_device(value, dtype if floating else None))
        return self

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """Every parameter and buffer by name: ``{"0.weight": array, "1.running_mean": array, ...}``."""
        state = {name: parameter.data for name, parameter in self.named_parameters()}
        state.update(self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy arrays from ``state`` into this module's parameters and buffers (in place).

        With ``strict`` (the default), missing, unexpected and mis-shaped keys are all
        reported in one ValueError, by name and shape, and nothing is changed.
        """
        own = self.state_dict()
        problems = state_problems(own, state, strict)
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + " | ".join(problems))
        for name, array in own.items():
            if name in state:
                array[...] = to_device(state[name], array.dtype)

    # ------------------------------------------------------------------ extra state

    def extra_state(self) -> Any:
        """This module's own state that is neither a parameter nor a buffer, as plain values
        (numbers, strings, lists, dicts), for checkpoints; None (the default) when it has none.

        Dropout returns the position of its mask generator, so that a resumed run draws the
        masks the uninterrupted run would have drawn. A module that overrides this overrides
        ``load_extra_state`` too.
        """
        return None

    def load_extra_state(self, state: Any) -> None:
        """Restore what ``extra_state()`` returned (checking it before changing anything)."""
        raise ValueError(f"{type(self).__name__} keeps no extra state, got {state!r}")

    def extra_state_dict(self) -> dict[str, Any]:
        """``{module path: extra_state()}`` for every module in the tree that keeps extra state,
        e.g. ``{"3": {"seed": ..., "generator": ...}}`` for a Dropout at position 3."""
        return {name: module.extra_state() for name, module in self.named_modules() if _has_extra_state(module)}

    def load_extra_state_dict(self, states: dict[str, Any]) -> None:
        """Restore an ``extra_state_dict()``: the same modules must keep extra state (a ValueError
        names the missing and unexpected ones); if one module refuses its state, none is changed."""
        own = {name: module for name, module in self.named_modules() if _has_extra_state(module)}
        problems = state_problems(dict.fromkeys(own), states)
        if problems:
            raise ValueError(f"{type(self).__name__}.load_extra_state_dict: " + " | ".join(problems))
        before = self.extra_state_dict()
        try:
            for name, module in own.items():
                module.load_extra_state(states[name])
        except Exception:
            for name, module in own.items():
                module.load_extra_state(before[name])
            raise

    # ------------------------------------------------------------------ display

    def extra_repr(self) -> str:
        """Constructor arguments to show in ``repr`` (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            lines += [f"  ({name}): " + repr(child).replace("\n", "\n  ")]
        return "\n".join(lines + [")"])


def _has_extra_state(module: Module) -> bool:
    return type(module).extra_state is not Module.extra_state


def _public_attributes(module: Module) -> Iterator[tuple[str, Any]]:
    """Attributes in assignment order, skipping private ones (caches, buffer bookkeeping)."""
    return ((name, value) for name, value in vars(module).items() if not name.startswith("_"))


def _walk(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """Modules and Parameters held by an attribute: the value itself, or inside lists/tuples/dicts.

    Does not descend into a Module: its own attributes are walked when its turn comes.
    """
    if isinstance(value, (Module, Parameter)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(f"{name}.{index}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(f"{name}.{key}", item)


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse (the chain rule).

    Children are named by position, as in PyTorch: ``"0.weight"``, ``"1.running_mean"``.
    """

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def torch_equivalent(self) -> tuple[str, dict[str, Any]]:
        return "Sequential", {}

    def onnx_nodes(self, graph: Any, x: str) -> str:
        for name, layer in self.named_children():
            x = graph.add(name, layer, x)
        return x

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for index, layer in enumerate(self.layers):
            yield str(index), layer

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: Any) -> Any:
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)
