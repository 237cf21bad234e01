"""Where a training step's time goes, layer by layer, in nnscratch and in PyTorch.

    python -m benchmarks.layer_times baseline
    python -m benchmarks.layer_times resnet18 --batches 2 --rounds 3

The profile behind docs/performance.md: the whole-model throughput (``python -m benchmarks``)
says how far apart the two libraries are, this says where. Both run the same model with the
same weights on the same batches (the setups of ``workloads`` and ``torch_side``), in
interleaved rounds (ours, theirs, ours, ...), one round being ``--batches`` training steps.
Every leaf module's forward and backward is timed with the wall clock:

- nnscratch: each module's ``forward`` and ``backward``, wrapped for the run;
- PyTorch: forward pre-/post-hooks, and for backward, hooks on the autograd node that made
  each layer's output (``torch_clock``).

Layers PyTorch runs as functions inside a block (the ReLUs of its ResNet twin) have no module
to hook: their time is in "rest of the step", with the loss, the optimizer, the data and the
blocks' own glue (residual sums). Every hook costs a few microseconds, on both sides; the
throughput of ``python -m benchmarks`` is measured without them. Figures are ms per batch,
medians over the rounds; speed is PyTorch's time over ours (above 1: nnscratch is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from benchmarks.machine import load_average, machine_info
from benchmarks.timing import PAUSE, limit_threads
from benchmarks.torch_side import TorchSetup, torch_setup
from benchmarks.workloads import MLP, build_setup, cli_settings, model_inputs
from nnscratch.cli.arguments import load_data, non_negative_float, positive_int
from nnscratch.common.datasets import DATASET_NAMES, Dataset
from nnscratch.convolutional.architectures import ARCHITECTURES
from nnscratch.vectorized.module import Module

REST = "rest of the step"
MODELS = [MLP, *ARCHITECTURES]

Times = dict[str, float]  # "<module name> forward" / "<module name> backward" / REST -> seconds


def leaves(model: Any) -> list[tuple[str, Any]]:
    """(name, module) of every module without sub-modules, in the order of ``named_modules``."""
    if isinstance(model, Module):
        return [(name, module) for name, module in model.named_modules() if not list(module.named_children())]
    return [(name, module) for name, module in model.named_modules() if not list(module.children())]


def describe_layer(module: Any, input_shape: tuple[int, ...] | None) -> str:
    """A short description of an nnscratch layer: its type, and for a convolution its shape and path."""
    text = type(module).__name__
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size"):
        (kh, kw), (sh, _) = module.kernel_size, module.stride
        text += f" {module.in_channels}->{module.out_channels} {kh}x{kw} s{sh}"
        if input_shape is not None:
            text += f" @{input_shape[-1]}"
        if hasattr(module, "_uses_winograd"):
            text += " winograd" if module._uses_winograd() else " im2col"
    return text


@contextmanager
def nnscratch_clock(model: Module, times: Times, shapes: dict[str, tuple]) -> Iterator[None]:
    """Add each leaf module's forward and backward seconds to ``times`` while inside; record input shapes."""
    wrapped = []
    for name, module in leaves(model):
        forward, backward = module.forward, module.backward

        def timed_forward(x: Any, *args: Any, _name: str = name, _forward: Callable = forward) -> Any:
            shapes.setdefault(_name, tuple(x.shape))
            start = time.perf_counter()
            out = _forward(x, *args)
            times[f"{_name} forward"] += time.perf_counter() - start
            return out

        def timed_backward(grad: Any, _name: str = name, _backward: Callable = backward) -> Any:
            start = time.perf_counter()
            out = _backward(grad)
            times[f"{_name} backward"] += time.perf_counter() - start
            return out

        # instance attributes shadow the class's methods; deleting them restores the module
        module.forward, module.backward = timed_forward, timed_backward
        wrapped.append(module)
    try:
        yield
    finally:
        for module in wrapped:
            del module.forward, module.backward


@contextmanager
def torch_clock(setup: TorchSetup, times: Times) -> Iterator[None]:
    """The same for PyTorch: forward hooks, and for backward, hooks on the autograd node of each output.

    Each layer's output comes from one node of the backward graph (ConvolutionBackward0,
    NativeBatchNormBackward0, ...), which computes all of that layer's gradients; its pre-hook
    and hook bracket that work. They add no node to the graph (module backward hooks do, and
    cost PyTorch more than a small layer's own work).
    """
    started: dict[str, float] = {}
    handles = []

    def start(key: str) -> Callable:
        def hook(*_: Any) -> None:
            started[key] = time.perf_counter()

        return hook

    def stop(key: str) -> Callable:
        def hook(*_: Any) -> None:
            times[key] += time.perf_counter() - started.pop(key)

        return hook

    def watch_output(name: str) -> Callable:
        def hook(_: Any, inputs: tuple, output: Any) -> None:
            stop(f"{name} forward")()
            node = output.grad_fn if isinstance(output, torch.Tensor) else None
            made_here = not any(isinstance(x, torch.Tensor) and x.grad_fn is node for x in inputs)
            if node is not None and made_here:  # an Identity hands on its input's node: nothing to time
                node.register_prehook(start(f"{name} backward"))
                node.register_hook(stop(f"{name} backward"))

        return hook

    for name, module in leaves(setup.model):
        handles.append(module.register_forward_pre_hook(start(f"{name} forward")))
        handles.append(module.register_forward_hook(watch_output(name)))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def profile(model: str, dataset: Dataset, batches: int, rounds: int, pause: float = PAUSE) -> dict[str, Any]:
    """Per-layer ms per batch of both libraries (medians over ``rounds``), as a dict for ``table``.

    Each timed round sleeps ``pause`` seconds first, so that the other library's threads have
    stopped spinning (see ``benchmarks/timing.py``).
    """
    settings = cli_settings(model, dataset.name)
    samples = min(len(dataset.x_train), batches * settings.batch_size)
    x = model_inputs(model, dataset, dataset.x_train[:samples])
    y = dataset.y_train[:samples]
    ours = build_setup(model, settings, dataset)
    theirs = torch_setup(ours)
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
    shapes: dict[str, tuple] = {}
    sides: dict[str, tuple[Callable[[], Any], Callable[[Times], Any]]] = {
        "nnscratch": (lambda: ours.train_epoch(x, y), lambda times: nnscratch_clock(ours.model, times, shapes)),
        "pytorch": (lambda: theirs.train_epoch(x_torch, y_torch), lambda times: torch_clock(theirs, times)),
    }
    for run, _ in sides.values():  # warm-up: first calls allocate, pick algorithms
        run()
    per_round: dict[str, list[Times]] = {side: [] for side in sides}
    for _ in range(rounds):
        for side, (run, clock) in sides.items():
            times: Times = defaultdict(float)
            time.sleep(pause)
            with clock(times):
                start = time.perf_counter()
                run()
                total = time.perf_counter() - start
            times[REST] = total - sum(times.values())
            per_round[side].append({key: seconds / batches for key, seconds in times.items()})
    names = [name for name, _ in leaves(ours.model)]
    layers = {name: describe_layer(module, shapes.get(name)) for name, module in leaves(ours.model)}
    medians = {
        side: {key: statistics.median(entry.get(key, 0.0) for entry in entries) for key in entries[0]}
        for side, entries in per_round.items()
    }
    return {
        "model": model,
        "batch_size": settings.batch_size,
        "batches": batches,
        "rounds": rounds,
        "names": names,
        "layers": layers,
        "ms": {side: {key: seconds * 1e3 for key, seconds in times.items()} for side, times in medians.items()},
    }


def _speed(ours: float, theirs: float | None) -> str:
    return f"{theirs / ours:5.2f}x" if theirs and ours > 0 else "     "


def table(result: dict[str, Any]) -> str:
    """The profile as text: one row per layer, then the totals per kind of layer, with shares of the step."""
    ours, theirs = result["ms"]["nnscratch"], result["ms"]["pytorch"]
    lines = [
        f"{result['model']}: ms per batch of {result['batch_size']}, medians of {result['rounds']} rounds "
        f"of {result['batches']} batches; speed = PyTorch time / nnscratch time",
        f"{'layer':<12} {'':<36} {'nnscratch fwd':>13} {'bwd':>7} {'pytorch fwd':>12} {'bwd':>7}  speed",
    ]
    kinds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for name in result["names"]:
        mine = [ours.get(f"{name} forward", 0.0), ours.get(f"{name} backward", 0.0)]
        twin = [theirs.get(f"{name} forward"), theirs.get(f"{name} backward")]
        present = twin[0] is not None
        cells = f"{twin[0]:12.2f} {twin[1] or 0.0:7.2f}" if present else f"{'(in rest)':>12} {'':>7}"
        total_twin = sum(t or 0.0 for t in twin) if present else None
        lines.append(
            f"{name:<12} {result['layers'][name]:<36} {mine[0]:13.2f} {mine[1]:7.2f} {cells}  "
            f"{_speed(sum(mine), total_twin)}"
        )
        kind = result["layers"][name].split(" @")[0] if "Conv" in result["layers"][name] else result["layers"][name]
        if not present:  # compare like with like: PyTorch's twins of these are in its rest of the step
            kind += " (PyTorch's: in rest)"
        kinds[kind][0] += sum(mine)
        kinds[kind][1] += total_twin or 0.0
    kinds[REST] = [ours[REST], theirs[REST]]
    step = [sum(pair[0] for pair in kinds.values()), sum(pair[1] for pair in kinds.values())]
    lines += ["", f"{'kind of layer':<40} {'nnscratch ms':>12} {'share':>6} {'pytorch ms':>11} {'share':>6}  speed"]
    for kind, (mine, twin) in sorted(kinds.items(), key=lambda item: -item[1][0]):
        lines.append(
            f"{kind:<40} {mine:12.2f} {100 * mine / step[0]:5.1f}% {twin:11.2f} {100 * twin / step[1]:5.1f}%  "
            f"{_speed(mine, twin)}"
        )
    lines.append(f"{'whole step':<40} {step[0]:12.2f} {'':>6} {step[1]:11.2f} {'':>6}  {_speed(step[0], step[1])}")
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.layer_times",
        description="Per-layer forward and backward times of one model's training step, nnscratch against PyTorch.",
    )
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--batches", type=positive_int, help="training steps per round (default: 10; resnet18 2)")
    parser.add_argument("--rounds", type=positive_int, default=5, help="interleaved rounds per library (%(default)s)")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS and PyTorch threads (%(default)s)")
    parser.add_argument(
        "--pause", type=non_negative_float, default=PAUSE, help="seconds of sleep before each round (%(default)s)"
    )
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="default: %(default)s")
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    batches = args.batches or (2 if args.model == "resnet18" else 10)
    with limit_threads(args.threads):
        info = machine_info(args.threads)
        print(", ".join(f"{key} {value}" for key, value in info.items()))
        print(f"load average before: {load_average():.2f}")
        result = profile(args.model, load_data(args), batches, args.rounds, args.pause)
        print(table(result))
        print(f"load average after: {load_average():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
