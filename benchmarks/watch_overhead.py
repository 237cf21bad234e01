"""What looking inside costs: a training step plain, with idle hooks, and watched (``--watch``).

    python -m benchmarks.watch_overhead                      lenet and baseline, the default interval
    python -m benchmarks.watch_overhead --every 10 --rounds 9

Three copies of each model, built as its ``nnscratch train`` command builds it (``workloads``),
train on the same batches in interleaved rounds (plain, idle, watched, plain, ...; see
``timing.time_interleaved``), one round being ``--batches`` training steps:

- plain: no hook registered (the one ``_hooks is None`` test per forward and backward);
- idle hooks: a hook of each kind that does nothing on every leaf layer;
- watched: ``watch(model, optimizer, every)``: its hooks on every step, its statistics on
  every ``every``-th (the number of steps of a round is a multiple of it, so that each round
  holds the same share of sampled steps).

The overhead of a variant is its time over the plain model's time in the same round, minus 1;
the report gives the median over the rounds with the range. The targets (issue 20): idle hooks
within noise, watching under 5% at the default interval. Writes ``watch_overhead.json`` and
``.md`` (``benchmarks/reports/``, or ``out/benchmarks/`` for a smoke run).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from benchmarks.machine import measured_run
from benchmarks.options import add_shared_arguments, add_timing_arguments, parse_with_rounds
from benchmarks.report import load_average_text, measured_report, publish, reports_dir
from benchmarks.timing import Spread, paired_ratios, time_interleaved
from benchmarks.workloads import build_setup, cli_settings, model_inputs
from nnscratch.cli.arguments import load_data, positive_int
from nnscratch.common.datasets import Dataset
from nnscratch.vectorized.watch import DEFAULT_EVERY, watch
from scripts.docsgen.reports import WATCH_OVERHEAD_FILE, watch_overhead_table

MODELS = ["lenet", "baseline"]
ROUNDS = 7
VARIANTS = ("plain", "idle_hooks", "watched")


def add_idle_hooks(model: Any) -> None:
    """A hook of each kind that does nothing, on every leaf layer of ``model``."""

    def nothing(*_: Any) -> None:
        return None

    for _, module in model.named_modules():
        if not list(module.named_children()):
            module.register_forward_pre_hook(nothing)
            module.register_forward_hook(nothing)
            module.register_backward_pre_hook(nothing)
            module.register_backward_hook(nothing)


def measure(model: str, dataset: Dataset, batches: int, rounds: int, every: int, pause: float) -> dict[str, Any]:
    """One model's step times (ms) in the three variants, and the overheads: a result of the report."""
    settings = cli_settings(model, dataset.name)
    samples = batches * settings.batch_size
    x = model_inputs(model, dataset, dataset.x_train[:samples])
    y = dataset.y_train[:samples]
    setups = {variant: build_setup(model, settings, dataset) for variant in VARIANTS}
    add_idle_hooks(setups["idle_hooks"].model)
    watched = setups["watched"]
    watched.trainer.watcher = watch(watched.model, watched.optimizer, every)
    steps: dict[str, Callable[[], Any]] = {
        variant: (lambda setup=setup: setup.train_epoch(x, y)) for variant, setup in setups.items()
    }
    seconds = time_interleaved(steps, rounds, pause=pause)
    step_ms = {variant: Spread.of([1e3 * s / batches for s in times]) for variant, times in seconds.items()}
    overhead = {}
    for variant in VARIANTS[1:]:
        ratios = [ratio - 1 for ratio in paired_ratios(seconds[variant], seconds["plain"])]
        overhead[variant] = Spread.of(ratios).as_dict()
    return {
        "model": model,
        "batch_size": settings.batch_size,
        "batches": batches,
        "rounds": rounds,
        "every": every,
        "step_ms": {variant: spread.as_dict() for variant, spread in step_ms.items()},
        "overhead": overhead,
    }


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.watch_overhead",
        description="A training step plain, with idle hooks and watched. Writes watch_overhead.json and .md.",
    )
    add_shared_arguments(parser, MODELS, quick_help="a smoke run: two rounds of one sampled interval")
    steps = {model: DEFAULT_EVERY for model in MODELS}
    rounds_help = f"interleaved rounds (default {ROUNDS})"
    add_timing_arguments(parser, rounds_help, steps, "training steps per round, a multiple of --every")
    parser.add_argument(
        "--every", type=positive_int, default=DEFAULT_EVERY, help="the watcher's interval (default: %(default)s)"
    )
    args = parse_with_rounds(parser, argv, ROUNDS)
    args.batches = args.batches or args.every  # one sampled step per round
    if args.batches % args.every:
        parser.error(f"--batches must be a multiple of --every ({args.every}), got {args.batches}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(argv)
    dataset = load_data(args)
    results = []
    with measured_run(args.threads) as run:
        for model in args.models:
            results.append(measure(model, dataset, args.batches, args.rounds, args.every, args.pause))
            print(watch_overhead_table({"results": results[-1:]}), flush=True)
    notes = [
        f"{args.rounds} interleaved rounds of {args.batches} training steps per variant, after one untimed round; "
        f"BLAS threads: {args.threads}; float32; the watcher samples every {args.every} steps.",
        "Overhead: a variant's round time over the plain model's in the same round, minus 1; median (min–max) "
        "over the rounds (the median of these paired ratios, not the ratio of the ms columns' medians). "
        "Targets: idle hooks within noise, watched under 5%.",
        f"{load_average_text(run['load_average'])}.",
    ]
    command = " ".join(["python -m benchmarks.watch_overhead", *argv])
    report = measured_report(run, command, results, notes=notes)
    folder = reports_dir(args.report_dir, smoke=args.quick or dataset.name != "fashion-mnist")
    publish(report, WATCH_OVERHEAD_FILE, "What watching a run costs", watch_overhead_table, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
