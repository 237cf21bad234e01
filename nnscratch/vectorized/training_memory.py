"""How much memory one training step holds, measured on the real layers rather than by a formula per layer.

A training step (forward -> loss -> backward -> optimizer step) holds, at its fullest:

    parameters          every Parameter's ``data``
    gradients           every Parameter's ``grad`` (allocated with the parameter, kept between steps)
    optimizer state     e.g. SGD's momentum buffer (one per parameter), Adam's two moments
    kept for backward   what each forward keeps with ``_save_for_backward``: inputs, masks, columns
    workspace           the temporaries of the layer being computed: an im2col slice, Winograd
                        tiles, the gradient arriving and the one leaving. Only one layer runs at a
                        time, so the step's peak adds the *largest* layer's workspace, not their sum.

How each is found (``measure_training_memory``):

- *kept*: one forward of a random batch of ``batch_size`` in training mode, then the bytes of
  the arrays each module's cache refers to. A view counts as the array it is a view of (that
  is what stays alive); an array two modules keep counts once, for the first of the layers
  in forward order, then of the blocks around them; an array of a parameter counts as a
  parameter, not an activation. So a new layer, or a route that keeps something else, is
  measured as it is, with nothing to update.
- *workspace*: during that forward and one backward, each layer's call is watched with
  ``tracemalloc`` (NumPy reports its arrays to it): the most memory allocated during the call
  beyond what was held when it began. Host memory only: on the GPU it is not measured (None).
- *optimizer state*: the optimizer is built over a small stand-in parameter and takes one
  step; the bytes of the arrays in its ``state_dict()`` per byte of that parameter, times the
  model's parameter bytes. So Lookahead's slow weights or a new optimizer count as they are.

The model is left as it was: gradients, running statistics, dropout streams and caches are
put back after the measurement.
"""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..common.backend import current_device, get_array_module, to_device
from .module import Module, Parameter

STAND_IN_SIZE = 64  # elements of the parameter an optimizer is measured on
# what a forward leaves on a module for its backward (module.py, layer_rules.py): put back afterwards
FORWARD_STATE = ("_cache", "_cache_used", "_output_shape")


@dataclass
class LayerMemory:
    """One layer's memory in a training step, in bytes: ``kept`` by its forward for backward, and
    ``workspace``, the most its forward or backward allocates beyond what is held when it starts
    (None where it cannot be measured: on the GPU)."""

    kept: int
    workspace: int | None


@dataclass
class TrainingMemory:
    """What one training step holds, in bytes, for ``batch_size`` samples. ``layers``: by layer name,
    in forward order; ``kept_by_blocks``: what modules that are not layers keep (a ConvNeXt block's
    branch, squeeze-excite's input and gate)."""

    batch_size: int
    dtype: str
    layers: dict[str, LayerMemory]
    kept_by_blocks: int
    parameters: int
    gradients: int
    optimizer_state: int

    @property
    def kept(self) -> int:
        return sum(layer.kept for layer in self.layers.values()) + self.kept_by_blocks

    @property
    def workspace(self) -> tuple[str, int] | None:
        """(the layer with the largest workspace, its bytes); None when workspaces were not measured."""
        measured = [(name, layer.workspace) for name, layer in self.layers.items() if layer.workspace is not None]
        return max(measured, key=lambda item: item[1]) if measured else None

    @property
    def total(self) -> int:
        """The estimated peak: everything held, plus the largest layer's workspace."""
        workspace = self.workspace
        held = self.kept + self.parameters + self.gradients + self.optimizer_state
        return held + (workspace[1] if workspace else 0)


def measure_training_memory(
    model: Module,
    input_shape: tuple[int, ...],
    batch_size: int,
    make_optimizer: Callable[[list[Parameter]], Any] | None = None,
) -> TrainingMemory:
    """The memory of one training step of ``model`` on batches of ``batch_size`` samples of
    ``input_shape`` (no batch axis), with the optimizer ``make_optimizer(parameters)`` builds (None:
    no optimizer state). The method is in the module docstring; the model is left unchanged."""
    parameters = model.parameters()
    dtype = model._float_dtype()
    rng = np.random.default_rng(0)
    x = to_device(rng.standard_normal((batch_size, *input_shape)), dtype)
    with _model_kept_as_it_was(model), _watched_layers(model) as workspaces:
        y = model.forward(x)
        model.backward(get_array_module(y).ones_like(y) / y.size)
        kept, kept_by_blocks = _kept_bytes(model, list(workspaces), parameters)
        layers = {name: LayerMemory(kept.get(name, 0), workspace) for name, workspace in workspaces.items()}
    return TrainingMemory(
        batch_size,
        str(np.dtype(dtype)),
        layers,
        kept_by_blocks,
        parameters=sum(int(p.data.nbytes) for p in parameters),
        gradients=sum(int(p.grad.nbytes) for p in parameters),
        optimizer_state=optimizer_state_bytes(make_optimizer, parameters) if make_optimizer else 0,
    )


def optimizer_state_bytes(make_optimizer: Callable[[list[Parameter]], Any], parameters: list[Parameter]) -> int:
    """Bytes of the state ``make_optimizer(parameters)`` keeps once it has stepped, measured on a
    stand-in parameter of the same dtype and scaled to ``parameters``' bytes."""
    if not parameters:
        return 0
    stand_in = Parameter(to_device(np.ones(STAND_IN_SIZE), parameters[0].dtype))
    stand_in.grad.fill(1)  # a zero gradient could let an optimizer skip creating its state
    optimizer = make_optimizer([stand_in])
    optimizer.step()
    per_byte = sum(int(array.nbytes) for array in _arrays(optimizer.state_dict())) / stand_in.data.nbytes
    return round(per_byte * sum(int(p.data.nbytes) for p in parameters))


def _kept_bytes(model: Module, layer_order: list[str], parameters: list[Parameter]) -> tuple[dict[str, int], int]:
    """({layer name: bytes its cache keeps alive}, bytes kept by the other modules): each buffer
    counted once, for its first keeper (the layers in forward order, then the other modules);
    parameters' own arrays not at all."""
    counted = {id(array) for p in parameters for array in (p.data, p.grad)}
    modules = dict(model.named_modules())
    order = layer_order + [name for name in modules if name not in layer_order]
    kept = {}
    for name in order:
        kept[name] = 0
        for array in _arrays(vars(modules[name]).get("_cache")):  # the cache ``_save_for_backward`` set
            owner = _owner(array)
            if id(owner) not in counted:
                counted.add(id(owner))
                kept[name] += int(owner.nbytes)
    blocks = sum(bytes_ for name, bytes_ in kept.items() if name not in layer_order)
    return {name: kept[name] for name in layer_order}, blocks


def _owner(array: Any) -> Any:
    """The array that owns ``array``'s memory: a view keeps the whole of its base alive."""
    while getattr(array.base, "nbytes", None) is not None:
        array = array.base
    return array


def _arrays(value: Any) -> Iterator[Any]:
    """The arrays (NumPy or CuPy) inside ``value``, looking through tuples, lists and dicts."""
    if hasattr(value, "nbytes") and hasattr(value, "shape"):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)


@contextlib.contextmanager
def _watched_layers(model: Module) -> Iterator[dict[str, int | None]]:
    """Inside: every layer's forward and backward report ``{layer name: largest workspace}`` (in the
    order the layers are first called), or None for each on the GPU, where tracemalloc sees nothing.

    A pre-hook notes what is held and resets tracemalloc's peak; the hook after the call takes the
    peak above that (module.py's hooks: nothing of the layer is wrapped or replaced)."""
    workspaces: dict[str, int | None] = {}
    held_at_start: dict[str, int] = {}
    on_host = current_device() == "cpu"

    def starting(name: str) -> Callable:
        def hook(_module: Module, *_arguments: Any) -> None:
            if on_host:
                held_at_start[name] = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()

        return hook

    def finished(name: str) -> Callable:
        def hook(_module: Module, *_arguments: Any) -> None:
            workspace = tracemalloc.get_traced_memory()[1] - held_at_start[name] if on_host else None
            workspaces[name] = None if workspace is None else max(workspaces.get(name) or 0, workspace)

        return hook

    handles = []
    for name, module in model.named_modules():
        if not list(module.named_children()):  # a layer
            handles += [
                module.register_forward_pre_hook(starting(name)),
                module.register_forward_hook(finished(name)),
                module.register_backward_pre_hook(starting(name)),
                module.register_backward_hook(finished(name)),
            ]
    was_tracing = tracemalloc.is_tracing()
    if on_host and not was_tracing:
        tracemalloc.start()
    try:
        yield workspaces
    finally:
        if on_host and not was_tracing:
            tracemalloc.stop()
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def _model_kept_as_it_was(model: Module) -> Iterator[None]:
    """Training mode inside, with fresh gradients; afterwards the gradients, buffers (running
    statistics), extra state (dropout streams), caches and mode are what they were."""
    gradients = [(p, p.grad) for p in model.parameters()]
    buffers = {name: get_array_module(value).array(value, copy=True) for name, value in model.named_buffers()}
    extra_state = model.extra_state_dict()
    caches = [(module, dict(vars(module))) for module in model.modules()]
    was_training = model.training
    for parameter, grad in gradients:
        parameter.grad = get_array_module(grad).zeros_like(grad)
    model.train()
    try:
        yield
    finally:
        for parameter, grad in gradients:
            parameter.grad = grad
        model.load_state_dict(buffers, strict=False)
        model.load_extra_state_dict(extra_state)
        for module, attributes in caches:
            for key in FORWARD_STATE:
                if key in attributes:
                    setattr(module, key, attributes[key])
                else:
                    vars(module).pop(key, None)
        model.train(was_training)
