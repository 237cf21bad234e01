"""The frame both same-recipe comparisons share (``benchmarks.accuracy``, ``benchmarks.reconstruction``).

Each trains some models with the recipe of their ``nnscratch`` command in both libraries
(its own ``train_both``) and writes one report; what is the same, written once here: the
command line (--models --epochs --dataset, and --quick for a smoke run on the sample), and
the run itself (the data, ``machine.measured_run``'s frame, one result per model, the report
in JSON and Markdown through ``report.publish``, smoke runs to ``out/benchmarks``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.machine import measured_run
from benchmarks.options import add_shared_arguments
from benchmarks.report import measured_report, publish, reports_dir
from nnscratch.cli.arguments import load_data, positive_int
from nnscratch.common.datasets import DATASET_NAMES, Dataset


def parse_arguments(prog: str, description: str, models: Sequence[str], argv: list[str]) -> argparse.Namespace:
    """The shared options, --epochs (None: each recipe's) and --dataset (fashion-mnist; --quick: the
    sample and 1 epoch unless given)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_shared_arguments(parser, models, quick_help="a smoke run: the bundled sample, 1 epoch")
    parser.add_argument("--epochs", type=positive_int, help="override every recipe's epochs (quick: 1)")
    parser.add_argument("--dataset", choices=DATASET_NAMES, help="default: fashion-mnist (quick: sample)")
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset = args.dataset or "sample"
        args.epochs = args.epochs or 1
    args.dataset = args.dataset or "fashion-mnist"
    return args


def run_and_report(
    args: argparse.Namespace,
    command: str,
    train_both: Callable[[str, Dataset, int | None, float], dict[str, Any]],
    report_file: str,
    title: str,
    table: Callable[[dict[str, Any]], str],
    notes: list[str],
) -> int:
    """Train every model of ``args.models`` with ``train_both(model, dataset, epochs, pause)``, under the
    thread limit, then write ``report_file`` and its Markdown (``title``, ``table``, ``notes``). ``command``:
    the command line, as the report records it."""
    dataset = load_data(args)
    with measured_run(args.threads) as run:
        results = [train_both(model, dataset, args.epochs, args.pause) for model in args.models]
    report = measured_report(run, command, results, notes=notes)
    print(f"\n{table(report)}")
    folder = reports_dir(args.report_dir, smoke=args.quick or dataset.name != "fashion-mnist")
    publish(report, report_file, title, table, folder)
    return 0
