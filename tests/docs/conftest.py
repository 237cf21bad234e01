"""The built site, shared by every docs test that reads it: one strict build per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.pages import ROOT


@pytest.fixture(scope="session")
def site(tmp_path_factory, notebook_runs) -> Path:
    """``mkdocs build --strict`` into a temporary folder (a subprocess); fails on any warning.

    ``notebook_runs``: the notebooks have just run and been stored, so the build shows them without
    running them a second time.
    """
    folder = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # Material's banner about its successor is not ours
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    result = subprocess.run([*command, "--site-dir", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    warnings = [line for line in result.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "mkdocs warned:\n" + "\n".join(warnings)
    return folder
