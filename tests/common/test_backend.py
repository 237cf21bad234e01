import sys
import types

import numpy as np
import pytest

from nnscratch.common import backend
from nnscratch.common.backend import current_device, get_array_module, to_cpu, to_device, use_device, xp


def test_xp_is_numpy_on_the_cpu():
    assert use_device("cpu") == "cpu"
    assert current_device() == "cpu"
    assert xp.zeros is np.zeros
    assert isinstance(xp.ones(3), np.ndarray)


def test_to_device_keeps_or_converts_dtype_and_avoids_copies():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert to_device(a) is a
    converted = to_device(a, dtype=np.float64)
    assert converted.dtype == np.float64
    np.testing.assert_array_equal(converted, a)
    assert to_device([1, 2]).dtype.kind == "i"


def test_to_cpu_and_get_array_module_for_numpy():
    a = np.ones((2, 2))
    assert to_cpu(a) is a
    assert get_array_module(a) is np
    assert get_array_module(a, 3.0) is np


def test_gpu_without_cupy_raises_a_runtime_error_saying_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(RuntimeError, match=r"needs CuPy, which is not installed.*pip install 'nnscratch\[gpu\]'"):
        use_device("gpu")
    assert current_device() == "cpu"


def test_gpu_with_cupy_but_no_device_raises_a_runtime_error(monkeypatch):
    def no_device():
        raise Exception("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(RuntimeError, match="cannot talk to a CUDA device.*no CUDA-capable device"):
        use_device("gpu")


def test_auto_falls_back_to_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert use_device("auto") == "cpu"
    assert not backend.gpu_available()


def test_unknown_device_is_refused():
    with pytest.raises(ValueError, match="device must be 'cpu', 'gpu' or 'auto', got 'tpu'"):
        use_device("tpu")
