"""``benchmarks.data_parallel``: the two configurations' command lines, a worker's run, the report the docs show."""

import argparse
import json

import pytest

from benchmarks import data_parallel, data_parallel_worker
from benchmarks.report import publish
from scripts.docsgen.distributed import data_parallel_section, data_parallel_table
from scripts.docsgen.reports import DATA_PARALLEL_FILE, ReportError, load_report


def options(**given):
    return argparse.Namespace(dataset="sample", data_dir=None, **given)


def test_one_process_runs_the_worker_alone_and_two_run_it_under_mpiexec_with_one_thread_each():
    worker = ["-m", "benchmarks.data_parallel_worker", "lenet", "--batches", "40", "--threads"]
    alone = data_parallel.worker_command("lenet", 1, 2, 40, options())
    assert alone[1:] == [*worker, "2", "--dataset", "sample"]
    together = data_parallel.worker_command("lenet", 2, 1, 40, options())
    assert together[0].endswith("mpiexec") and together[1:3] == ["-n", "2"]
    assert together[4:] == [*worker, "1", "--dataset", "sample"]


def test_a_worker_alone_trains_with_fit_and_prints_its_samples_per_second(capsys):
    assert data_parallel_worker.main(["lenet", "--batches", "1", "--threads", "1", "--dataset", "sample"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["processes"] == 1 and line["samples_per_s"] > 0


def test_the_report_gives_each_configuration_and_the_paired_ratio(tmp_path):
    result = {
        "model": "lenet",
        "batch_size": 32,
        "batches": 40,
        "configurations": [
            {"processes": 1, "threads": 2, "samples_per_s": {"median": 1000.0, "min": 900.0, "max": 1100.0}},
            {"processes": 2, "threads": 1, "samples_per_s": {"median": 1500.0, "min": 1400.0, "max": 1600.0}},
        ],
        "ratio": {"median": 1.5, "min": 1.3, "max": 1.7},
    }
    report = {"machine": {}, "date": "2026-12-06", "command": "test", "results": [result]}
    publish(report, DATA_PARALLEL_FILE, "test", data_parallel_table, tmp_path)
    section = data_parallel_section(tmp_path)
    names = "samples/s, 1 process × 2 threads | samples/s, 2 processes × 1 thread"
    assert f"| model | global batch | {names} | ratio 2 processes × 1 thread / 1 process × 2 threads |" in section
    assert "| lenet | 32 | 1,000 (900–1,100) | 1,500 (1,400–1,600) | 1.50× (1.30–1.70) |" in section
    del result["configurations"][1]
    (tmp_path / DATA_PARALLEL_FILE).write_text(json.dumps(report))
    with pytest.raises(ReportError, match="needs at least 2 configurations"):
        load_report(DATA_PARALLEL_FILE, tmp_path)
