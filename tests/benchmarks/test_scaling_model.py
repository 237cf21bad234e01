"""The predicted scaling: compute split K ways plus a ring allreduce, written as a report the docs accept."""

import pytest

from benchmarks import scaling_model
from benchmarks.report import write_report
from scripts.docsgen.distributed import scaling_section
from scripts.docsgen.reports import SCALING_MODEL_FILE, load_report

TEN_GBE = scaling_model.ASSUMED[0]


def test_lenet5_has_the_papers_61706_parameters_and_4_bytes_of_gradient_each_in_one_bucket():
    assert scaling_model.gradient_buckets("lenet") == (61706, [4 * 61706])


def test_resnet18s_gradients_travel_in_several_buckets_of_about_4_mib_or_one_large_parameter():
    parameters, buckets = scaling_model.gradient_buckets("resnet18")
    assert sum(buckets) == 4 * parameters and len(buckets) > 10


def test_a_step_is_the_compute_over_k_plus_the_allreduce_of_the_gradients():
    network = scaling_model.Network("toy", alpha_s=1e-5, beta_s_per_byte=1e-9, source="test")
    # 8 processes: 0.08 s / 8 + 2 * 7 * 10 us + 2 * 7 / 8 * 1 MB * 1 ns
    assert scaling_model.step_seconds(0.08, [1e6], 8, network) == pytest.approx(0.01 + 140e-6 + 1.75e-3)
    assert scaling_model.step_seconds(0.08, [1e6], 1, network) == 0.08
    # the same bytes in 4 buckets: the same bandwidth term, 4 times the latency term
    assert scaling_model.step_seconds(0.08, [0.25e6] * 4, 8, network) == pytest.approx(0.01 + 560e-6 + 1.75e-3)


def test_one_process_has_speedup_one_and_a_faster_network_never_predicts_less():
    rows = scaling_model.predictions(0.1, [4.5e6] * 10, list(scaling_model.ASSUMED))
    speedup = {(row["network"], row["processes"]): row["speedup"] for row in rows}
    slow, fast = (network.name for network in scaling_model.ASSUMED)
    assert speedup[slow, 1] == speedup[fast, 1] == 1
    assert all(speedup[fast, k] >= speedup[slow, k] for k in scaling_model.PROCESSES)
    # 45 MB of gradients over 10 Gb/s take ~71 ms per step at 64 processes: slower than 8
    assert speedup[slow, 64] < speedup[slow, 8] < 8


def test_the_report_reads_its_inputs_and_is_accepted_by_the_docs(tmp_path):
    allreduce = {"processes": 2, "date": "2026-12-06", "fit": {"alpha_s": 3e-6, "beta_s_per_byte": 2e-10}}
    throughput = {
        "date": "2026-12-05",
        "machine": {"threads": 2},
        "results": [
            {"model": model, "batch_size": 64, "train_samples_per_s": {"nnscratch": {"median": 640.0}}}
            for model in scaling_model.MODELS
        ],
    }
    report = scaling_model.scaling_report(allreduce, throughput)
    write_report(report, SCALING_MODEL_FILE, scaling_model.markdown(report), tmp_path)
    lenet = load_report(SCALING_MODEL_FILE, tmp_path)["results"][0]
    assert lenet["compute_s"] == pytest.approx(0.1)
    assert len(lenet["predictions"]) == len(scaling_model.PROCESSES) * 3  # the fitted network and two assumed
    section = scaling_section(tmp_path)
    assert section.startswith("A model, not a measurement")
    assert "| lenet | 241 KiB | this machine, shared memory | 100 ms (1×) |" in section
