"""Run the real ``nnscratch`` command in a child process and check that bad input is refused cleanly.

Every test of this folder states one bad input and what the user must see:

    result = run_cli("train", "lenet", "--seed", "-1", cwd=tmp_path)
    assert_refused(result, "--seed")

``assert_refused`` checks the contract of issue 17: the exit code (2 for bad input, 1 for a
failure during the run), exactly one line on stderr that starts with ``nnscratch`` and says
``error``, every expected word in that line, and no Python traceback anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def cli_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a child ``nnscratch``: this checkout first on the import path, no
    $NNSCRATCH_DATA, a user cache under ``tmp_path``, no --debug, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in ("NNSCRATCH_DATA", "NNSCRATCH_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), *sys.path])
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")
    env.update(extra)
    return env


def run_cli(*arguments: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240):
    """``python -m nnscratch *arguments`` in folder ``cwd``; the CompletedProcess (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "nnscratch", *arguments],
        cwd=cwd,
        env=cli_environment(Path(cwd)) if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def error_line(result) -> str:
    """The one line a refused command writes to stderr (an AssertionError showing stderr otherwise)."""
    assert "Traceback" not in result.stderr, f"a traceback reached the user:\n{result.stderr}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("nnscratch") and "error" in line, f"not an nnscratch error line: {line!r}"
    return line


def assert_refused(result, *words: str, code: int = 2) -> str:
    """The command exited with ``code`` after one clean error line containing every one of ``words``."""
    line = error_line(result)
    assert result.returncode == code, f"exit code {result.returncode}, expected {code}; stderr: {line}"
    for word in words:
        assert word in line, f"{word!r} is not in the error line: {line!r}"
    return line


def assert_no_training_started(result) -> None:
    """Nothing of a training run was printed: no epoch line, no model description, no test report."""
    for marker in ("epoch ", "parameters;", "test accuracy"):
        assert marker not in result.stdout, f"training had started ({marker!r} in stdout):\n{result.stdout}"


MEASURE = """
import resource, subprocess, sys
result = subprocess.run([sys.executable, "-m", "nnscratch", "evaluate", *sys.argv[1:]], capture_output=True, text=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, result.returncode, result.stderr.strip())
"""


def peak_rss_of_evaluate(path: Path, tmp_path: Path, *flags: str) -> tuple[float, int, str]:
    """(peak RSS in MiB, exit code, stderr) of ``nnscratch evaluate path *flags``, measured by a fresh
    parent whose only child it is (RUSAGE_CHILDREN holds the largest child that parent ever waited for)."""
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), *flags],
        cwd=tmp_path,
        env=cli_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    kib, code, stderr = measured.stdout.split(" ", 2)
    return int(kib) / 1024, int(code), stderr.strip()
