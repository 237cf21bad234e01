"""Fixtures of the benchmark harness's tests."""

import pytest
import torch


@pytest.fixture
def restore_torch_threads():
    """The benchmarks set torch's thread count for the whole process: put it back after the test."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
