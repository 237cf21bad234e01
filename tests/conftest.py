"""pytest configuration shared by the whole suite."""

import os

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps the suite's run time predictable; NNSCRATCH_HYPOTHESIS_PROFILE=thorough digs deeper.
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("NNSCRATCH_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _cpu_backend():
    """Every test starts (and ends) on the CPU backend, whatever an earlier test selected, and from
    the same root seed, so its random weights do not depend on which tests ran before it."""
    from nnscratch.common.backend import use_device
    from nnscratch.common.seed import manual_seed

    manual_seed(0)
    use_device("cpu")
    yield
    use_device("cpu")


@pytest.fixture
def isolated_data_dirs(tmp_path, monkeypatch):
    """Point every dataset search location at empty folders under tmp_path."""
    from nnscratch.common import datasets

    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "SYSTEM_DATA_ROOT", tmp_path / "system")
    return tmp_path
