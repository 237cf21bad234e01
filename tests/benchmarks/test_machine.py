"""Machine information of the reports: CPU model, cores, BLAS and its threads."""

import re

import torch

from benchmarks.machine import blas_description, cpu_model, machine_info, usable_cores
from benchmarks.timing import limit_threads


def test_cpu_model_is_the_model_name_line_of_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Test\nmodel name\t: Test CPU 9000 @ 3.0GHz\nflags\t: sse\n")
    assert cpu_model(cpuinfo) == "Test CPU 9000 @ 3.0GHz"


def test_cpu_model_without_cpuinfo_still_names_something(tmp_path):
    assert cpu_model(tmp_path / "missing")


def test_blas_description_shows_the_thread_limit_in_force(restore_torch_threads):
    with limit_threads(1):
        assert re.search(r"threads 1\)$", blas_description())
        info = machine_info(1)
    assert info["threads"] == 1 and info["cores"] == usable_cores() >= 1
    assert info["torch"] == f"{torch.__version__} (threads 1)"
    assert list(info)[:4] == ["cpu", "cores", "threads", "blas"]
