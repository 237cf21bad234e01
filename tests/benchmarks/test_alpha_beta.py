"""The alpha-beta model of a ring allreduce, and the fit that reads alpha and beta back from times."""

import numpy as np
import pytest

from benchmarks.alpha_beta import fit_alpha_beta, ring_allreduce_seconds

SIZES = [4096 * 2**power for power in range(15)]  # the benchmark's 4 KiB ... 64 MiB


def test_two_processes_pay_two_latencies_and_the_whole_buffer_once():
    assert ring_allreduce_seconds(1000, 2, alpha=1e-6, beta=1e-9) == pytest.approx(2e-6 + 1000e-9)


def test_the_bandwidth_term_tends_to_twice_the_buffer_while_the_latency_term_grows_with_the_ring():
    alpha, beta, nbytes = 1e-6, 1e-9, 1e6
    assert ring_allreduce_seconds(nbytes, 1, alpha, beta) == 0
    assert ring_allreduce_seconds(nbytes, 64, 0, beta) == pytest.approx(2 * 63 / 64 * nbytes * beta)
    assert ring_allreduce_seconds(0, 64, alpha, beta) == pytest.approx(126 * alpha)


@pytest.mark.parametrize("processes", [2, 4, 64])
def test_the_fit_recovers_the_alpha_and_beta_that_made_the_times(processes):
    alpha, beta = 7e-6, 0.25e-9
    times = [ring_allreduce_seconds(nbytes, processes, alpha, beta) for nbytes in SIZES]
    assert fit_alpha_beta(SIZES, times, processes) == pytest.approx((alpha, beta), rel=1e-9)


def test_with_noise_of_a_few_percent_the_fit_stays_within_a_few_percent():
    alpha, beta = 5e-6, 0.2e-9
    noise = np.random.default_rng(0).uniform(0.97, 1.03, len(SIZES))
    times = [ring_allreduce_seconds(n, 2, alpha, beta) * factor for n, factor in zip(SIZES, noise, strict=True)]
    fitted_alpha, fitted_beta = fit_alpha_beta(SIZES, times, 2)
    assert fitted_alpha == pytest.approx(alpha, rel=0.05)
    assert fitted_beta == pytest.approx(beta, rel=0.05)


def test_the_relative_fit_keeps_the_small_buffers_latency_that_a_plain_fit_would_lose():
    # a 1% error on the 64 MiB time is larger than the whole 4 KiB time: only relative errors see alpha
    alpha, beta = 5e-6, 0.2e-9
    times = [ring_allreduce_seconds(n, 2, alpha, beta) for n in SIZES]
    times[-1] *= 1.01
    assert fit_alpha_beta(SIZES, times, 2)[0] == pytest.approx(alpha, rel=0.05)


@pytest.mark.parametrize(
    ("sizes", "times", "processes", "message"),
    [
        ([1, 2], [1.0, 2.0], 1, "at least 2 processes"),
        ([4, 4], [1.0, 2.0], 2, ">= 2 distinct sizes"),
        ([1, 2], [1.0], 2, "matching sizes and times"),
        ([1, 2], [1.0, 0.0], 2, "positive"),
    ],
)
def test_the_fit_refuses_what_cannot_determine_two_parameters(sizes, times, processes, message):
    with pytest.raises(ValueError, match=message):
        fit_alpha_beta(sizes, times, processes)
