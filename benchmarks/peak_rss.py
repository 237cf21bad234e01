"""Peak resident memory while training one model, each library in a process of its own.

    python -m benchmarks.peak_rss nnscratch baseline --batches 5 --threads 2

The child process loads the data, builds the model as ``benchmarks.workloads`` does (and,
for "pytorch", its float32 twin, after which the nnscratch model is dropped), then trains it
for ``--batches`` batches and prints one JSON line with ``peak_rss_mib``, ``training_only``
(see below) and ``torch_imported``: the nnscratch child never imports torch, and says so.

The figure is the process's peak resident set *during training*: everything it held at its
fullest, i.e. the interpreter, the libraries (torch's alone are a few hundred MiB), the
training images and the training step's arrays. On Linux the kernel's high-water mark
(VmHWM) is reset once the setup is done (``/proc/self/clear_refs``), because loading the
dataset has a larger transient peak of its own (``Dataset.normalize`` computes the
statistics in float64 over all 60,000 images: ~380 MiB) that would hide the training's.
Where that reset is unavailable, the figure is ``ru_maxrss``, the peak of the whole process,
setup included. ``peak_rss_mib(...)`` runs a child and returns its figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
from pathlib import Path

from benchmarks.timing import limit_threads
from benchmarks.workloads import build_setup, cli_settings, model_inputs
from nnscratch.cli.arguments import positive_int
from nnscratch.common.datasets import load_dataset

LIBRARIES = ("nnscratch", "pytorch")
ROOT = Path(__file__).resolve().parents[1]


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current resident size; False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def status_kib(field: str) -> int | None:
    """A memory line of /proc/self/status in KiB, e.g. "VmRSS" (now) or "VmHWM" (the peak); None without /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])  # the line reads "VmHWM:  123456 kB"
    except OSError:
        pass
    return None


def peak_rss_since_reset_mib() -> float:
    """VmHWM in MiB (the peak since ``reset_peak_rss``); without /proc, ru_maxrss (the process's peak)."""
    peak_kib = status_kib("VmHWM")
    if peak_kib is not None:
        return peak_kib / 2**10
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def train_in_this_process(library: str, model: str, batches: int, dataset_name: str, data_dir: str | None) -> bool:
    """Train ``model`` for ``batches`` batches with ``library``, as the throughput benchmark does;
    the peak-RSS mark is reset between setup and training. Returns whether that reset worked."""
    dataset = load_dataset(dataset_name, data_dir)
    settings = cli_settings(model, dataset.name)
    samples = min(len(dataset.x_train), batches * settings.batch_size)
    x = model_inputs(model, dataset, dataset.x_train[:samples])
    y = dataset.y_train[:samples].copy()
    setup = build_setup(model, settings, dataset)
    del dataset  # the other images are not needed: free them before training, on both sides
    if library == "nnscratch":
        was_reset = reset_peak_rss()
        setup.train_epoch(x, y)
        return was_reset
    import torch

    from benchmarks.torch_side import torch_setup

    twin = torch_setup(setup)
    del setup  # the twin has its own copy of the weights
    gc.collect()
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
    was_reset = reset_peak_rss()
    twin.train_epoch(x_torch, y_torch)
    return was_reset


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=LIBRARIES)
    parser.add_argument("model", help="mlp, scalar or an architecture of the gallery")
    parser.add_argument("--batches", type=positive_int, default=5, help="training batches (%(default)s)")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS / PyTorch threads (%(default)s)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    if args.library == "pytorch":
        import torch  # noqa: F401  (loaded first, so that limit_threads sets its pool too)
    with limit_threads(args.threads):
        was_reset = train_in_this_process(args.library, args.model, args.batches, args.dataset, args.data_dir)
    result = {"peak_rss_mib": peak_rss_since_reset_mib(), "training_only": was_reset}
    print(json.dumps({**result, "torch_imported": "torch" in sys.modules}))


def peak_rss_mib(
    library: str, model: str, batches: int, threads: int, dataset: str, data_dir: str | None = None
) -> tuple[float, bool]:
    """Run ``python -m benchmarks.peak_rss`` in a child process: (its peak RSS in MiB, whether that
    peak is the training's alone, i.e. the mark was reset after the setup)."""
    command = [sys.executable, "-m", "benchmarks.peak_rss", library, model]
    command += ["--batches", str(batches), "--threads", str(threads), "--dataset", dataset]
    if data_dir is not None:
        command += ["--data-dir", data_dir]
    child = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"peak RSS of {library} {model}: the child process failed:\n{child.stderr.strip()}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if library == "nnscratch" and result["torch_imported"]:
        raise RuntimeError(f"peak RSS of nnscratch {model}: the child imported torch, so its figure would include it")
    return float(result["peak_rss_mib"]), bool(result["training_only"])


if __name__ == "__main__":
    main()
