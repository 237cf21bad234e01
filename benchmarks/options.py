"""The command-line options the benchmark entry points share (``python -m benchmarks``, ``benchmarks.accuracy``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from benchmarks.timing import PAUSE
from nnscratch.cli.arguments import non_negative_float, positive_int
from nnscratch.common.datasets import DATASET_NAMES


def add_shared_arguments(parser: argparse.ArgumentParser, models: Sequence[str], quick_help: str) -> None:
    """--models --threads --pause --quick --data-dir --report-dir (each entry point adds its own --dataset)."""
    parser.add_argument("--models", nargs="+", choices=models, default=list(models), help="default: all")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS and PyTorch threads (%(default)s)")
    parser.add_argument(
        "--pause",
        type=non_negative_float,
        default=PAUSE,
        help="seconds of sleep before each timed run, so that the other library's threads stop spinning (%(default)s)",
    )
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    add_report_arguments(parser, quick_help)


def add_report_arguments(parser: argparse.ArgumentParser, quick_help: str) -> None:
    """--quick (a smoke run, ``quick_help`` says what it shortens) and --report-dir: every benchmark has both."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--report-dir", help="where to write the reports (default: benchmarks/reports; smoke runs: out/benchmarks)"
    )


def add_timing_arguments(parser: argparse.ArgumentParser, rounds_help: str, batches: dict[str, int], what: str) -> None:
    """--rounds, --batches (``what``, with each model's default from ``batches`` in its help) and --dataset."""
    parser.add_argument("--rounds", type=positive_int, help=rounds_help)
    defaults = ", ".join(f"{model} {count}" for model, count in batches.items())
    parser.add_argument("--batches", type=positive_int, help=f"{what}, for every model (default: {defaults})")
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="default: %(default)s")


def parse_with_rounds(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, rounds: int, quick_rounds: int = 2
) -> argparse.Namespace:
    """``parser.parse_args(argv)``; an unset --rounds becomes ``rounds``, or ``quick_rounds`` for a --quick run."""
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (quick_rounds if args.quick else rounds)
    return args
