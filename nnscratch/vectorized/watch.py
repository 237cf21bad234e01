"""Training health, measured while training: ``watcher = watch(model, optimizer, every=K)``.

Every K-th training batch (a *sampled step*) the watcher notes, for each leaf layer (a module
without sub-modules, named as in ``model.named_modules()``):

    activation_mean, activation_std   of the layer's output y
    zero_fraction                     mean(y == 0), for the ReLU family (ReLU, ReLU6), else None
    grad_norm                         ||dL/dw|| over the layer's own parameters (as backward left them,
                                      before any clipping), None without parameters
    weight_norm                       ||w|| before the optimizer step
    update_ratio                      ||w_after - w_before|| / ||w_before|| over the step
                                      (None without parameters, or without an optimizer)
    forward_seconds, backward_seconds the layer's own time on that step

and, at the first sampled step of each epoch, a 30-bin histogram of each layer's output. The
loss is kept for every batch. ``records``, ``losses`` and ``histograms`` hold plain Python
values; ``warnings()`` and ``health_table()`` (``health.py``) read them.

Why sampled steps. Reading a value back from a GPU makes the host wait for the device, so the
batches that are not sampled convert nothing: their hooks return after one test of a Python
bool, and their loss stays on the device until ``losses`` is read. On a sampled step every
statistic is brought to the host (``_on_host``), and the device is synchronised around each
layer so that its time is its own. ``DEFAULT_EVERY`` keeps the cost of watching a few percent
of a training step (``benchmarks/watch_overhead.py`` measures it).

The trainers call ``start_batch``, ``after_backward`` and ``after_step`` around each step
(``Trainer(watcher=...)``); a hand-written loop calls them the same way::

    watcher.start_batch(epoch)    logits = model.forward(x); ...; model.backward(grad)
    watcher.after_backward()      optimizer.step()
    watcher.after_step(loss)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..common.atomic_file import write_atomically
from ..common.backend import get_array_module, on_cpu, to_cpu
from .activations import ReLU, ReLU6
from .grad_mode import grad_enabled
from .health import health_table, health_warnings
from .module import Module

DEFAULT_EVERY = 20  # batches between sampled steps: see the module docstring and benchmarks/watch_overhead.py
HISTOGRAM_BINS = 30
ZERO_PRODUCING = (ReLU, ReLU6)  # activations whose exact zeros mean inactive units


def _on_host(value: Any) -> Any:
    """The one place the watcher reads a device value back (a NumPy array); only on sampled steps."""
    return to_cpu(value)


def _host_float(value: Any) -> float:
    return float(_on_host(value))


def _norm(arrays: list[Any]) -> Any:
    """||a_1, ..., a_n||: the L2 norm of all the arrays together, on their device."""
    xp = get_array_module(arrays[0])
    return xp.sqrt(sum((array.astype(xp.float64) ** 2).sum() for array in arrays))


def _synchronize(array: Any) -> None:
    """Wait until the device has computed ``array`` (a GPU runs asynchronously; the CPU needs nothing)."""
    if not on_cpu(array):
        get_array_module(array).cuda.get_current_stream().synchronize()


def watch(model: Module, optimizer: Any = None, every: int | None = None) -> Watcher:
    """A ``Watcher`` of ``model``'s leaf layers, sampling every ``every`` batches (None or 0: ``DEFAULT_EVERY``).

    optimizer: the one stepping ``model``'s parameters; without it there is no update ratio.
    """
    return Watcher(model, optimizer, every)


class Watcher:
    """Hooks on every leaf layer of a model that note its health on sampled steps (module docstring)."""

    def __init__(self, model: Module, optimizer: Any = None, every: int | None = None) -> None:
        every = DEFAULT_EVERY if every in (None, 0) else every
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"watch: every must be a positive number of batches (or None), got {every!r}")
        self.model, self.optimizer, self.every = model, optimizer, every
        self.layers = [(name, module) for name, module in model.named_modules() if not list(module.named_children())]
        self.records: list[dict[str, Any]] = []
        self.histograms: list[dict[str, Any]] = []
        self.step = -1  # the global batch index of the current batch
        self.epoch = 0
        self.sampling = False
        self._device_losses: list[tuple[int, int, Any]] = []  # (step, epoch, loss on the device)
        self._live_units: dict[tuple[int, str], Any] = {}  # (epoch, layer) -> bool per unit: ever non-zero
        self._histogram_steps: dict[int, int] = {}  # epoch -> its first sampled step, which takes histograms
        self._current: dict[str, dict[str, Any]] = {}  # the sampled step's statistics, by layer
        self._weights_before: dict[str, list[Any]] = {}
        self._started: dict[str, float] = {}
        self._handles = [handle for name, module in self.layers for handle in self._add_hooks(name, module)]

    # ------------------------------------------------------------------ the trainer's calls

    def start_batch(self, epoch: int) -> None:
        """A training batch of ``epoch`` (1-based) begins: decide whether it is sampled."""
        self.step += 1
        self.epoch = epoch
        self.sampling = self.step % self.every == 0
        if self.sampling:
            self._histogram_steps.setdefault(epoch, self.step)
            self._current = {name: self._empty_record(name, module) for name, module in self.layers}

    def after_backward(self) -> None:
        """Gradients are in: on a sampled step, note each layer's gradient and weight norms, and
        keep a copy of its weights to measure the optimizer's update."""
        if not self.sampling:
            return
        for name, module in self.layers:
            parameters = module.parameters()
            if parameters:
                record = self._current[name]
                record["grad_norm"] = _host_float(_norm([p.grad for p in parameters]))
                record["weight_norm"] = _host_float(_norm([p.data for p in parameters]))
                if self.optimizer is not None:
                    self._weights_before[name] = [p.data.copy() for p in parameters]

    def after_step(self, loss: Any) -> None:
        """The optimizer has stepped: keep the batch's ``loss`` (on the device); on a sampled step,
        note the update ratios and store the step's records."""
        self._device_losses.append((self.step, self.epoch, loss))
        if not self.sampling:
            return
        for name, before in self._weights_before.items():
            record = self._current[name]
            after = [p.data for p in dict(self.layers)[name].parameters()]
            change = _host_float(_norm([new - old for new, old in zip(after, before, strict=True)]))
            record["update_ratio"] = change / record["weight_norm"] if record["weight_norm"] > 0 else None
        self.records += self._current.values()
        self._current, self._weights_before, self.sampling = {}, {}, False

    def remove(self) -> None:
        """Take the watcher's hooks off the model (what it recorded stays)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ------------------------------------------------------------------ what it recorded

    @property
    def losses(self) -> list[dict[str, Any]]:
        """``{"step", "epoch", "loss"}`` for every batch so far (read back from the device now)."""
        return [{"step": step, "epoch": epoch, "loss": _host_float(loss)} for step, epoch, loss in self._device_losses]

    def dead_unit_fractions(self) -> dict[tuple[int, str], float]:
        """(epoch, layer) -> the fraction of the layer's units (channels or features) that gave
        exactly 0 for every sampled input of that epoch, for the ReLU-family layers."""
        return {key: 1.0 - float(_on_host(live).mean()) for key, live in self._live_units.items()}

    def warnings(self) -> list[str]:
        """Plain-words warnings: dead layers, vanishing or exploding gradients, updates far from ~1e-3."""
        return [text for _, text in health_warnings(self.records, self.dead_unit_fractions())]

    def health_table(self) -> list[dict[str, Any]]:
        """One row per leaf layer: layer, kind, the median of each statistic over the run, warning."""
        return health_table(self.layers, self.records, health_warnings(self.records, self.dead_unit_fractions()))

    def write_jsonl(self, path: str | Path) -> Path:
        """Write every layer record, loss and histogram to ``path`` (atomically), one JSON object a line,
        each with its ``"type"``: "layer", "loss" or "histogram". Returns the path."""
        lines = [{"type": "layer", **record} for record in self.records]
        lines += [{"type": "loss", **loss} for loss in self.losses]
        lines += [{"type": "histogram", **histogram} for histogram in self.histograms]
        text = "".join(json.dumps(line) + "\n" for line in lines)
        return write_atomically(path, lambda stream: stream.write(text.encode()))

    # ------------------------------------------------------------------ the hooks

    def _empty_record(self, name: str, module: Module) -> dict[str, Any]:
        statistics = ("activation_mean", "activation_std", "zero_fraction", "grad_norm", "weight_norm")
        return {
            "step": self.step,
            "epoch": self.epoch,
            "layer": name,
            "kind": type(module).__name__,
            **dict.fromkeys(statistics),
            "update_ratio": None,
            "forward_seconds": None,
            "backward_seconds": None,
        }

    def _add_hooks(self, name: str, module: Module) -> list[Any]:
        def start(_module: Module, values: tuple) -> None:
            if self.sampling and grad_enabled():
                _synchronize(values[0])
                self._started[name] = time.perf_counter()

        def forward_done(_module: Module, _inputs: tuple, output: Any) -> None:
            if self.sampling and grad_enabled():
                _synchronize(output)
                self._current[name]["forward_seconds"] = time.perf_counter() - self._started.pop(name)
                self._note_output(name, module, output)

        def backward_done(_module: Module, grad_input: tuple, grad_output: tuple) -> None:
            if self.sampling:
                _synchronize(grad_output[0] if grad_input[0] is None else grad_input[0])
                self._current[name]["backward_seconds"] = time.perf_counter() - self._started.pop(name)

        return [
            module.register_forward_pre_hook(start),
            module.register_forward_hook(forward_done),
            module.register_backward_pre_hook(start),
            module.register_backward_hook(backward_done),
        ]

    def _note_output(self, name: str, module: Module, y: Any) -> None:
        """A sampled step's statistics of a layer's output y (N, ...), and its histogram if it is the epoch's first."""
        record = self._current[name]
        record["activation_mean"] = _host_float(y.mean())
        record["activation_std"] = _host_float(y.std())
        if isinstance(module, ZERO_PRODUCING):
            record["zero_fraction"] = _host_float((y == 0).mean())
            # a unit is a feature (N, F) or a channel (N, C, H, W): alive if non-zero anywhere
            live = (y != 0).any(axis=tuple(axis for axis in range(y.ndim) if axis != 1))
            key = (self.epoch, name)
            self._live_units[key] = live if key not in self._live_units else self._live_units[key] | live
        if self._histogram_steps[self.epoch] == self.step:
            xp = get_array_module(y)
            # of the finite values: NaN or inf has no bin (a diverging run is the trainer's to report)
            counts, edges = xp.histogram(y[xp.isfinite(y)], bins=HISTOGRAM_BINS)
            self.histograms.append(
                {
                    "epoch": self.epoch,
                    "layer": name,
                    "counts": [int(c) for c in _on_host(counts)],
                    "edges": [float(e) for e in _on_host(edges)],
                }
            )
