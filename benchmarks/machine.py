"""What a benchmark ran on: CPU, cores, NumPy's BLAS and its threads, torch and its threads.

A figure without its machine means little: every report carries ``machine_info()``, and the
docs print it next to the tables. The BLAS line comes from threadpoolctl, which reads the
library NumPy actually loaded (OpenBLAS, MKL, ...) and its current thread count, so it also
shows that the thread limit took effect.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.timing import limit_threads


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The "model name" line of /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask), which on a container can be fewer than the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def blas_description() -> str:
    """NumPy's BLAS as threadpoolctl sees it now, e.g. "openblas 0.3.31 (pthreads, SkylakeX, threads 2)"."""
    from threadpoolctl import threadpool_info

    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    if not pools:
        return "none found by threadpoolctl"
    texts = []
    for pool in pools:
        details = [str(pool[key]) for key in ("threading_layer", "architecture") if pool.get(key)]
        details.append(f"threads {pool['num_threads']}")
        texts.append(f"{pool['internal_api']} {pool.get('version')} ({', '.join(details)})")
    return "; ".join(texts)


def machine_info(threads: int) -> dict[str, object]:
    """The machine and the libraries, for a report's "machine" entry (the docs show its items in order)."""
    info: dict[str, object] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "threads": threads,
        "blas": blas_description(),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = f"{torch.__version__} (threads {torch.get_num_threads()})"
    return info


def load_average() -> float:
    """The 1-minute load average (0 where the system has none): other work makes every figure noisier."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


@contextmanager
def measured_run(threads: int) -> Iterator[dict[str, Any]]:
    """The frame of a benchmark run: NumPy's BLAS and torch limited to ``threads``, the machine
    printed, the load average read before and after. Yields a dict for the report: "machine"
    at once, and "load_average" ({"before": ..., "after": ...}) when the block ends."""
    with limit_threads(threads):
        run: dict[str, Any] = {"machine": machine_info(threads)}
        print(", ".join(f"{key} {value}" for key, value in run["machine"].items()), flush=True)
        before = load_average()
        yield run
        run["load_average"] = {"before": before, "after": load_average()}
