"""One measurement of ``benchmarks.data_parallel``: a model trained by ``fit``, alone or under mpiexec.

    python -m benchmarks.data_parallel_worker lenet --batches 40 --threads 2
    mpiexec -n 2 python -m benchmarks.data_parallel_worker lenet --batches 40 --threads 1

The model, optimizer and trainer are those of its ``nnscratch train`` command (``workloads``);
``fit`` finds the processes mpiexec started by itself and splits every global batch between
them, as a user's run does. Two epochs of ``--batches`` global batches: the first one warms
up (buffers, BLAS threads, the first allreduce), the second is timed by ``fit`` itself
(its history's samples/s: the epoch's samples over its training time). Rank 0 prints one
line of JSON, ``{"samples_per_s": ...}``, for the driver to read.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.timing import limit_threads
from benchmarks.workloads import build_setup, cli_settings, model_inputs
from nnscratch.cli.arguments import load_data, positive_int
from nnscratch.common.datasets import DATASET_NAMES
from nnscratch.common.distributed import world

EPOCHS = 2  # one to warm up, one timed


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data_parallel_worker")
    parser.add_argument("model")
    parser.add_argument("--batches", type=positive_int, required=True, help="global batches per epoch")
    parser.add_argument("--threads", type=positive_int, required=True, help="BLAS threads of each process")
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES)
    parser.add_argument("--data-dir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    # first, so that its own BLAS limit (the cores over the ranks) is set before the one asked for here
    processes = world()
    dataset = load_data(args)
    settings = cli_settings(args.model, dataset.name)
    samples = args.batches * settings.batch_size
    x = model_inputs(args.model, dataset, dataset.x_train[:samples])
    y = dataset.y_train[:samples]
    setup = build_setup(args.model, settings, dataset)
    with limit_threads(args.threads):
        history = setup.trainer.fit(x, y, epochs=EPOCHS, batch_size=settings.batch_size)
    if processes.is_root:
        print(json.dumps({"samples_per_s": history[-1]["samples_per_s"], "processes": processes.size}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
