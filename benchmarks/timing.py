"""Fair timing of two libraries in one process: thread limits, interleaving, pauses, medians.

Timings of small models vary by up to ~2x from one process to the next on a shared machine,
so a comparison is only fair inside one process, with the two sides taking turns (A, B, A,
B, ...): a burst of load from elsewhere then hits both. ``time_interleaved`` does that, after
a warm-up, and ``Spread`` summarises each side's repeats as median and range.

Both sides get the same number of threads: ``limit_threads`` caps NumPy's BLAS (through
threadpoolctl) and, when torch is loaded, torch's intra-op pool. A process that never imports
torch (the nnscratch side of a memory measurement) stays free of it.

Why the pauses: after a parallel call, OpenBLAS's worker threads busy-wait for a while
(up to ~0.1 s) before they sleep, and the OpenMP threads of PyTorch do the same. On a
2-core machine, a measurement that starts while the other library's threads are still
spinning loses a core to them and can take twice as long. A short sleep before each
measurement (``PAUSE``; 0.3 s was enough in every test on 2 cores) lets them go to sleep.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

PAUSE = 0.3  # seconds of sleep before each measurement: see the module docstring


@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            raise ValueError("Spread.of: no measurements")
        return cls(statistics.median(values), min(values), max(values))

    def as_dict(self) -> dict[str, float]:
        """``{"median", "min", "max"}``: the form of the benchmark reports."""
        return {"median": self.median, "min": self.min, "max": self.max}


def limit_threads(threads: int) -> AbstractContextManager:
    """A context in which NumPy's BLAS uses ``threads`` threads, and torch too when it is imported.

    torch's pool is set with ``torch.set_num_threads`` (for the rest of the process: torch has
    no context for it). threadpoolctl is the ``bench`` extra's dependency.
    """
    if threads < 1:
        raise ValueError(f"limit_threads: threads must be >= 1, got {threads}")
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threadpool_limits(limits=threads, user_api="blas")


def time_interleaved(
    steps: dict[str, Callable[[], object]],
    rounds: int,
    warmup: int = 1,
    pause: float = PAUSE,
    untimed_first: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Seconds per call of each step, the steps taking turns (A, B, A, B, ...) after a warm-up.

    steps: name -> a call to time. ``warmup`` untimed rounds come first (first calls allocate
    buffers and pick algorithms). Then, ``rounds`` times, each step in order: sleep ``pause``
    (see the module docstring), and time one call. ``untimed_first`` adds an untimed call
    right before the timed one, which wakes this library's threads so that the timed call runs
    as it would in a loop: it matters for a single layer (milliseconds), not for a whole
    training slice, which wakes them itself. Returns name -> [seconds of each round].
    """
    if rounds < 1 or warmup < 0:
        raise ValueError(f"time_interleaved: need rounds >= 1 and warmup >= 0, got rounds={rounds}, warmup={warmup}")
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            sleep(pause)
            if untimed_first:
                step()
            start = clock()
            step()
            times[name].append(clock() - start)
    return times


def rates(seconds: list[float], items: int) -> list[float]:
    """Items per second of each measurement that processed ``items`` items in ``seconds[i]``."""
    return [items / value for value in seconds]


def paired_ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """``numerators[i] / denominators[i]`` for every round i: two sides compared round by round.

    The median of these paired ratios, not the ratio of the two medians: a burst of load hits both
    sides of one round, so it mostly cancels in that round's ratio.
    """
    return [top / bottom for top, bottom in zip(numerators, denominators, strict=True)]
