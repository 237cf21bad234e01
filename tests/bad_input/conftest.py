"""Fixtures of the bad-input tests: a working folder per test, and the commands that run there."""

import pytest

from .support import cli_environment, run_cli


@pytest.fixture
def cli(tmp_path):
    """``cli(*arguments, **env)``: run ``nnscratch`` in ``tmp_path`` with an isolated environment."""

    def run(*arguments: str, **extra_env: str):
        return run_cli(*arguments, cwd=tmp_path, env=cli_environment(tmp_path, **extra_env))

    return run
