"""pytest configuration shared by the whole suite."""

import os

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps the suite's run time predictable; NNSCRATCH_HYPOTHESIS_PROFILE=thorough digs deeper.
# function_scoped_fixture: the ``backend`` fixture only selects a device, which every example may share
QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=QUIET, derandomize=True)
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=QUIET)
settings.load_profile(os.environ.get("NNSCRATCH_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _same_start():
    """Every test starts from the same root seed, so its random weights do not depend on which tests
    ran before it; and whatever device it selected, the next one finds the CPU active again."""
    from nnscratch.common.backend import use_device
    from nnscratch.common.seed import manual_seed

    manual_seed(0)
    yield
    use_device("cpu")


@pytest.fixture(params=["numpy", "cupy"])
def backend(request):
    """The array module a spec runs on, made the active backend: NumPy, and CuPy where CuPy and a GPU
    are present (skipped, saying so, elsewhere). A spec that takes it is written once and runs on
    both: it puts its inputs on the device (``tests.support.on_device``) and compares on the CPU."""
    from nnscratch.common.backend import gpu_available, use_device

    if request.param == "cupy" and not gpu_available():
        pytest.skip("CuPy with a CUDA device is not available here (pip install 'nnscratch[gpu]' on a GPU machine)")
    use_device("gpu" if request.param == "cupy" else "cpu")
    yield request.param
    use_device("cpu")


@pytest.fixture
def isolated_data_dirs(tmp_path, monkeypatch):
    """Point every dataset search location at empty folders under tmp_path."""
    from nnscratch.common import datasets

    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "SYSTEM_DATA_ROOT", tmp_path / "system")
    return tmp_path


@pytest.fixture(scope="session")
def notebook_runs():
    """Every ``notebooks/*.py`` run once per session, each in a new kernel: {name: Run, or the error}.

    The runs are stored (``scripts.notebooks.run_and_store``), so the docs build of
    ``tests/docs/test_build.py``, which asks for this fixture, shows them without running them again.
    """
    from scripts.notebooks import run_and_store, sources

    runs = {}
    for source in sources():
        try:
            runs[source.stem] = run_and_store(source)
        except Exception as error:  # reported by the test of that notebook, with the failing cell
            runs[source.stem] = error
    return runs
