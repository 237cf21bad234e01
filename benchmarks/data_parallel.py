"""Two cores, used two ways: one process with 2 BLAS threads, or two processes (mpiexec) with 1 each.

    python -m benchmarks.data_parallel                       lenet and baseline; writes data_parallel.{json,md}
    python -m benchmarks.data_parallel --models lenet --rounds 3 --quick

Both configurations train the same model on the same global batch, built as its ``nnscratch
train`` command builds it: one process multiplies the whole batch's matrices with two
threads; two processes each take half of every batch with one thread, then average their
gradients with an allreduce (``nnscratch/vectorized/data_parallel.py``). Which is faster
depends on how well the BLAS splits small matrix products between threads, against what the
allreduce and the per-batch Python work cost twice over. A third configuration, one process
with one thread, is the reference for both: it shows what the second core adds either way.

A measurement is a child process (``benchmarks/data_parallel_worker.py``: one warm-up epoch,
then one timed epoch of ``--batches`` global batches, timed by ``fit``), so the two
configurations start alike. They take turns, A, B, C, A, B, C, ... for ``--rounds`` rounds, so
that load from elsewhere hits all of them; the report gives the median and range of samples/s
over the rounds, and the ratio 2 processes x 1 thread / 1 process x 2 threads in each round
(above 1: two processes are faster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.machine import load_average, machine_info
from benchmarks.options import add_report_arguments, parse_with_rounds
from benchmarks.report import load_average_text, new_report, publish, reports_dir
from benchmarks.timing import Spread, paired_ratios
from benchmarks.workloads import cli_settings
from nnscratch.cli.arguments import positive_int
from nnscratch.common.datasets import DATASET_NAMES
from scripts.docsgen.distributed import data_parallel_table
from scripts.docsgen.reports import DATA_PARALLEL_FILE

MODELS = ("lenet", "baseline")
BATCHES = {"lenet": 40, "baseline": 10}  # global batches per timed epoch, as python -m benchmarks
QUICK_BATCHES = {"lenet": 4, "baseline": 2}
ROUNDS, QUICK_ROUNDS = 5, 1
# (processes, threads per process): the two ways to use two cores, compared, then the one-core reference
CONFIGURATIONS = ((1, 2), (2, 1), (1, 1))


def mpiexec() -> str:
    """The mpiexec next to this Python (the MPICH wheel installs it into the environment), else on the PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("benchmarks.data_parallel needs mpiexec: pip install 'nnscratch[distributed]'")
    return found


def worker_command(model: str, processes: int, threads: int, batches: int, args: argparse.Namespace) -> list[str]:
    """The command line of one measurement: the worker alone, or under ``mpiexec -n processes``."""
    command = [sys.executable, "-m", "benchmarks.data_parallel_worker", model]
    command += ["--batches", str(batches), "--threads", str(threads), "--dataset", args.dataset]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    return command if processes == 1 else [mpiexec(), "-n", str(processes), *command]


def run_worker(command: list[str]) -> float:
    """Samples/s that one worker run reports (its last line of output is JSON)."""
    root = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["samples_per_s"])


def measure(model: str, batches: int, rounds: int, args: argparse.Namespace) -> dict[str, Any]:
    """Samples/s of every configuration, interleaved over the rounds, and the ratio of the first two: one result."""
    rates: dict[tuple[int, int], list[float]] = {configuration: [] for configuration in CONFIGURATIONS}
    for _ in range(rounds):
        for processes, threads in CONFIGURATIONS:
            rate = run_worker(worker_command(model, processes, threads, batches, args))
            rates[processes, threads].append(rate)
            print(f"  {model}: {processes} x {threads} (processes x threads): {rate:,.0f} samples/s", flush=True)
    threads, processes = (rates[configuration] for configuration in CONFIGURATIONS[:2])
    return {
        "model": model,
        "batch_size": cli_settings(model, args.dataset).batch_size,
        "batches": batches,
        "configurations": [
            {
                "processes": processes,
                "threads": threads,
                "samples_per_s": Spread.of(rates[processes, threads]).as_dict(),
            }
            for processes, threads in CONFIGURATIONS
        ],
        "ratio": Spread.of(paired_ratios(processes, threads)).as_dict(),
    }


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.data_parallel",
        description="1 process x 2 threads against 2 processes x 1 thread, same global batch, interleaved. "
        "Writes data_parallel.json and data_parallel.md.",
    )
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="default: all")
    parser.add_argument("--rounds", type=positive_int, help=f"measurements per configuration (default {ROUNDS})")
    defaults = ", ".join(f"{model} {count}" for model, count in BATCHES.items())
    parser.add_argument("--batches", type=positive_int, help=f"global batches per timed epoch (default: {defaults})")
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="default: %(default)s")
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    add_report_arguments(parser, "a smoke run: few batches, one round")
    return parse_with_rounds(parser, argv, ROUNDS, QUICK_ROUNDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(argv)
    defaults = QUICK_BATCHES if args.quick else BATCHES
    load_before = load_average()
    results = [measure(model, args.batches or defaults[model], args.rounds, args) for model in args.models]
    load = {"before": load_before, "after": load_average()}
    notes = [
        f"{args.rounds} rounds, the configurations taking turns; a measurement: a child process trains one "
        "warm-up epoch, then one timed epoch (by fit) of the given number of global batches; float32.",
        "samples/s: median (min–max) over the rounds; ratio: 2 processes × 1 thread / 1 process × 2 threads in "
        "the same round, median (min–max); above 1, two processes are faster. 1 process × 1 thread: the one-core "
        "reference.",
        f"{load_average_text(load)} (other jobs share the 2 cores).",
    ]
    machine = {key: value for key, value in machine_info(threads=2).items() if key not in ("threads", "blas")}
    report = new_report(
        machine,
        " ".join(["python -m benchmarks.data_parallel", *argv]),
        results,
        load_average=load,
        notes=notes,
    )
    print(data_parallel_table(report))
    folder = reports_dir(args.report_dir, smoke=args.quick or args.dataset != "fashion-mnist")
    title = "One process with two threads, or two processes with one"
    publish(report, DATA_PARALLEL_FILE, title, data_parallel_table, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
