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

With ``--one-step --batch-size N`` (nnscratch only) the child measures *one training step*
instead, the figure ``nnscratch summary`` estimates (``benchmarks.memory_estimate`` sets the
two side by side):

    python -m benchmarks.peak_rss nnscratch resnet18 --one-step --batch-size 64

The data is loaded first; then ``tracemalloc`` starts, the model, optimizer and trainer are
built as the command builds them, and one step (the trainer's loop over one batch: augment,
forward, loss, backward, optimizer step) runs as a warm-up, so that the optimizer's state
exists and every lazy import is done. The peaks are reset and a second step is measured:

- ``traced_mib``: the peak of the memory tracemalloc saw, i.e. every array (NumPy reports its
  allocations to tracemalloc) and Python object allocated since before the model was built
  and alive at the step's fullest: parameters, gradients, optimizer state, kept activations,
  the batch and the step's temporaries. This is the figure the estimate is checked against:
  it counts exactly the memory the step's arrays take.
- ``rss_growth_mib``: the kernel's peak resident set during the step minus the resident set
  before the model was built. It also holds what the C allocator keeps of freed memory for
  reuse (``common.memory.keep_freed_memory``), BLAS's own buffers and the pages of freshly
  loaded code, so it is the larger, rougher figure: what the machine gives the process.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tracemalloc
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


def one_step_in_this_process(model: str, batch_size: int, dataset_name: str, data_dir: str | None) -> dict[str, float]:
    """The memory of one training step of nnscratch ``model`` on a batch of ``batch_size``, in MiB:
    {"traced_mib", "rss_growth_mib"} as the module docstring says."""
    dataset = load_dataset(dataset_name, data_dir)
    settings = cli_settings(model, dataset.name)
    settings.batch_size = batch_size
    x = model_inputs(model, dataset, dataset.x_train[:batch_size])
    y = dataset.y_train[:batch_size].copy()
    gc.collect()
    rss_before_kib = status_kib("VmRSS") or 0
    tracemalloc.start()
    setup = build_setup(model, settings, dataset)
    setup.train_epoch(x, y)  # the warm-up step: one batch is the whole epoch
    gc.collect()
    reset_peak_rss()
    tracemalloc.reset_peak()
    setup.train_epoch(x, y)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_growth_mib = peak_rss_since_reset_mib() - rss_before_kib / 2**10
    return {"traced_mib": traced_peak / 2**20, "rss_growth_mib": rss_growth_mib}


def one_step_memory_mib(model: str, batch_size: int, threads: int, dataset: str, data_dir: str | None = None) -> dict:
    """Run ``python -m benchmarks.peak_rss nnscratch MODEL --one-step`` in a child process: its
    {"traced_mib", "rss_growth_mib"}."""
    arguments = ["nnscratch", model, "--one-step", "--batch-size", str(batch_size), "--threads", str(threads)]
    return _child_result(arguments, dataset, data_dir, f"memory of one step of {model}")


def _child_result(arguments: list[str], dataset: str, data_dir: str | None, what: str) -> dict:
    """The JSON line ``python -m benchmarks.peak_rss ARGUMENTS`` prints last, run in a child process;
    a RuntimeError starting with ``what`` if the child fails."""
    command = [sys.executable, "-m", "benchmarks.peak_rss", *arguments, "--dataset", dataset]
    if data_dir is not None:
        command += ["--data-dir", data_dir]
    child = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"{what}: the child process failed:\n{child.stderr.strip()}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=LIBRARIES)
    parser.add_argument("model", help="mlp, scalar or an architecture of the gallery")
    parser.add_argument("--batches", type=positive_int, default=5, help="training batches (%(default)s)")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS / PyTorch threads (%(default)s)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir")
    parser.add_argument("--one-step", action="store_true", help="measure one training step (nnscratch only)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="of --one-step (%(default)s)")
    args = parser.parse_args(argv)
    if args.one_step:
        if args.library != "nnscratch":
            parser.error("--one-step measures nnscratch only")
        with limit_threads(args.threads):
            print(json.dumps(one_step_in_this_process(args.model, args.batch_size, args.dataset, args.data_dir)))
        return
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
    arguments = [library, model, "--batches", str(batches), "--threads", str(threads)]
    result = _child_result(arguments, dataset, data_dir, f"peak RSS of {library} {model}")
    if library == "nnscratch" and result["torch_imported"]:
        raise RuntimeError(f"peak RSS of nnscratch {model}: the child imported torch, so its figure would include it")
    return float(result["peak_rss_mib"]), bool(result["training_only"])


if __name__ == "__main__":
    main()
