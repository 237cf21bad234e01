"""Training and inference speed of nnscratch against PyTorch, in one run: ``python -m benchmarks``.

    python -m benchmarks                        # every model; writes benchmarks/reports/throughput.{json,md}
    python -m benchmarks --quick                # smoke run: few batches, 2 rounds; reports in out/benchmarks/
    python -m benchmarks --models lenet baseline --rounds 7 --batches 20 --threads 2

Models: the MLP 784-256-128-10 of ``nnscratch mlp``, the lenet, baseline and resnet18 of
``nnscratch train``, and the scalar tier's 784-32-10 of ``nnscratch scalar`` (nnscratch only:
it is pure Python, with no PyTorch twin). Each is set up as its command sets it up (the
recipe's optimizer, batch size and augmentation; ``benchmarks/workloads.py``) and PyTorch
gets a float32 twin with a copy of the same initial weights (``benchmarks/torch_side.py``).

One measurement is a slice of an epoch: ``--batches`` batches (fewer for the slow models by
default) of the same Fashion-MNIST images, through the trainer's own loop (shuffle, augment,
forward, loss, backward, step, one host sync at the end); inference is the same images
through the model in eval mode, without gradients, in batches of the training batch size.
The measurements take turns in one process (nnscratch training, PyTorch training, nnscratch
inference, PyTorch inference, and again), after one warm-up round, with a pause before each
(``benchmarks/timing.py`` says why), both libraries limited to ``--threads`` threads. The
report gives the median and range over ``--rounds`` rounds of samples per second, and the
ratio of the medians nnscratch / PyTorch (above 1: nnscratch is faster).

Peak memory: each library trains each model for a few batches in a child process of its
own, which reports its peak resident set during training (``benchmarks/peak_rss.py``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

from benchmarks.machine import measured_run
from benchmarks.options import add_shared_arguments, add_timing_arguments, parse_with_rounds
from benchmarks.peak_rss import LIBRARIES, peak_rss_mib
from benchmarks.report import load_average_text, measured_report, publish, reports_dir
from benchmarks.timing import Spread, rates, time_interleaved
from benchmarks.torch_side import torch_setup
from benchmarks.workloads import SCALAR, build_setup, cli_settings, model_inputs
from nnscratch.cli.arguments import load_data
from nnscratch.common.datasets import Dataset
from scripts.docsgen.reports import THROUGHPUT_FILE, throughput_table

MODELS = ("mlp", "lenet", "baseline", "resnet18", "scalar")
# training batches per measurement: long enough to dwarf the timer's and the pause's noise
# (0.3-10 s each on 2 cores), short enough that the whole run takes minutes, not hours
BATCHES = {"mlp": 200, "lenet": 40, "baseline": 10, "resnet18": 2, "scalar": 10}
QUICK_BATCHES = {"mlp": 20, "lenet": 4, "baseline": 2, "resnet18": 1, "scalar": 2}
ROUNDS, QUICK_ROUNDS = 5, 2
RSS_BATCHES, QUICK_RSS_BATCHES = 5, 2


def measure_speed(model: str, dataset: Dataset, batches: int, rounds: int, pause: float) -> dict[str, Any]:
    """Samples/s of training and inference of both libraries, interleaved: one result of the report
    (without its peak RSS). The scalar network has no PyTorch side."""
    settings = cli_settings(model, dataset.name)
    samples = min(len(dataset.x_train), batches * settings.batch_size)
    x = model_inputs(model, dataset, dataset.x_train[:samples])
    y = dataset.y_train[:samples]
    ours = build_setup(model, settings, dataset)
    theirs = None if model == SCALAR else torch_setup(ours)
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
    steps = {"nnscratch train": lambda: ours.train_epoch(x, y)}
    if theirs is not None:
        steps["pytorch train"] = lambda: theirs.train_epoch(x_torch, y_torch)
    steps["nnscratch inference"] = lambda: ours.predict(x)
    if theirs is not None:
        steps["pytorch inference"] = lambda: theirs.predict(x_torch)
    seconds = time_interleaved(steps, rounds, warmup=1, pause=pause)
    result: dict[str, Any] = {"model": model, "device": "cpu", "batch_size": settings.batch_size}
    for key, kind in (("train_samples_per_s", "train"), ("inference_samples_per_s", "inference")):
        result[key] = {
            library: Spread.of(rates(seconds[f"{library} {kind}"], samples)).as_dict()
            for library in LIBRARIES
            if f"{library} {kind}" in seconds
        }
    result["samples_per_measurement"] = samples
    return result


def ratio_text(per_library: dict[str, Any]) -> str:
    if "pytorch" not in per_library:
        return ""
    return f"  ratio {per_library['nnscratch']['median'] / per_library['pytorch']['median']:.2f}x"


def describe(result: dict[str, Any]) -> str:
    """A few lines for the console: each library's median and range, the ratio, the peak RSS."""
    lines = [f"{result['model']} (batch {result['batch_size']}, {result['samples_per_measurement']:,} samples)"]
    for key, label in (("train_samples_per_s", "train"), ("inference_samples_per_s", "infer")):
        cells = [
            f"{library} {spread['median']:>10,.0f} [{spread['min']:,.0f}, {spread['max']:,.0f}]"
            for library, spread in result[key].items()
        ]
        lines.append(f"  {label:<6} samples/s  " + "   ".join(cells) + ratio_text(result[key]))
    if "peak_rss_mib" in result:
        peaks = "   ".join(f"{library} {mib:,.0f}" for library, mib in result["peak_rss_mib"].items())
        lines.append(f"  peak RSS MiB     {peaks}")
    return "\n".join(lines)


def notes(args: argparse.Namespace, batches: dict[str, int], rss_batches: int, training_only: bool) -> list[str]:
    """How the figures were measured, for the Markdown report and the JSON's "notes"."""
    per_model = ", ".join(f"{model} {batches[model]}" for model in args.models)
    rss = (
        "its peak resident set during training (the kernel's high-water mark, reset after loading the data and "
        "building the model)"
        if training_only
        else "its ru_maxrss (the peak of the whole process, loading the data included)"
    )
    return [
        "samples/s: median (min–max) over "
        f"{args.rounds} rounds; one measurement is a slice of an epoch of training batches ({per_model}) through "
        "the trainer's loop, or the same images through the model in eval mode for inference.",
        "nnscratch and PyTorch take turns in one process (train, train, inference, inference, and again) after one "
        f"warm-up round, both with {args.threads} threads (torch.set_num_threads and threadpoolctl for NumPy's BLAS), "
        f"float32, the same initial weights, data and batch size; a {args.pause:g} s pause before each measurement "
        "lets the other library's spinning worker threads go to sleep.",
        "ratio: nnscratch / PyTorch of the medians; above 1, nnscratch is faster.",
        f"peak RSS: each library trains each model for {rss_batches} batches in a child process of its own and "
        f"reports {rss}: interpreter, libraries (PyTorch's alone are a few hundred MiB) and data included.",
        "scalar: the pure-Python tier, nnscratch only (no PyTorch twin).",
    ]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Training and inference samples/s and peak memory of nnscratch against PyTorch, same machine, "
        "same run. Writes throughput.json and throughput.md.",
    )
    add_shared_arguments(parser, MODELS, quick_help="a smoke run: few batches and rounds")
    add_timing_arguments(
        parser, f"measurements per side (default {ROUNDS}; quick 2)", BATCHES, "training batches per measurement"
    )
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-memory child processes")
    return parse_with_rounds(parser, argv, ROUNDS, QUICK_ROUNDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(argv)
    default_batches = QUICK_BATCHES if args.quick else BATCHES
    batches = {model: args.batches or default_batches[model] for model in args.models}
    rss_batches = QUICK_RSS_BATCHES if args.quick else RSS_BATCHES
    dataset = load_data(args)
    results, training_only = [], True
    with measured_run(args.threads) as run:
        for model in args.models:
            result = measure_speed(model, dataset, batches[model], args.rounds, args.pause)
            if not args.no_rss:
                libraries = LIBRARIES if "pytorch" in result["train_samples_per_s"] else ("nnscratch",)
                peaks = {
                    library: peak_rss_mib(library, model, rss_batches, args.threads, dataset.name, args.data_dir)
                    for library in libraries
                }
                result["peak_rss_mib"] = {library: mib for library, (mib, _) in peaks.items()}
                training_only = training_only and all(only for _, only in peaks.values())
            results.append(result)
            print(describe(result), flush=True)
    command = " ".join(["python -m benchmarks", *argv])
    report = measured_report(run, command, results, notes=notes(args, batches, rss_batches, training_only))
    print(f"\n{throughput_table(report)}\n\n{load_average_text(run['load_average'])}")
    title = "Training and inference throughput: nnscratch and PyTorch"
    folder = reports_dir(args.report_dir, smoke=args.quick or dataset.name != "fashion-mnist")
    publish(report, THROUGHPUT_FILE, title, throughput_table, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
