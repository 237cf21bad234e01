"""Allreduce latency and bandwidth, and the alpha-beta model fitted to them: run it under MPI.

    mpiexec -n 2 python -m benchmarks.allreduce              4 KiB to 64 MiB; writes allreduce.{json,md}
    mpiexec -n 2 python -m benchmarks.allreduce --quick      smoke run, reports in out/benchmarks/

What is timed is the sum of a float32 buffer over all processes, in place, through
``nnscratch.common.distributed``: the very call that averages gradients in training. The
buffer sizes double from 4 KiB to 64 MiB (the gradients of LeNet-5 are ~240 KiB, those of
ResNet18 ~43 MiB). Each round goes through every size once, smallest first, so that a burst
of load from elsewhere spreads over all sizes instead of spoiling one; one untimed round comes
first. A measurement is a barrier, then ``calls`` allreduces in a row, of which the mean is
kept: a single 4 KiB allreduce takes microseconds, below what one timer reading resolves on a
busy machine, so small buffers are repeated until a measurement moves ~16 MiB.

Each process times its own calls; the report keeps the mean over processes of each
measurement, and per size the median and range over rounds. Bandwidth is bytes / median time
(the "algorithm bandwidth": the size of the buffer, not the bytes on the wire). The alpha-beta
model of a ring allreduce (``benchmarks/alpha_beta.py``) is fitted to the medians.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time
from typing import Any

import numpy as np

from benchmarks.alpha_beta import fit_alpha_beta, ring_allreduce_seconds
from benchmarks.machine import load_average, machine_info
from benchmarks.options import add_report_arguments, parse_with_rounds
from benchmarks.report import load_average_text, new_report, publish, reports_dir
from benchmarks.timing import Spread
from nnscratch.cli.arguments import positive_int
from nnscratch.common.distributed import world
from scripts.docsgen.distributed import allreduce_table
from scripts.docsgen.reports import ALLREDUCE_FILE

KIB = 1024
SIZES = [4 * KIB * 2**power for power in range(15)]  # 4 KiB, 8 KiB, ..., 64 MiB
BYTES_PER_MEASUREMENT = 16 * KIB * KIB
MAX_CALLS = 256  # enough for the smallest buffer: 256 calls of a few microseconds each dwarf the timer's noise
ROUNDS, QUICK_ROUNDS = 9, 2
QUICK_SIZES = SIZES[::4]


def calls_for(nbytes: int) -> int:
    """How many allreduces of ``nbytes`` one measurement makes: ~16 MiB in all, 1 to 256."""
    return int(np.clip(BYTES_PER_MEASUREMENT // nbytes, 1, MAX_CALLS))


def time_sizes(group: Any, sizes: list[int], rounds: int) -> np.ndarray:
    """Seconds per allreduce, shape (rounds, len(sizes)), the mean over the processes of each measurement.

    The buffers hold zeros, which stay zeros however often they are summed (ones would double
    at every call and reach infinity after 128).
    """
    buffers = [np.zeros(nbytes // 4, dtype=np.float32) for nbytes in sizes]
    seconds = np.zeros((rounds, len(sizes)))
    for round_index in range(-1, rounds):  # round -1: the warm-up, not kept
        for column, buffer in enumerate(buffers):
            calls = calls_for(buffer.nbytes)
            group.barrier()
            start = time.perf_counter()
            for _ in range(calls):
                group.allreduce_sum(buffer)
            if round_index >= 0:
                seconds[round_index, column] = (time.perf_counter() - start) / calls
    group.allreduce_sum(seconds)
    return seconds / group.size


def results_of(sizes: list[int], seconds: np.ndarray) -> list[dict[str, Any]]:
    """One result per size: bytes, calls per measurement, seconds (median, range), bandwidth in bytes/s."""
    results = []
    for column, nbytes in enumerate(sizes):
        spread = Spread.of(seconds[:, column].tolist())
        results.append(
            {
                "bytes": nbytes,
                "calls": calls_for(nbytes),
                "seconds": spread.as_dict(),
                "bytes_per_s": nbytes / spread.median,
            }
        )
    return results


def fitted_model(results: list[dict[str, Any]], processes: int) -> dict[str, Any]:
    """alpha and beta fitted to the median times, and the model's time over the measured one per size."""
    sizes = [result["bytes"] for result in results]
    medians = [result["seconds"]["median"] for result in results]
    alpha, beta = fit_alpha_beta(sizes, medians, processes)
    for result, median in zip(results, medians, strict=True):
        result["model_over_measured"] = ring_allreduce_seconds(result["bytes"], processes, alpha, beta) / median
    return {
        "alpha_s": alpha,
        "beta_s_per_byte": beta,
        "formula": "T(n, p) = 2 (p - 1) alpha + 2 (p - 1) / p * n * beta",
        "fitted_to": "the median time of each size, least squares on the relative error",
    }


def transport() -> str:
    """The MPI library under mpi4py, from the installed packages' metadata (no import of mpi4py here)."""
    names = []
    for package in ("mpi4py", "mpich", "openmpi", "impi-rt"):
        try:
            names.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(names) or "unknown"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mpiexec -n P python -m benchmarks.allreduce",
        description="Allreduce time and bandwidth from 4 KiB to 64 MiB, and the fitted alpha-beta model. "
        "Writes allreduce.json and allreduce.md.",
    )
    parser.add_argument("--rounds", type=positive_int, help=f"rounds over all sizes (default {ROUNDS}; quick 2)")
    add_report_arguments(parser, "a smoke run: 4 sizes, 2 rounds")
    return parse_with_rounds(parser, argv, ROUNDS, QUICK_ROUNDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(argv)
    group = world()
    if group.size < 2:
        print("benchmarks.allreduce needs 2 or more processes: mpiexec -n 2 python -m benchmarks.allreduce")
        return 2
    sizes = QUICK_SIZES if args.quick else SIZES
    load_before = load_average()
    seconds = time_sizes(group, sizes, args.rounds)
    if not group.is_root:
        return 0
    load = {"before": load_before, "after": load_average()}
    results = results_of(sizes, seconds)
    machine = {**machine_info(threads=1), "processes": group.size, "mpi": transport()}
    notes = [
        f"{group.size} processes on one machine (MPI over shared memory), float32 buffers summed in place; "
        f"{args.rounds} rounds over all sizes after one untimed round.",
        "time: median (min–max) over the rounds of the mean time per call; small buffers are summed several times "
        f"in a row per measurement (~{BYTES_PER_MEASUREMENT // (KIB * KIB)} MiB in all, at most {MAX_CALLS} calls).",
        "bandwidth: buffer bytes / median time; model / measured: the fitted alpha-beta model's time over the median.",
        f"{load_average_text(load)}.",
    ]
    report = new_report(
        machine,
        " ".join([f"mpiexec -n {group.size} python -m benchmarks.allreduce", *argv]),
        results,
        processes=group.size,
        fit=fitted_model(results, group.size),
        notes=notes,
    )
    print(allreduce_table(report))
    folder = reports_dir(args.report_dir, smoke=args.quick)
    publish(report, ALLREDUCE_FILE, "Allreduce time and bandwidth, and the alpha-beta fit", allreduce_table, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
