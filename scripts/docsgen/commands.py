"""Real ``nnscratch`` runs for the pages: the command line, what it printed, and the files it wrote.

Each command runs in a fresh process (``python -m nnscratch``), as a reader would run it, in a
temporary folder, so that relative paths in its output (``--plots out/lenet``) read as they
would on the reader's machine.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import ROOT

# What "Getting started" shows: LeNet-5 on the bundled sample, long enough to train well (the
# learning-rate drops show in its curves) and short enough for every build (seconds).
DEMO_ARGS = ("train", "lenet", "--epochs", "10", "--dataset", "sample", "--quiet", "--plots", "out/lenet")
# Runs other pages show, by name: (the arguments, the folder whose files the site gets). The
# autoencoder's whole recipe on the bundled sample takes seconds, and its plots are the page's figures.
PAGE_RUNS = {
    "autoencoder": (
        ("reconstruct", "autoencoder", "--dataset", "sample", "--quiet", "--plots", "out/autoencoder"),
        "out/autoencoder",
    ),
}


@dataclass
class Run:
    """One finished command: its arguments, what it printed (stdout), and the files it wrote under its folder."""

    args: tuple[str, ...]
    output: str
    files: dict[str, bytes] = field(default_factory=dict)

    def console(self) -> str:
        """The run as a console session: the prompt line, then the output."""
        return f"$ nnscratch {shlex.join(self.args)}\n{self.output}".rstrip()


def run_nnscratch(args: tuple[str, ...] | list[str], keep: str | None = None) -> Run:
    """Run ``nnscratch ARGS`` in a new temporary folder; ``keep``: a subfolder whose files to return.

    A failing command stops the docs build with its stderr: a page must never show a broken run.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    with tempfile.TemporaryDirectory(prefix="nnscratch-docs-") as folder:
        completed = subprocess.run(
            [sys.executable, "-m", "nnscratch", *args], cwd=folder, env=env, capture_output=True, text=True
        )
        if completed.returncode != 0:
            raise RuntimeError(f"nnscratch {shlex.join(args)} failed ({completed.returncode}):\n{completed.stderr}")
        files = {}
        if keep is not None:
            for path in sorted((Path(folder) / keep).rglob("*")):
                if path.is_file():
                    files[path.relative_to(Path(folder) / keep).as_posix()] = path.read_bytes()
        return Run(tuple(args), completed.stdout, files)


def demo_run() -> Run:
    """The LeNet run of "Getting started", with its plots (curves.png, confusion_matrix.png ...)."""
    return run_nnscratch(DEMO_ARGS, keep="out/lenet")


def page_runs() -> dict[str, Run]:
    """Every run of ``PAGE_RUNS``, with the files it wrote into its folder."""
    return {name: run_nnscratch(args, keep=folder) for name, (args, folder) in PAGE_RUNS.items()}
