"""The notebooks of ``notebooks/``: jupytext sources made into Jupyter notebooks, and run.

The sources are percent-format ``.py`` files (``# %%`` starts a code cell, ``# %% [markdown]`` a
text cell), so a change to a notebook reads as a plain diff. Every ``notebooks/*.py`` is one
notebook; nothing lists them by hand. A notebook opens with a text cell whose first line is its
``# Title`` (the page title on the site), runs on the bundled sample only (no network) and writes
nothing to stderr (tests/notebooks checks both).

    python -m scripts.notebooks build/notebooks             # the .ipynb files, not run (make notebooks)
    python -m scripts.notebooks --execute build/notebooks   # run as well, outputs kept

Running one (``execute``) starts a fresh kernel of *this* interpreter (ipykernel's own
``python3`` spec, not whatever ``python3`` kernel a user has installed elsewhere) in a scratch
folder, with the repository importable and BLAS limited to one thread.

One run serves both the test suite and the docs build: ``run_and_store`` always runs a notebook
and stores the result under ``build/notebooks/executed/``, labelled with ``source_key``, a hash
of the source *and* of the library it imports; ``executed`` (the docs) reuses a stored run whose
label still matches and runs the notebook itself otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
STORE_DIR = ROOT / "build" / "notebooks" / "executed"
LIBRARY_DIR = ROOT / "nnscratch"
CELL_TIMEOUT_S = 300
# Tiny matrices gain nothing from many BLAS threads, and the suite may run beside other work.
THREAD_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Run:
    """One executed notebook and how long its kernel took (seconds, start-up included)."""

    notebook: nbformat.NotebookNode
    seconds: float


def sources(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Every notebook source, in order of name (``01_...``, ``02_...``)."""
    return sorted(folder.glob("*.py"))


def read(source: Path) -> nbformat.NotebookNode:
    """The notebook of a percent-format source, without outputs."""
    return jupytext.read(source, fmt="py:percent")


def source_key(source: Path) -> str:
    """A hash of the source, of every library file and of this file: a stored run is reused only
    while none of them changed, so the docs never show the outputs of older code."""
    digest = hashlib.sha256(source.read_bytes())
    for path in [Path(__file__), *sorted(LIBRARY_DIR.rglob("*.py"))]:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def kernel_environment() -> dict[str, str]:
    """The kernel's environment: this one, the repository first on the path, one BLAS thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update({name: "1" for name in THREAD_LIMITS})
    env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures into the notebook
    # tqdm.auto warns in every kernel without ipywidgets; the notebooks train with quiet=True, so it is noise
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), "ignore:IProgress not found"]))
    return env


def execute(source: Path) -> Run:
    """Run every cell of ``source`` in a new kernel; a cell that fails raises nbclient's CellExecutionError."""
    notebook = read(source)
    # only ipykernel's built-in spec: "python3" is then this interpreter, whatever else is installed
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"nnscratch-{source.stem}-") as folder:
        client = NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": folder}})
        client.execute(env=kernel_environment())
    return Run(notebook, time.perf_counter() - start)


def stored_path(source: Path, store: Path = STORE_DIR) -> Path:
    return store / f"{source.stem}.ipynb"


def run_and_store(source: Path, store: Path = STORE_DIR) -> Run:
    """Execute ``source`` (always) and store the result with its ``source_key`` for ``executed``."""
    key = source_key(source)
    run = execute(source)
    run.notebook.metadata["nnscratch"] = {"source_key": key, "seconds": round(run.seconds, 2)}
    path = stored_path(source, store)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    nbformat.write(run.notebook, partial)
    partial.replace(path)  # readers see the old run or the new one, never half of one
    return run


def executed(source: Path, store: Path = STORE_DIR) -> nbformat.NotebookNode:
    """The executed notebook of ``source``: the stored run when it is of this very source and
    library, otherwise a new run (which is stored)."""
    path = stored_path(source, store)
    if path.is_file():
        notebook = nbformat.read(path, as_version=4)
        if notebook.metadata.get("nnscratch", {}).get("source_key") == source_key(source):
            return notebook
    return run_and_store(source, store).notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write notebooks/*.py as Jupyter notebooks")
    parser.add_argument("out_dir", type=Path, help="folder for the .ipynb files")
    parser.add_argument("--execute", action="store_true", help="run each notebook and keep its outputs")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for source in sources():
        notebook = executed(source) if args.execute else read(source)
        target = args.out_dir / f"{source.stem}.ipynb"
        nbformat.write(notebook, target)
        took = f" (its run took {notebook.metadata['nnscratch']['seconds']:.1f} s)" if args.execute else ""
        print(f"{source.relative_to(ROOT)} -> {target}{took}")


if __name__ == "__main__":
    main()
