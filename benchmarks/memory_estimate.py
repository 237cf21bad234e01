"""``nnscratch summary``'s memory estimate against the measured memory of one training step.

    python -m benchmarks.memory_estimate                     lenet, baseline and resnet18
    python -m benchmarks.memory_estimate --models lenet --batch-size 128

For each model, at its recipe's batch size unless ``--batch-size`` is given:

- the estimate, as ``nnscratch summary`` makes it (``vectorized.training_memory``), for the
  model, optimizer and batch ``nnscratch train`` would use, in this process;
- the measured memory of one training step, in a fresh process of its own
  (``python -m benchmarks.peak_rss nnscratch MODEL --one-step``; its docstring says how):
  the tracemalloc peak (every array of the step) and, rougher, the resident-set growth.

It prints one line per model with both ratios (estimate / measured; the target is within 30%
of the traced peak) and writes ``benchmarks/reports/memory_estimate.md``, the figures the docs'
summary section quotes.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.machine import measured_run
from benchmarks.peak_rss import one_step_memory_mib
from benchmarks.report import REPORTS_DIR, SMOKE_REPORTS_DIR, markdown_report, new_report
from benchmarks.workloads import build_setup, cli_settings
from nnscratch.cli.arguments import optimizer_and_schedule, positive_int
from nnscratch.common.atomic_file import write_atomically
from nnscratch.common.datasets import load_dataset
from nnscratch.vectorized.training_memory import TrainingMemory, measure_training_memory

MODELS = ("lenet", "baseline", "resnet18")
MIB = 2**20
REPORT_FILE = "memory_estimate.md"


def estimate(model: str, batch_size: int | None, dataset_name: str, data_dir: str | None) -> TrainingMemory:
    """What ``nnscratch summary MODEL`` estimates for the setup of ``nnscratch train MODEL`` (the
    recipe's batch size unless ``batch_size`` is given)."""
    dataset = load_dataset(dataset_name, data_dir)
    settings = cli_settings(model, dataset.name)
    settings.batch_size = batch_size or settings.batch_size
    setup = build_setup(model, settings, dataset)
    optimizer = lambda parameters: optimizer_and_schedule(settings, parameters)[0]  # noqa: E731
    return measure_training_memory(setup.model, setup.model.input_shape, settings.batch_size, optimizer)


def compare(model: str, batch_size: int | None, threads: int, dataset: str, data_dir: str | None) -> dict:
    """One row of the report: the estimate's parts and the two measurements, in MiB, with the ratios."""
    memory = estimate(model, batch_size, dataset, data_dir)
    measured = one_step_memory_mib(model, memory.batch_size, threads, dataset, data_dir)
    workspace = memory.workspace
    row = {
        "model": model,
        "batch_size": memory.batch_size,
        "kept_mib": memory.kept / MIB,
        "parameters_gradients_state_mib": (memory.parameters + memory.gradients + memory.optimizer_state) / MIB,
        "workspace_mib": workspace[1] / MIB if workspace else 0.0,
        "estimate_mib": memory.total / MIB,
        **measured,
    }
    row["ratio_traced"] = row["estimate_mib"] / row["traced_mib"]
    row["ratio_rss"] = row["estimate_mib"] / row["rss_growth_mib"]
    return row


COLUMNS = [  # (heading, key of a result, format)
    ("model", "model", "{}"),
    ("batch", "batch_size", "{}"),
    ("kept MiB", "kept_mib", "{:.1f}"),
    ("parameters + gradients + state MiB", "parameters_gradients_state_mib", "{:.1f}"),
    ("largest workspace MiB", "workspace_mib", "{:.1f}"),
    ("estimate MiB", "estimate_mib", "{:.1f}"),
    ("traced peak MiB", "traced_mib", "{:.1f}"),
    ("estimate / traced", "ratio_traced", "{:.2f}"),
    ("RSS growth MiB", "rss_growth_mib", "{:.1f}"),
    ("estimate / RSS", "ratio_rss", "{:.2f}"),
]


def table(report: dict) -> str:
    """The report's results as a Markdown table."""
    lines = ["| " + " | ".join(heading for heading, _, _ in COLUMNS) + " |"]
    lines.append("| --- | " + " | ".join("--:" for _ in COLUMNS[1:]) + " |")
    for row in report["results"]:
        lines.append("| " + " | ".join(form.format(row[key]) for _, key, form in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="architectures (%(default)s)")
    parser.add_argument("--batch-size", type=positive_int, help="default: each model's recipe")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS threads (%(default)s)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    with measured_run(args.threads) as run:
        results = []
        for model in args.models:
            results.append(compare(model, args.batch_size, args.threads, args.dataset, args.data_dir))
            print(table({"results": results[-1:]}).splitlines()[-1], flush=True)
    command = " ".join(["python -m benchmarks.memory_estimate", *(sys.argv[1:] if argv is None else argv)])
    report = new_report(run["machine"], command, results)
    notes = [f"load average before {run['load_average']['before']}, after {run['load_average']['after']}"]
    markdown = markdown_report(
        "nnscratch summary's memory estimate against one measured training step", report, table, notes
    )
    # only the full run, as the docs quote it, replaces the committed report
    full_run = args.dataset == "fashion-mnist" and args.models == list(MODELS) and args.batch_size is None
    folder = REPORTS_DIR if full_run else SMOKE_REPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = write_atomically(folder / REPORT_FILE, lambda file: file.write(markdown.encode()))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
