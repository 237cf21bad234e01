"""Where a training step's time goes, layer by layer, in nnscratch and in PyTorch.

    python -m benchmarks.layer_times                        lenet, baseline and resnet18
    python -m benchmarks.layer_times --models baseline --rounds 3

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

It prints each model's layers, then the totals per kind of layer, and writes
``benchmarks/reports/layer_times.json`` (and ``.md``), which the performance page shows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from benchmarks.machine import measured_run
from benchmarks.options import add_shared_arguments, add_timing_arguments, parse_with_rounds
from benchmarks.report import load_average_text, measured_report, publish, reports_dir
from benchmarks.timing import PAUSE
from benchmarks.torch_side import TorchSetup, torch_setup
from benchmarks.workloads import MLP, build_setup, cli_settings, model_inputs
from nnscratch.cli.arguments import load_data
from nnscratch.common.datasets import Dataset
from nnscratch.vectorized.module import Module
from scripts.docsgen.reports import LAYER_TIMES_FILE, REST, layer_times_table

MODELS = [MLP, "lenet", "baseline", "resnet18"]  # those of ``python -m benchmarks``, which PyTorch twins exist for
DEFAULT_MODELS = ["lenet", "baseline", "resnet18"]
BATCHES = {MLP: 50, "lenet": 10, "baseline": 5, "resnet18": 2}  # training steps per round
ROUNDS = 5

Times = dict[str, float]  # "<module name> forward" / "<module name> backward" / REST -> seconds


def leaves(model: Any) -> list[tuple[str, Any]]:
    """(name, module) of every module without sub-modules, in the order of ``named_modules``."""
    if isinstance(model, Module):
        return [(name, module) for name, module in model.named_modules() if not list(module.named_children())]
    return [(name, module) for name, module in model.named_modules() if not list(module.children())]


def describe_layer(module: Any, input_shape: tuple[int, ...] | None) -> str:
    """A short description of an nnscratch layer: its type, and for a convolution its shape and the
    route its last forward took (``Conv2D.last_algorithm``)."""
    text = type(module).__name__
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size"):
        (kh, kw), (sh, _) = module.kernel_size, module.stride
        text += f" {module.in_channels}->{module.out_channels} {kh}x{kw} s{sh}"
        if input_shape is not None:
            text += f" @{input_shape[-1]}"
        if getattr(module, "last_algorithm", None):
            text += f" {module.last_algorithm}"
    return text


@contextmanager
def nnscratch_clock(model: Module, times: Times, shapes: dict[str, tuple]) -> Iterator[None]:
    """Add each leaf module's forward and backward seconds to ``times`` while inside; record input shapes.

    Four hooks per leaf (module.py) bracket its forward and its backward; they are removed on the
    way out, so the model is left as it was."""
    handles = []
    for name, module in leaves(model):
        started: dict[str, float] = {}

        def before_forward(_module: Module, inputs: tuple, _name: str = name, _started: dict = started) -> None:
            shapes.setdefault(_name, tuple(inputs[0].shape))
            _started["forward"] = time.perf_counter()

        def after_forward(_module: Module, _inputs: tuple, _output: Any, _name: str = name, _started: dict = started):
            times[f"{_name} forward"] += time.perf_counter() - _started["forward"]

        def before_backward(_module: Module, _grad_output: tuple, _started: dict = started) -> None:
            _started["backward"] = time.perf_counter()

        def after_backward(_module: Module, _grad_in: tuple, _grad_out: tuple, _name: str = name, _started=started):
            times[f"{_name} backward"] += time.perf_counter() - _started["backward"]

        handles += [
            module.register_forward_pre_hook(before_forward),
            module.register_forward_hook(after_forward),
            module.register_backward_pre_hook(before_backward),
            module.register_backward_hook(after_backward),
        ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def torch_clock(setup: TorchSetup, times: Times) -> Iterator[None]:
    """The same for PyTorch: forward hooks, and for backward, hooks on the autograd node of each output.

    Each layer's output comes from one node of the backward graph (ConvolutionBackward0,
    NativeBatchNormBackward0, ...), which computes all of that layer's gradients; its pre-hook
    and hook bracket that work. They add no node to the graph. (Module backward hooks do, and
    they time a layer whose input also feeds a shortcut until the shortcut's gradient is in too.)
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
    """One model's layer times, both libraries (ms per batch, medians over ``rounds``): a result of the report.

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
            per_round[side].append(times)

    def median_ms(side: str, key: str) -> float:
        return 1e3 * statistics.median(times.get(key, 0.0) for times in per_round[side]) / batches

    twins = {name for name, _ in leaves(theirs.model)}
    layers = []
    for name, module in leaves(ours.model):
        sides_here = ("nnscratch", "pytorch") if name in twins else ("nnscratch",)
        ms = {side: {d: median_ms(side, f"{name} {d}") for d in ("forward", "backward")} for side in sides_here}
        layers.append({"name": name, "layer": describe_layer(module, shapes.get(name)), "ms": ms})
    return {
        "model": model,
        "batch_size": settings.batch_size,
        "batches": batches,
        "rounds": rounds,
        "layers": layers,
        "rest_ms": {side: median_ms(side, REST) for side in sides},
    }


def layers_text(result: dict[str, Any]) -> str:
    """One model's profile for the console: a row per layer, then the table of kinds."""

    def cells(ms: dict[str, float] | None) -> str:
        return f"{ms['forward']:9.2f} {ms['backward']:8.2f}" if ms else f"{'(in rest)':>9} {'':>8}"

    lines = [
        f"{result['model']}: ms per batch of {result['batch_size']}, medians of {result['rounds']} rounds "
        f"of {result['batches']} batches; speed = PyTorch time / nnscratch time",
        f"{'layer':<12} {'':<36} {'ours fwd':>9} {'bwd':>8} {'torch fwd':>9} {'bwd':>8}  speed",
    ]
    for layer in result["layers"]:
        ours, theirs = layer["ms"]["nnscratch"], layer["ms"].get("pytorch")
        speed = f"{sum(theirs.values()) / sum(ours.values()):5.2f}x" if theirs and sum(ours.values()) else ""
        lines.append(f"{layer['name']:<12} {layer['layer']:<36} {cells(ours)} {cells(theirs)}  {speed}")
    return "\n".join(lines) + "\n\n" + layer_times_table(result)


def notes(args: argparse.Namespace, batches: dict[str, int]) -> list[str]:
    per_model = ", ".join(f"{model} {batches[model]}" for model in args.models)
    return [
        f"Each library trains each model for {args.rounds} rounds of training steps ({per_model} per round), "
        f"interleaved, after one untimed round; {args.threads} threads for NumPy's BLAS and for PyTorch; float32.",
        "ms per batch: the median over the rounds of a layer's forward plus backward time in one round, divided by "
        "the steps of the round. Speed: PyTorch's time over nnscratch's; above 1, nnscratch is faster.",
        "nnscratch's layers are timed around their forward and backward methods; PyTorch's with forward hooks and "
        "hooks on the autograd node that made each layer's output (see benchmarks/layer_times.py).",
        f"{REST}: the loss, the optimizer, the data, and what blocks do between their layers (residual sums).",
    ]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.layer_times",
        description="Per-layer forward and backward times of a training step, nnscratch against PyTorch. "
        "Writes layer_times.json and layer_times.md.",
    )
    add_shared_arguments(parser, MODELS, quick_help="a smoke run: one step per round, two rounds")
    parser.set_defaults(models=list(DEFAULT_MODELS))
    rounds_help = f"interleaved rounds per library (default {ROUNDS})"
    add_timing_arguments(parser, rounds_help, BATCHES, "training steps per round")
    return parse_with_rounds(parser, argv, ROUNDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(argv)
    batches = {model: args.batches or (1 if args.quick else BATCHES[model]) for model in args.models}
    dataset = load_data(args)
    results = []
    with measured_run(args.threads) as run:
        for model in args.models:
            results.append(profile(model, dataset, batches[model], args.rounds, args.pause))
            print(layers_text(results[-1]) + "\n", flush=True)
    command = " ".join(["python -m benchmarks.layer_times", *argv])
    report = measured_report(run, command, results, notes=notes(args, batches))

    def tables(report: dict[str, Any]) -> str:
        return "\n\n".join(f"## {result['model']}\n\n{layer_times_table(result)}" for result in report["results"])

    print(load_average_text(run["load_average"]))
    title = "Where a training step's time goes: nnscratch and PyTorch"
    folder = reports_dir(args.report_dir, smoke=args.quick or dataset.name != "fashion-mnist")
    publish(report, LAYER_TIMES_FILE, title, tables, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
