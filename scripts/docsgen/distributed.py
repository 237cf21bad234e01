"""The tables of the page on training over several processes, from three reports.

``allreduce.json`` (measured allreduce times and the fitted alpha-beta model),
``data_parallel.json`` (one process with two threads against two processes with one) and
``scaling_model.json`` (the model's predictions: computed, not measured). Their form is
documented and checked in ``reports.py``; a missing report reads "not measured yet".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import REPORTS_DIR
from .markdown import table, thousands
from .reports import (
    ALLREDUCE_FILE,
    DATA_PARALLEL_FILE,
    SCALING_MODEL_FILE,
    load_report,
    missing,
    provenance,
    speedup_text,
    spread_text,
)


def size_text(nbytes: float) -> str:
    """Bytes as the largest binary unit that keeps a number >= 1: "4 KiB", "1.5 MiB"."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def processes_text(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


def microseconds(spread: dict[str, float]) -> str:
    """A spread of seconds as ``spread_text`` shows it, in µs."""
    return spread_text({key: 1e6 * spread[key] for key in ("median", "min", "max")})


def fit_text(fit: dict[str, Any], processes: int) -> str:
    """The fitted parameters in the units one reads them in: µs, ns per byte and GB/s."""
    alpha, beta = fit["alpha_s"], fit["beta_s_per_byte"]
    return (
        f"Fitted to the medians over {processes} processes: α = {1e6 * alpha:.3g} µs per ring step, "
        f"β = {1e9 * beta:.3g} ns per byte (1/β = {1e-9 / beta:.3g} GB/s)."
    )


def allreduce_table(report: dict[str, Any]) -> str:
    """Per buffer size: median time (range), bandwidth, and the fitted model's time over the measured one."""
    rows = [
        (
            size_text(result["bytes"]),
            result["calls"],
            microseconds(result["seconds"]),
            f"{result['bytes_per_s'] / 1e9:.3g}",
            f"{result['model_over_measured']:.2f}",
        )
        for result in report["results"]
    ]
    headers = ["buffer", "calls per measurement", "time µs", "bandwidth GB/s", "model / measured"]
    return table(headers, rows, "lrrrr") + "\n\n" + fit_text(report["fit"], report["processes"])


def data_parallel_table(report: dict[str, Any]) -> str:
    """Per model: samples/s of each configuration (median, range) and the ratio of the first two, paired by round."""
    first_result = report["results"][0]
    names = [
        f"{processes_text(c['processes'])} × {c['threads']} thread{'s' if c['threads'] > 1 else ''}"
        for c in first_result["configurations"]
    ]
    rows = [
        (
            result["model"],
            result["batch_size"],
            *(spread_text(configuration["samples_per_s"]) for configuration in result["configurations"]),
            speedup_text(result["ratio"]),
        )
        for result in report["results"]
    ]
    headers = ["model", "global batch", *(f"samples/s, {name}" for name in names), f"ratio {names[1]} / {names[0]}"]
    return table(headers, rows, "lr" + "r" * (len(names) + 1))


def networks_table(report: dict[str, Any]) -> str:
    """The networks of the model: alpha, beta as bandwidth, and where each value comes from."""
    rows = [
        (
            network["name"],
            f"{1e6 * network['alpha_s']:.3g}",
            f"{8e-9 / network['beta_s_per_byte']:.3g}",
            network["source"],
        )
        for network in report["networks"]
    ]
    return table(["network", "α µs", "1/β Gb/s", "source"], rows, "lrrl")


def scaling_table(report: dict[str, Any]) -> str:
    """Per model and network: predicted ms per step and speedup at each number of processes."""
    processes = report["processes"]
    rows = []
    for result in report["results"]:
        for network in report["networks"]:
            predicted = {p["processes"]: p for p in result["predictions"] if p["network"] == network["name"]}
            cells = [
                f"{thousands(1e3 * predicted[count]['step_s'])} ms ({predicted[count]['speedup']:.3g}×)"
                for count in processes
            ]
            rows.append((result["model"], size_text(result["gradient_bytes"]), network["name"], *cells))
    headers = ["model", "gradients", "network", *(processes_text(count) for count in processes)]
    return networks_table(report) + "\n\n" + table(headers, rows, "lrl" + "r" * len(processes))


def models_table(report: dict[str, Any]) -> str:
    """What the model starts from, per architecture: parameters, gradient bytes, compute per step."""
    rows = [
        (
            result["model"],
            f"{result['parameters']:,}",
            size_text(result["gradient_bytes"]),
            result["buckets"],
            result["batch_size"],
            thousands(1e3 * result["compute_s"]),
        )
        for result in report["results"]
    ]
    headers = ["model", "parameters", "gradients (float32)", "buckets", "global batch", "compute ms per step"]
    return table(headers, rows, "lrrrrr")


def predicted_from(report: dict[str, Any]) -> str:
    """The line above the predictions: they are computed, and from what."""
    return f"A model, not a measurement: computed on {report['date']} by `{report['command']}` from {report['inputs']}."


def _section(name: str, reports_dir: Path, lead: Any, *tables: Any) -> str:
    report = load_report(name, reports_dir)
    if report is None:
        return missing(name)
    return "\n\n".join([lead(report), *(make(report) for make in tables)])


def measured_at(report: dict[str, Any]) -> str:
    return provenance(report) + "."


def allreduce_section(reports_dir: Path = REPORTS_DIR) -> str:
    return _section(ALLREDUCE_FILE, reports_dir, measured_at, allreduce_table)


def data_parallel_section(reports_dir: Path = REPORTS_DIR) -> str:
    return _section(DATA_PARALLEL_FILE, reports_dir, measured_at, data_parallel_table)


def scaling_section(reports_dir: Path = REPORTS_DIR) -> str:
    return _section(SCALING_MODEL_FILE, reports_dir, predicted_from, models_table, scaling_table)
