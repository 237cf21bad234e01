"""ONNX Runtime against nnscratch: the same exported model, inference in eval mode, one process.

    python -m benchmarks.onnx_inference                      lenet and baseline, 7 rounds
    python -m benchmarks.onnx_inference --quick              a smoke run (out/benchmarks/)

Each model is built as ``nnscratch train`` builds it and exported with ``export_onnx``; the two
sides then classify the same test images, batch by batch at the recipe's batch size, taking
turns (nnscratch, ONNX Runtime, nnscratch, ...; see ``timing.time_interleaved``) with the same
number of threads (NumPy's BLAS and ONNX Runtime's intra-op pool). The speed-up is the
nnscratch time over ONNX Runtime's in the same round; the report gives medians and ranges.

The report also holds the parity table of the docs: for every architecture of the gallery, at
1x28x28 and 3x32x32, the largest difference between the logits of nnscratch and ONNX Runtime
at batch sizes 1, 7 and the recipe's, on the models ``tests/interop/test_onnx.py`` checks (random
statistics and affine maps, ConvNeXt-Tiny at reduced widths; built by ``tests/interop/gallery.py``).
Writes ``onnx_inference.json`` and ``.md`` (``benchmarks/reports/``, or ``out/benchmarks/`` for a smoke run).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.machine import measured_run
from benchmarks.options import add_shared_arguments, parse_with_rounds
from benchmarks.report import load_average_text, measured_report, publish, reports_dir
from benchmarks.timing import Spread, paired_ratios, rates, time_interleaved
from benchmarks.workloads import cli_settings, model_inputs
from nnscratch.cli.arguments import load_data, positive_int
from nnscratch.common.datasets import DATASET_NAMES, Dataset
from nnscratch.convolutional.architectures import ARCHITECTURES, build
from nnscratch.convolutional.recipes import RECIPES
from nnscratch.interop.onnx import INPUT, OPSET, onnx_model
from nnscratch.vectorized.module import no_grad
from scripts.docsgen.reports import ONNX_INFERENCE_FILE, onnx_inference_tables
from tests.interop.gallery import INPUTS, REDUCED, max_difference, onnx_checked_model

MODELS = ["lenet", "baseline"]
ROUNDS = 7
IMAGES = 1024  # test images classified per round and side


def onnx_session(proto: Any, threads: int) -> Any:
    """An ONNX Runtime session on the CPU with ``threads`` intra-op threads, as nnscratch's BLAS has."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def measure(model_name: str, dataset: Dataset, images: int, rounds: int, threads: int, pause: float) -> dict[str, Any]:
    """One model's inference speed (images/s) on both sides, and the speed-up: a result of the report."""
    settings = cli_settings(model_name, dataset.name)
    channels, size = dataset.image_shape[0], dataset.image_shape[-1]
    model = build(model_name, channels, dataset.num_classes, size).eval()
    session = onnx_session(onnx_model(model), threads)
    x = model_inputs(model_name, dataset, dataset.x_test[:images])
    batches = [x[start : start + settings.batch_size] for start in range(0, len(x), settings.batch_size)]

    def nnscratch() -> None:
        with no_grad():
            for batch in batches:
                model.forward(batch)

    def onnxruntime() -> None:
        for batch in batches:
            session.run(None, {INPUT: batch})

    steps: dict[str, Callable[[], Any]] = {"nnscratch": nnscratch, "onnxruntime": onnxruntime}
    seconds = time_interleaved(steps, rounds, pause=pause)
    speedups = paired_ratios(seconds["nnscratch"], seconds["onnxruntime"])
    return {
        "model": model_name,
        "batch_size": settings.batch_size,
        "images": len(x),
        "rounds": rounds,
        "images_per_s": {side: Spread.of(rates(times, len(x))).as_dict() for side, times in seconds.items()},
        "speedup": Spread.of(speedups).as_dict(),
    }


def parity(model_name: str, channels: int, size: int) -> dict[str, Any]:
    """The largest |nnscratch - ONNX Runtime| of one architecture's logits at batch 1, 7 and its recipe's."""
    model = onnx_checked_model(model_name, channels, size)
    session = onnx_session(onnx_model(model), threads=1)
    differences, largest_logit = {}, 0.0
    for batch in (1, 7, RECIPES[model_name].batch_size):
        x = np.random.default_rng(batch).standard_normal((batch, channels, size, size)).astype(np.float32)
        differences[str(batch)] = max_difference(model, session, x)
        with no_grad():
            largest_logit = max(largest_logit, float(np.abs(model.forward(x)).max()))
    return {
        "model": model_name,
        "input": f"{channels}x{size}x{size}",
        "options": REDUCED.get(model_name, {}),
        "max_abs_diff": differences,
        "max_abs_logit": largest_logit,
    }


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.onnx_inference",
        description="Inference in ONNX Runtime against nnscratch, and the parity table. Writes onnx_inference.json.",
    )
    add_shared_arguments(parser, MODELS, quick_help="a smoke run: two rounds, parity of the timed models only")
    parser.add_argument("--rounds", type=positive_int, help=f"interleaved rounds (default {ROUNDS})")
    parser.add_argument("--images", type=positive_int, default=IMAGES, help="test images per round (%(default)s)")
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="default: %(default)s")
    return parse_with_rounds(parser, argv, ROUNDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(argv)
    dataset = load_data(args)
    results = []
    with measured_run(args.threads) as run:
        for model_name in args.models:
            results.append(measure(model_name, dataset, args.images, args.rounds, args.threads, args.pause))
        checked = args.models if args.quick else list(ARCHITECTURES)
        parities = [parity(name, channels, size) for name in checked for channels, size in INPUTS]
    import onnxruntime

    notes = [
        f"{args.rounds} interleaved rounds per model, after one untimed round; each round classifies {args.images} "
        f"{dataset.name} test images in batches of the recipe's size, on each side; threads: {args.threads} "
        f"(NumPy's BLAS, ONNX Runtime's intra-op pool); float32; onnxruntime {onnxruntime.__version__}.",
        "Speed-up: the nnscratch time over the ONNX Runtime time in the same round; median (min–max) over rounds.",
        f"Parity: the models of tests/interop/test_onnx.py (running statistics and affine maps drawn at random, "
        f"{', '.join(REDUCED)} at reduced widths), random normal inputs; ONNX opset {OPSET}.",
        f"{load_average_text(run['load_average'])}.",
    ]
    command = " ".join(["python -m benchmarks.onnx_inference", *argv])
    report = measured_report(run, command, results, opset=OPSET, parity=parities, notes=notes)
    folder = reports_dir(args.report_dir, smoke=args.quick or dataset.name != "fashion-mnist")
    publish(report, ONNX_INFERENCE_FILE, "ONNX Runtime against nnscratch", onnx_inference_tables, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
