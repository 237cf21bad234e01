"""``benchmarks.allreduce`` without MPI: a stand-in world of two identical ranks, a report the docs accept."""

import numpy as np
import pytest

from benchmarks import allreduce
from benchmarks.alpha_beta import ring_allreduce_seconds
from benchmarks.report import publish
from scripts.docsgen.distributed import allreduce_section, allreduce_table
from scripts.docsgen.reports import ALLREDUCE_FILE, load_report


class TwoEqualRanks:
    """What a world of two ranks holding the same array returns: twice the array."""

    size, is_root = 2, True

    def __init__(self):
        self.calls = 0

    def allreduce_sum(self, array):
        self.calls += 1
        array *= 2
        return array

    def barrier(self):
        pass


def test_small_buffers_are_repeated_to_about_16_mib_per_measurement_and_large_ones_run_once():
    assert allreduce.calls_for(4096) == allreduce.MAX_CALLS
    assert allreduce.calls_for(2**20) == 16
    assert allreduce.calls_for(64 * 2**20) == 1


def test_each_round_times_every_size_and_the_mean_over_ranks_is_kept():
    group = TwoEqualRanks()
    sizes = [4096, 2**24]
    seconds = allreduce.time_sizes(group, sizes, rounds=3)
    assert seconds.shape == (3, 2) and np.all(seconds > 0)
    per_round = allreduce.calls_for(4096) + allreduce.calls_for(2**24)
    assert group.calls == 4 * per_round + 1  # a warm-up round, 3 timed ones, then the sum of the times


def test_the_report_holds_the_fit_and_the_docs_show_it(tmp_path):
    sizes = allreduce.SIZES
    alpha, beta = 4e-6, 0.25e-9
    seconds = np.array([[ring_allreduce_seconds(n, 2, alpha, beta) for n in sizes]] * 3)
    results = allreduce.results_of(sizes, seconds)
    report = {"machine": {}, "date": "2026-12-06", "command": "test", "results": results, "processes": 2}
    report["fit"] = allreduce.fitted_model(results, 2)
    publish(report, ALLREDUCE_FILE, "test", allreduce_table, tmp_path)
    loaded = load_report(ALLREDUCE_FILE, tmp_path)
    assert (loaded["fit"]["alpha_s"], loaded["fit"]["beta_s_per_byte"]) == pytest.approx((alpha, beta))
    assert all(result["model_over_measured"] == pytest.approx(1) for result in loaded["results"])
    assert loaded["results"][0]["bytes_per_s"] == pytest.approx(4096 / (2 * alpha + 4096 * beta))
    section = allreduce_section(tmp_path)
    assert "| 64 MiB | 1 |" in section and "α = 4 µs per ring step, β = 0.25 ns per byte (1/β = 4 GB/s)" in section
