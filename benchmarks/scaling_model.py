"""Predicted speed of data-parallel training on K processes: a model, not a measurement.

    python -m benchmarks.scaling_model      reads allreduce.json and throughput.json; writes scaling_model.{json,md}

With the global batch fixed, each of K processes computes 1/K of every step, then the
gradients (4 bytes per float32 parameter) are summed by ring allreduces, one per bucket of
``GradientAverager`` (``nnscratch/common/distributed.py``: ~4 MiB each, a larger parameter in
a bucket of its own), each bucket b of n_b bytes paying its own latency:

    T(K) = C / K + sum over buckets of [2 (K - 1) alpha + 2 (K - 1) / K * n_b * beta],   S(K) = C / T(K)

C, the time of one training step in one process, is nnscratch's measured training
throughput (``throughput.json``: batch / samples per second). The buckets come from the
models themselves, built for Fashion-MNIST, cut as the averager cuts them. alpha and beta
are given for three networks: the ones fitted on this machine's shared memory
(``allreduce.json``), and two that are *assumed*, not measured: 10 Gb/s Ethernet (MPI over
TCP) and a 100 Gb/s RDMA fabric (InfiniBand or RoCE), each with beta at the line rate and a
typical latency.

What the model leaves out makes its speedups upper bounds: compute does not shrink as 1/K
once each process's share of the batch is small (one sample per process at K = 64 with a
batch of 64: the matrix products then run far below their peak); every allreduce waits for
the slowest process; processes on one machine share its link; ``--sync-bn`` adds one small
allreduce per BatchNorm layer; real links deliver less than their line rate. Like nnscratch,
it does not overlap the allreduce of one bucket with the backward pass of the layers below,
which is how large frameworks hide part of it.
"""

from __future__ import annotations

import datetime
import sys
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.alpha_beta import ring_allreduce_seconds
from benchmarks.report import REPORTS_DIR, write_report
from nnscratch.common.distributed import GradientAverager, World
from nnscratch.convolutional.architectures import build
from scripts.docsgen.distributed import models_table, predicted_from, scaling_table
from scripts.docsgen.reports import ALLREDUCE_FILE, SCALING_MODEL_FILE, THROUGHPUT_FILE, load_report

MODELS = ("lenet", "baseline", "resnet18")
PROCESSES = (1, 2, 8, 64)


@dataclass(frozen=True)
class Network:
    """A network as the alpha-beta model sees it, with where its two numbers come from."""

    name: str
    alpha_s: float
    beta_s_per_byte: float
    source: str


ASSUMED = (
    Network("10 Gb/s Ethernet", 50e-6, 8 / 10e9, "assumed: line rate; 50 µs, a typical latency of MPI over TCP"),
    Network(
        "100 Gb/s InfiniBand", 5e-6, 8 / 100e9, "assumed: line rate; 5 µs, a conservative latency of MPI over RDMA"
    ),
)


def gradient_buckets(model: str) -> tuple[int, list[int]]:
    """(parameters, bytes of each bucket of their float32 gradients) of ``model`` built for 1x28x28
    images and 10 classes, cut into buckets by ``GradientAverager`` as in training."""
    parameters = build(model, 1, 10, 28).parameters()
    averager = GradientAverager(parameters, World())  # a single process: it only cuts the buckets
    return sum(parameter.data.size for parameter in parameters), [buffer.nbytes for _, buffer in averager.buckets]


def step_seconds(compute_s: float, buckets: list[int], processes: int, network: Network) -> float:
    """T(K) of the module docstring: the compute split K ways, then one ring allreduce per bucket."""
    allreduce = sum(
        ring_allreduce_seconds(nbytes, processes, network.alpha_s, network.beta_s_per_byte) for nbytes in buckets
    )
    return compute_s / processes + allreduce


def predictions(compute_s: float, buckets: list[int], networks: list[Network]) -> list[dict[str, Any]]:
    """Step time and speedup over one process, for every network and number of processes."""
    rows = []
    for network in networks:
        for count in PROCESSES:
            seconds = step_seconds(compute_s, buckets, count, network)
            rows.append(
                {"network": network.name, "processes": count, "step_s": seconds, "speedup": compute_s / seconds}
            )
    return rows


def fitted_network(allreduce: dict[str, Any]) -> Network:
    """The network whose alpha and beta were fitted to this machine's allreduce times."""
    fit = allreduce["fit"]
    source = f"fitted to allreduce.json ({allreduce['processes']} processes, {allreduce['date']})"
    return Network("this machine, shared memory", fit["alpha_s"], fit["beta_s_per_byte"], source)


def compute_seconds(throughput: dict[str, Any], model: str) -> tuple[float, int]:
    """(seconds of one training step in one process, its batch size), from nnscratch's median samples/s."""
    for result in throughput["results"]:
        if result["model"] == model:
            return result["batch_size"] / result["train_samples_per_s"]["nnscratch"]["median"], result["batch_size"]
    raise ValueError(f"scaling_model: {THROUGHPUT_FILE} has no result for {model}; run python -m benchmarks first")


def scaling_report(allreduce: dict[str, Any], throughput: dict[str, Any]) -> dict[str, Any]:
    """The report of the predictions (``scaling_model.json``'s form, in ``scripts/docsgen/reports.py``)."""
    networks = [fitted_network(allreduce), *ASSUMED]
    threads = throughput["machine"].get("threads", "?")
    results = []
    for model in MODELS:
        compute_s, batch_size = compute_seconds(throughput, model)
        parameters, buckets = gradient_buckets(model)
        results.append(
            {
                "model": model,
                "parameters": parameters,
                "gradient_bytes": sum(buckets),
                "buckets": len(buckets),
                "batch_size": batch_size,
                "compute_s": compute_s,
                "compute_source": f"{THROUGHPUT_FILE} of {throughput['date']}: one process, {threads} BLAS threads",
                "predictions": predictions(compute_s, buckets, networks),
            }
        )
    return {
        "date": datetime.date.today().isoformat(),
        "command": "python -m benchmarks.scaling_model",
        "inputs": f"{ALLREDUCE_FILE} (alpha, beta of this machine) and {THROUGHPUT_FILE} (compute per step)",
        "processes": list(PROCESSES),
        "networks": [asdict(network) for network in networks],
        "results": results,
    }


def markdown(report: dict[str, Any]) -> str:
    notes = [
        "step time T(K) = C / K + Σ_b [2 (K - 1) α + 2 (K - 1) / K · n_b · β]; speedup = C / T(K); "
        "C: one training step in one process, n_b: the bytes of gradient bucket b (one allreduce each).",
        "The speedups are upper bounds: compute is assumed to shrink as 1/K at any per-process batch, and "
        "links to run at their line rate (see benchmarks/scaling_model.py).",
    ]
    parts = ["# Predicted data-parallel scaling (a model)", "", predicted_from(report), ""]
    parts += [models_table(report), "", scaling_table(report), ""] + [f"- {note}" for note in notes]
    return "\n".join(parts) + "\n"


def main() -> int:
    allreduce, throughput = load_report(ALLREDUCE_FILE), load_report(THROUGHPUT_FILE)
    for name, report in ((ALLREDUCE_FILE, allreduce), (THROUGHPUT_FILE, throughput)):
        if report is None:
            print(f"scaling_model: {REPORTS_DIR / name} is missing; run its benchmark first", file=sys.stderr)
            return 2
    report = scaling_report(allreduce, throughput)
    text = markdown(report)
    print(text)
    json_path, markdown_path = write_report(report, SCALING_MODEL_FILE, text, REPORTS_DIR)
    print(f"wrote {json_path} and {markdown_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
