"""Measured accuracy and speed, read from the benchmark reports; "not measured yet" where there is none.

The docs never carry a typed-in number: every figure of the performance page and of the
gallery comes from one of these files, written by the benchmarks (``benchmarks/``):

``benchmarks/reports/throughput.json``::

    {"machine": {"cpu": "...", "cores": 2, "blas": "...", "threads": 2},   (any keys: shown as given)
     "date": "2026-11-20", "command": "make bench",
     "results": [
       {"model": "lenet", "device": "cpu", "batch_size": 64,
        "train_samples_per_s":     {"nnscratch": {"median": 9000.0, "min": 8500.0, "max": 9400.0},
                                    "pytorch":   {"median": ..., "min": ..., "max": ...}},
        "inference_samples_per_s": {... the same form; optional},
        "peak_rss_mib":            {"nnscratch": 310.0, "pytorch": 290.0}   (optional)},
       ...]}

``benchmarks/reports/accuracy.json``::

    {"machine": {...}, "date": "...", "command": "...",
     "results": [
       {"model": "lenet", "dataset": "fashion-mnist", "epochs": 15,
        "test_accuracy": {"nnscratch": 0.905, "pytorch": 0.903},           (fractions in [0, 1])
        "seconds": {"nnscratch": 600.0, "pytorch": 420.0}},                 (optional)
       ...]}

``benchmarks/reports/reconstruction.json`` (``python -m benchmarks.reconstruction``)::

    {"machine": {...}, "date": "...", "command": "...",
     "results": [
       {"model": "autoencoder", "dataset": "fashion-mnist", "epochs": 10,
        "scores": {"mse": {"nnscratch": 0.0098, "pytorch": 0.0097}},        (one or more scores, by name:
        "seconds": {"nnscratch": 300.0, "pytorch": 200.0}},                  mse, pixel_accuracy, iou)
       ...]}

``benchmarks/reports/layer_times.json`` (``python -m benchmarks.layer_times``)::

    {"machine": {...}, "date": "...", "command": "...",
     "results": [
       {"model": "baseline", "batch_size": 64, "batches": 10, "rounds": 5,
        "layers": [{"name": "0", "layer": "Conv2D 1->32 3x3 s1 @28 im2col",
                    "ms": {"nnscratch": {"forward": 1.2, "backward": 2.1},
                           "pytorch":   {"forward": 0.4, "backward": 0.9}}},   (no "pytorch": its twin
                   ...],                                                         is not a module)
        "rest_ms": {"nnscratch": 5.0, "pytorch": 6.1}},                        (ms per batch)
       ...]}

``benchmarks/reports/conv_modules.json`` (``python -m benchmarks.conv_modules``)::

    {"machine": {...}, "date": "...", "command": "...",
     "results": [
       {"model": "baseline", "layer": "conv2", "shape": "32->32 3x3 s1 p1 @28", "batch_size": 64,
        "ms": {"nnscratch": {"median": 31.0, "min": 29.3, "max": 33.0},
               "pytorch":   {...}},                               (one forward+backward of the layer)
        "products_ms": {"im2col": {...}, "winograd": {...}},      (its matrix products alone, per algorithm)
        "route": "winograd", "reference_ms": {...}},              (optional: the route auto took, and the
       ...],                                                        layer's time on the reference, im2col)
     "memory": {"layer": "...", "peak_mib": {"nnscratch": 86.6, "pytorch": 117.9}}}   (optional)

``benchmarks/reports/watch_overhead.json`` (``python -m benchmarks.watch_overhead``)::

    {"machine": {...}, "date": "...", "command": "...",
     "results": [
       {"model": "lenet", "batch_size": 32, "batches": 20, "rounds": 7, "every": 20,
        "step_ms": {"plain": {"median": ..., "min": ..., "max": ...},      (ms per training step)
                    "idle_hooks": {...}, "watched": {...}},
        "overhead": {"idle_hooks": {"median": 0.004, "min": ..., "max": ...},   (time / plain time - 1,
                     "watched": {...}}},                                          per round)
       ...]}

``benchmarks/reports/onnx_inference.json`` (``python -m benchmarks.onnx_inference``)::

    {"machine": {...}, "date": "...", "command": "...", "opset": 17,
     "results": [
       {"model": "lenet", "batch_size": 32, "images": 1024, "rounds": 7,
        "images_per_s": {"nnscratch": {"median": ..., "min": ..., "max": ...},   (eval-mode inference)
                         "onnxruntime": {...}},
        "speedup": {"median": 3.1, "min": ..., "max": ...}},      (nnscratch time / ONNX Runtime time, per round)
       ...],
     "parity": [
       {"model": "lenet", "input": "1x28x28", "options": {},       (the build options, {} for the defaults)
        "max_abs_diff": {"1": 6e-08, "7": 6e-08, "32": 7e-08},     (by batch size)
        "max_abs_logit": 3.2},
       ...]}

``benchmarks/reports/allreduce.json`` (``mpiexec -n 2 python -m benchmarks.allreduce``)::

    {"machine": {...}, "date": "...", "command": "...", "processes": 2,
     "results": [
       {"bytes": 4096, "calls": 256,                          (a result is named by its "bytes", not a model)
        "seconds": {"median": 1.2e-05, "min": ..., "max": ...},  (one allreduce of the buffer)
        "bytes_per_s": 3.4e+08, "model_over_measured": 1.05},    (the fitted model's time / the median)
       ...],
     "fit": {"alpha_s": 5e-06, "beta_s_per_byte": 2e-10, "formula": "...", "fitted_to": "..."}}

``benchmarks/reports/data_parallel.json`` (``python -m benchmarks.data_parallel``)::

    {"machine": {...}, "date": "...", "command": "...",
     "results": [
       {"model": "lenet", "batch_size": 32, "batches": 40,       (the global batch: split over the processes)
        "configurations": [{"processes": 1, "threads": 2, "samples_per_s": {"median": ..., "min": ..., "max": ...}},
                           {"processes": 2, "threads": 1, "samples_per_s": {...}}, ...],   (2 or more)
        "ratio": {"median": 1.1, "min": ..., "max": ...}},     (second / first, paired by round)
       ...]}

``benchmarks/reports/scaling_model.json`` (``python -m benchmarks.scaling_model``: a model, not a measurement)::

    {"date": "...", "command": "...", "inputs": "allreduce.json and throughput.json", "processes": [1, 2, 8, 64],
     "networks": [{"name": "10 Gb/s Ethernet", "alpha_s": 5e-05, "beta_s_per_byte": 8e-10, "source": "..."}, ...],
     "results": [
       {"model": "lenet", "parameters": 61706, "gradient_bytes": 246824, "buckets": 1, "batch_size": 64,
        "compute_s": 0.0087, "compute_source": "...",          (one training step in one process)
        "predictions": [{"network": "10 Gb/s Ethernet", "processes": 8,
                         "step_s": 0.0015, "speedup": 5.8}, ...]},
       ...]}

"model" is an architecture of the gallery, "mlp" (the vectorized MLP) or "scalar". A
"pytorch" entry may be missing (the scalar tier has no twin). A report that exists but does
not have this form stops the docs build with a ``ReportError`` saying what is wrong, rather
than showing a wrong number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import REPORTS_DIR
from .markdown import table, thousands

THROUGHPUT_FILE = "throughput.json"
ACCURACY_FILE = "accuracy.json"
RECONSTRUCTION_FILE = "reconstruction.json"
RECONSTRUCTION_SCORES = {"mse": "test MSE", "pixel_accuracy": "test pixel accuracy", "iou": "test IoU"}
LAYER_TIMES_FILE = "layer_times.json"
CONV_MODULES_FILE = "conv_modules.json"
WATCH_OVERHEAD_FILE = "watch_overhead.json"
ONNX_INFERENCE_FILE = "onnx_inference.json"
ALLREDUCE_FILE = "allreduce.json"
DATA_PARALLEL_FILE = "data_parallel.json"
SCALING_MODEL_FILE = "scaling_model.json"
WATCH_VARIANTS = {"plain": "plain", "idle_hooks": "idle hooks", "watched": "watched"}
NOT_MEASURED = "not measured yet"
LIBRARIES = ("nnscratch", "pytorch")


class ReportError(ValueError):
    """A benchmark report exists but cannot be read as the documented form."""


def _require(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise ReportError(f"{path}: {message} (the expected form is in scripts/docsgen/reports.py)")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_report(name: str, reports_dir: Path = REPORTS_DIR) -> dict[str, Any] | None:
    """The report ``reports_dir/name`` with its "results" checked; None when there is no such file."""
    path = Path(reports_dir) / name
    if name not in CHECKS:
        raise ReportError(f"{path}: no report of that name is known (known: {', '.join(CHECKS)})")
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ReportError(f"{path}: not valid JSON ({error})") from None
    _require(isinstance(report, dict), path, "the top level must be an object")
    results = report.get("results")
    _require(isinstance(results, list), path, '"results" must be a list')
    key, key_type = NAMED_BY.get(name, ("model", str))
    for index, result in enumerate(results):
        named = isinstance(result, dict) and isinstance(result.get(key), key_type)
        _require(named, path, f"results[{index}] needs a {key}")
        CHECKS[name](result, path, f"results[{index}] ({result[key]})")
    if name in REPORT_CHECKS:
        REPORT_CHECKS[name](report, path)
    return report


def _check_per_library(value: Any, path: Path, where: str, leaf_check: Callable[[Any, Path, str], None]) -> None:
    _require(isinstance(value, dict) and "nnscratch" in value, path, f"{where} needs a 'nnscratch' entry")
    for library, leaf in value.items():
        _require(library in LIBRARIES, path, f"{where}: unknown library {library!r}")
        leaf_check(leaf, path, f"{where}.{library}")


# the leaves of a report: each check names the entry (``at``) that is not what it should be


def _number(leaf: Any, path: Path, at: str) -> None:
    _require(_is_number(leaf), path, f"{at} must be a number")


def _fraction(leaf: Any, path: Path, at: str) -> None:
    _require(_is_number(leaf) and 0 <= leaf <= 1, path, f"{at} must be a fraction in [0, 1]")


def _numbers(keys: tuple[str, ...]) -> Callable[[Any, Path, str], None]:
    """The check of a leaf that is an object of numbers under ``keys``."""

    def check(leaf: Any, path: Path, at: str) -> None:
        ok = isinstance(leaf, dict) and all(_is_number(leaf.get(key)) for key in keys)
        _require(ok, path, f"{at} must be {{{', '.join(keys)}}} numbers")

    return check


_spread = _numbers(("median", "min", "max"))
_directions = _numbers(("forward", "backward"))


def _check_throughput(result: dict, path: Path, where: str) -> None:
    _check_per_library(result.get("train_samples_per_s"), path, f"{where}.train_samples_per_s", _spread)
    if "inference_samples_per_s" in result:
        _check_per_library(result["inference_samples_per_s"], path, f"{where}.inference_samples_per_s", _spread)
    if "peak_rss_mib" in result:
        _check_per_library(result["peak_rss_mib"], path, f"{where}.peak_rss_mib", _number)


def _check_accuracy(result: dict, path: Path, where: str) -> None:
    _check_per_library(result.get("test_accuracy"), path, f"{where}.test_accuracy", _fraction)
    if "seconds" in result:
        _check_per_library(result["seconds"], path, f"{where}.seconds", _number)


def _check_reconstruction(result: dict, path: Path, where: str) -> None:
    scores = result.get("scores")
    _require(isinstance(scores, dict) and scores, path, f"{where}.scores must name at least one score")
    for name, per_library in scores.items():
        _require(name in RECONSTRUCTION_SCORES, path, f"{where}.scores: unknown score {name!r}")
        _check_per_library(per_library, path, f"{where}.scores.{name}", _number)
    if "seconds" in result:
        _check_per_library(result["seconds"], path, f"{where}.seconds", _number)


def _check_layer_times(result: dict, path: Path, where: str) -> None:
    layers = result.get("layers")
    _require(isinstance(layers, list) and layers, path, f"{where}.layers must be a non-empty list")
    for index, layer in enumerate(layers):
        at = f"{where}.layers[{index}]"
        _require(isinstance(layer, dict) and isinstance(layer.get("layer"), str), path, f"{at} needs a layer text")
        _check_per_library(layer.get("ms"), path, f"{at}.ms", _directions)
    _check_per_library(result.get("rest_ms"), path, f"{where}.rest_ms", _number)


def _check_conv_module(result: dict, path: Path, where: str) -> None:
    for key in ("layer", "shape"):
        _require(isinstance(result.get(key), str), path, f"{where} needs a {key} text")
    _number(result.get("batch_size"), path, f"{where}.batch_size")
    _check_per_library(result.get("ms"), path, f"{where}.ms", _spread)
    _require("pytorch" in result["ms"], path, f"{where}.ms needs a 'pytorch' entry")
    products = result.get("products_ms")
    _require(isinstance(products, dict) and products, path, f"{where}.products_ms must name at least one algorithm")
    for algorithm, spread in products.items():
        _spread(spread, path, f"{where}.products_ms.{algorithm}")
    if "route" in result or "reference_ms" in result:  # reports measured before the routes have neither
        _require(isinstance(result.get("route"), str), path, f"{where}.route must name the route auto took")
        _spread(result.get("reference_ms"), path, f"{where}.reference_ms")


def _check_conv_memory(report: dict, path: Path) -> None:
    if "memory" not in report:  # optional
        return
    memory = report["memory"]
    _require(isinstance(memory, dict) and isinstance(memory.get("layer"), str), path, "memory needs a layer text")
    _check_per_library(memory.get("peak_mib"), path, "memory.peak_mib", _number)
    _require("pytorch" in memory["peak_mib"], path, "memory.peak_mib needs a 'pytorch' entry")


def _check_watch_overhead(result: dict, path: Path, where: str) -> None:
    for key in ("batch_size", "every"):
        _number(result.get(key), path, f"{where}.{key}")
    step_ms, overhead = result.get("step_ms"), result.get("overhead")
    variants = set(WATCH_VARIANTS)
    _require(isinstance(step_ms, dict) and set(step_ms) == variants, path, f"{where}.step_ms needs {sorted(variants)}")
    variants.discard("plain")
    needs = f"{where}.overhead needs {sorted(variants)}"
    _require(isinstance(overhead, dict) and set(overhead) == variants, path, needs)
    for name, spread in [*step_ms.items(), *overhead.items()]:
        _spread(spread, path, f"{where}: {name}")


def _check_onnx_inference(result: dict, path: Path, where: str) -> None:
    for key in ("batch_size", "images"):
        _number(result.get(key), path, f"{where}.{key}")
    speeds = result.get("images_per_s")
    sides = {"nnscratch", "onnxruntime"}
    _require(isinstance(speeds, dict) and set(speeds) == sides, path, f"{where}.images_per_s needs {sorted(sides)}")
    for side, spread in [*speeds.items(), ("speedup", result.get("speedup"))]:
        _spread(spread, path, f"{where}: {side}")


def _check_onnx_parity(report: dict, path: Path) -> None:
    _number(report.get("opset"), path, "opset")
    rows = report.get("parity")
    _require(isinstance(rows, list), path, '"parity" must be a list')
    for index, row in enumerate(rows):
        where = f"parity[{index}]"
        _require(isinstance(row, dict) and isinstance(row.get("model"), str), path, f"{where} needs a model")
        _require(isinstance(row.get("input"), str), path, f"{where} needs an input text")
        differences = row.get("max_abs_diff")
        numbers = isinstance(differences, dict) and len(differences) == 3 and all(map(_is_number, differences.values()))
        _require(numbers, path, f"{where}.max_abs_diff must map 3 batch sizes (1, 7, the recipe's) to numbers")
        _number(row.get("max_abs_logit"), path, f"{where}.max_abs_logit")


def _check_allreduce(result: dict, path: Path, where: str) -> None:
    _spread(result.get("seconds"), path, f"{where}.seconds")
    for key in ("calls", "bytes_per_s", "model_over_measured"):
        _number(result.get(key), path, f"{where}.{key}")


def _check_allreduce_fit(report: dict, path: Path) -> None:
    _number(report.get("processes"), path, "processes")
    fit = report.get("fit")
    _require(isinstance(fit, dict), path, "fit must be an object")
    for key in ("alpha_s", "beta_s_per_byte"):
        _number(fit.get(key), path, f"fit.{key}")


def _check_data_parallel(result: dict, path: Path, where: str) -> None:
    _number(result.get("batch_size"), path, f"{where}.batch_size")
    configurations = result.get("configurations")
    enough = isinstance(configurations, list) and len(configurations) >= 2
    _require(enough, path, f"{where} needs at least 2 configurations")
    for index, configuration in enumerate(configurations):
        at = f"{where}.configurations[{index}]"
        _require(isinstance(configuration, dict), path, f"{at} must be an object")
        for key in ("processes", "threads"):
            _number(configuration.get(key), path, f"{at}.{key}")
        _spread(configuration.get("samples_per_s"), path, f"{at}.samples_per_s")
    _spread(result.get("ratio"), path, f"{where}.ratio")


def _check_scaling_model(result: dict, path: Path, where: str) -> None:
    for key in ("parameters", "gradient_bytes", "buckets", "batch_size", "compute_s"):
        _number(result.get(key), path, f"{where}.{key}")
    predictions = result.get("predictions")
    _require(isinstance(predictions, list) and predictions, path, f"{where}.predictions must be a non-empty list")
    for index, prediction in enumerate(predictions):
        at = f"{where}.predictions[{index}]"
        _require(
            isinstance(prediction, dict) and isinstance(prediction.get("network"), str), path, f"{at} needs a network"
        )
        for key in ("processes", "step_s", "speedup"):
            _number(prediction.get(key), path, f"{at}.{key}")


def _check_scaling_inputs(report: dict, path: Path) -> None:
    _require(isinstance(report.get("inputs"), str), path, "inputs must say which reports the model read")
    counts = report.get("processes")
    _require(isinstance(counts, list) and all(map(_is_number, counts)), path, "processes must be a list of numbers")
    networks = report.get("networks")
    _require(isinstance(networks, list) and networks, path, "networks must be a non-empty list")
    for index, network in enumerate(networks):
        at = f"networks[{index}]"
        _require(isinstance(network, dict) and isinstance(network.get("name"), str), path, f"{at} needs a name")
        _require(isinstance(network.get("source"), str), path, f"{at} needs a source")
        for key in ("alpha_s", "beta_s_per_byte"):
            _number(network.get(key), path, f"{at}.{key}")


CHECKS = {
    THROUGHPUT_FILE: _check_throughput,
    ACCURACY_FILE: _check_accuracy,
    RECONSTRUCTION_FILE: _check_reconstruction,
    LAYER_TIMES_FILE: _check_layer_times,
    CONV_MODULES_FILE: _check_conv_module,
    WATCH_OVERHEAD_FILE: _check_watch_overhead,
    ONNX_INFERENCE_FILE: _check_onnx_inference,
    ALLREDUCE_FILE: _check_allreduce,
    DATA_PARALLEL_FILE: _check_data_parallel,
    SCALING_MODEL_FILE: _check_scaling_model,
}
# what names a result, when it is not its model: (key, type)
NAMED_BY: dict[str, tuple[str, type]] = {ALLREDUCE_FILE: ("bytes", int)}
# checks of a report's entries beside its results
REPORT_CHECKS: dict[str, Callable[[dict, Path], None]] = {
    CONV_MODULES_FILE: _check_conv_memory,
    ALLREDUCE_FILE: _check_allreduce_fit,
    SCALING_MODEL_FILE: _check_scaling_inputs,
    ONNX_INFERENCE_FILE: _check_onnx_parity,
}


# ----------------------------------------------------------------------------- formatting


def results_for(report: dict[str, Any] | None, model: str) -> list[dict[str, Any]]:
    """The results of one model in a report (none when the report is missing)."""
    return [] if report is None else [result for result in report["results"] if result["model"] == model]


def spread_text(spread: dict[str, float] | None) -> str:
    if spread is None:
        return "—"
    return f"{thousands(spread['median'])} ({thousands(spread['min'])}–{thousands(spread['max'])})"


def speedup_text(spread: dict[str, float]) -> str:
    """A ratio's median and range, e.g. "1.10× (1.02–1.15)"."""
    return f"{spread['median']:.2f}× ({spread['min']:.2f}–{spread['max']:.2f})"


def ratio_text(per_library: dict[str, Any] | None, key: str | None = "median") -> str:
    """nnscratch / PyTorch, e.g. "1.23×"; "—" without a PyTorch number."""
    if not per_library or "pytorch" not in per_library:
        return "—"
    ours, theirs = per_library["nnscratch"], per_library["pytorch"]
    if key is not None:
        ours, theirs = ours[key], theirs[key]
    return f"{ours / theirs:.2f}×" if theirs else "—"


def provenance(report: dict[str, Any]) -> str:
    """Where and how a report was measured, as one line of text."""
    machine = report.get("machine")
    if isinstance(machine, dict):
        machine = ", ".join(f"{key} {value}" for key, value in machine.items())
    parts = [f"measured on {report['date']}" if report.get("date") else "measured"]
    if machine:
        parts.append(f"machine: {machine}")
    if report.get("command"):
        parts.append(f"command: `{report['command']}`")
    return "; ".join(parts)


def throughput_table(report: dict[str, Any], models: list[str] | None = None) -> str:
    rows = []
    for result in report["results"]:
        if models is not None and result["model"] not in models:
            continue
        train, infer = result["train_samples_per_s"], result.get("inference_samples_per_s")
        rss = result.get("peak_rss_mib")
        rows.append(
            (
                result["model"],
                result.get("device", "cpu"),
                result.get("batch_size", "—"),
                spread_text(train["nnscratch"]),
                spread_text(train.get("pytorch")),
                ratio_text(train),
                spread_text(infer["nnscratch"]) if infer else "—",
                spread_text(infer.get("pytorch")) if infer else "—",
                ratio_text(infer),
                f"{thousands(rss['nnscratch'])} / {thousands(rss['pytorch'])}" if rss and "pytorch" in rss else "—",
            )
        )
    headers = [
        "model",
        "device",
        "batch",
        "train samples/s, nnscratch",
        "train samples/s, PyTorch",
        "ratio",
        "inference samples/s, nnscratch",
        "inference samples/s, PyTorch",
        "ratio",
        "peak RSS MiB (nnscratch / PyTorch)",
    ]
    return table(headers, rows, "llrrrrrrrr")


def accuracy_table(report: dict[str, Any], models: list[str] | None = None) -> str:
    rows = []
    for result in report["results"]:
        if models is not None and result["model"] not in models:
            continue
        accuracy, seconds = result["test_accuracy"], result.get("seconds", {})
        theirs = accuracy.get("pytorch")
        difference = f"{100 * (accuracy['nnscratch'] - theirs):+.2f} pp" if theirs is not None else "—"
        rows.append(
            (
                result["model"],
                result.get("dataset", "—"),
                result.get("epochs", "—"),
                f"{accuracy['nnscratch']:.2%}",
                f"{theirs:.2%}" if theirs is not None else "—",
                difference,
                thousands(seconds["nnscratch"]) if "nnscratch" in seconds else "—",
                thousands(seconds["pytorch"]) if "pytorch" in seconds else "—",
            )
        )
    headers = [
        "model",
        "dataset",
        "epochs",
        "test accuracy, nnscratch",
        "test accuracy, PyTorch",
        "difference",
        "seconds, nnscratch",
        "seconds, PyTorch",
    ]
    return table(headers, rows, "llrrrrrr")


REST = "rest of the step"


def reconstruction_table(report: dict[str, Any], models: list[str] | None = None) -> str:
    """One row per model (of ``models``, default all) and score: both libraries' values and their
    ratio, nnscratch / PyTorch."""
    rows = []
    for result in report["results"]:
        if models is not None and result["model"] not in models:
            continue
        seconds = result.get("seconds", {})
        for name, values in result["scores"].items():
            theirs, ours = values.get("pytorch"), values["nnscratch"]
            shown = (lambda value: f"{value:.2%}") if name == "pixel_accuracy" else (lambda value: f"{value:.4g}")
            rows.append(
                (
                    result["model"],
                    result.get("dataset", "—"),
                    result.get("epochs", "—"),
                    RECONSTRUCTION_SCORES[name],
                    shown(ours),
                    shown(theirs) if theirs is not None else "—",
                    f"{ours / theirs:.3f}" if theirs else "—",
                    thousands(seconds["nnscratch"]) if "nnscratch" in seconds else "—",
                    thousands(seconds["pytorch"]) if "pytorch" in seconds else "—",
                )
            )
    headers = ["model", "dataset", "epochs", "score", "nnscratch", "PyTorch", "ratio", "seconds, nnscratch"]
    return table([*headers, "seconds, PyTorch"], rows, "llrlrrrrr")


def reconstruction_section(reports_dir: Path = REPORTS_DIR, models: list[str] | None = None) -> str:
    """Where and how the image-to-image models (``models``, default all) were measured, and the table;
    or "not measured yet"."""
    report = load_report(RECONSTRUCTION_FILE, reports_dir)
    if report is None or (models is not None and not any(results_for(report, model) for model in models)):
        return missing(RECONSTRUCTION_FILE)
    return "\n\n".join([provenance(report) + ".", reconstruction_table(report, models)])


def layer_kinds(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """ms per batch of each kind of layer in one model's layer times: kind -> {library: ms}.

    A kind is the layer's text without the input size (all 32->32 3x3 convolutions are one
    kind). Layers whose PyTorch twin is no module (an operation called as a function inside
    a block) form kinds of their own, "... (PyTorch's: in rest)": PyTorch's time for them is
    in its rest of the step. The last kind is that rest: the loss, the optimizer, the data and
    what blocks do between their layers.
    """
    kinds: dict[str, dict[str, float]] = {}
    for layer in result["layers"]:
        kind = layer["layer"].split(" @")[0]
        if "pytorch" not in layer["ms"]:
            kind += " (PyTorch's: in rest)"
        totals = kinds.setdefault(kind, dict.fromkeys(LIBRARIES, 0.0))
        for library, times in layer["ms"].items():
            totals[library] += times["forward"] + times["backward"]
    kinds[REST] = {library: result["rest_ms"].get(library, 0.0) for library in LIBRARIES}
    return kinds


def layer_times_table(result: dict[str, Any]) -> str:
    """One model's kinds of layer, slowest first: ms per batch and share of the step in each library, and speed."""
    kinds = layer_kinds(result)
    steps = {library: sum(times[library] for times in kinds.values()) for library in LIBRARIES}

    def speed(times: dict[str, float]) -> str:
        return f"{times['pytorch'] / times['nnscratch']:.2f}×" if times["nnscratch"] and times["pytorch"] else "—"

    rows = [
        (
            kind,
            f"{times['nnscratch']:.2f}",
            f"{times['nnscratch'] / steps['nnscratch']:.0%}",
            f"{times['pytorch']:.2f}" if times["pytorch"] else "—",
            f"{times['pytorch'] / steps['pytorch']:.0%}" if times["pytorch"] else "—",
            speed(times),
        )
        for kind, times in sorted(kinds.items(), key=lambda item: -item[1]["nnscratch"])
    ]
    rows.append(("**whole step**", f"{steps['nnscratch']:.2f}", "", f"{steps['pytorch']:.2f}", "", speed(steps)))
    headers = ["kind of layer", "nnscratch ms", "share", "PyTorch ms", "share", "speed (PyTorch time / ours)"]
    return table(headers, rows, "lrrrrr")


def layer_times_section(reports_dir: Path = REPORTS_DIR) -> str:
    """Where the time of a training step goes, per model, or "not measured yet"."""
    report = load_report(LAYER_TIMES_FILE, reports_dir)
    if report is None:
        return missing(LAYER_TIMES_FILE)
    parts = [provenance(report) + "."]
    for result in report["results"]:
        parts += [
            "",
            f"**{result['model']}**, ms per training step of {result['batch_size']} samples "
            f"(medians of {result['rounds']} rounds of {result['batches']} steps):",
            "",
            layer_times_table(result),
        ]
    return "\n".join(parts)


def conv_module_ratios(result: dict[str, Any]) -> tuple[str, float, float]:
    """(the fastest algorithm, speed, floor) of one convolution: PyTorch's median time over ours
    (speed), and over the median time of that algorithm's matrix products alone (floor)."""
    algorithm = min(result["products_ms"], key=lambda name: result["products_ms"][name]["median"])
    torch_ms = result["ms"]["pytorch"]["median"]
    return (
        algorithm,
        torch_ms / result["ms"]["nnscratch"]["median"],
        torch_ms / result["products_ms"][algorithm]["median"],
    )


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(value) for value in values) / len(values))


def reference_cells(result: dict[str, Any]) -> tuple[str, str, str]:
    """(the route auto took, the reference's median ms, reference over auto), or dashes for a report
    measured before the routes."""
    if "route" not in result:
        return "—", "—", "—"
    reference = result["reference_ms"]["median"]
    return f"`{result['route']}`", f"{reference:.2f}", f"{reference / result['ms']['nnscratch']['median']:.2f}×"


def conv_modules_table(report: dict[str, Any]) -> str:
    """One row per convolution: both libraries' ms (median and range), speed, the products' ms, the
    floor, the route auto took and the layer's ms on the reference (im2col), with the reference's
    time over auto's (the price of the reference); then the geometric means and lowest values of
    speed and floor, and the peak memory."""

    def ms(spread: dict[str, float]) -> str:
        return f"{spread['median']:.2f} ({spread['min']:.2f}–{spread['max']:.2f})"

    rows, speeds, floors = [], [], []
    for result in report["results"]:
        algorithm, speed, floor = conv_module_ratios(result)
        speeds.append(speed)
        floors.append(floor)
        rows.append(
            (
                result["model"],
                result["layer"],
                result["shape"],
                ms(result["ms"]["nnscratch"]),
                ms(result["ms"]["pytorch"]),
                f"{speed:.2f}×",
                f"{result['products_ms'][algorithm]['median']:.2f} ({algorithm})",
                f"{floor:.2f}×",
                *reference_cells(result),
            )
        )
    headers = ["model", "layer", "shape", "nnscratch ms", "PyTorch ms", "speed", "products ms", "floor"]
    headers += ["route", "im2col ms", "im2col / route"]
    lines = [table(headers, rows, "lllrrrrrlrr")]
    if rows:
        lines += [
            "",
            f"Over the layers: speed {geometric_mean(speeds):.2f}× (geometric mean), lowest {min(speeds):.2f}×; "
            f"floor {geometric_mean(floors):.2f}×, lowest {min(floors):.2f}×.",
        ]
    if "memory" in report:
        layer, peaks = report["memory"]["layer"], report["memory"]["peak_mib"]
        lines += [
            "",
            f"Peak memory of one forward and backward of {layer}: {peaks['nnscratch']:.1f} MiB against PyTorch's "
            f"{peaks['pytorch']:.1f} MiB (resident memory above that before the step, each library in a process "
            "of its own).",
        ]
    return "\n".join(lines)


def conv_modules_section(reports_dir: Path = REPORTS_DIR) -> str:
    """Every convolution of LeNet-5, the baseline and ResNet18 against PyTorch's, or "not measured yet"."""
    report = load_report(CONV_MODULES_FILE, reports_dir)
    if report is None:
        return missing(CONV_MODULES_FILE)
    batches = sorted({result["batch_size"] for result in report["results"]})
    batch_text = "".join(f", batch {batch}" for batch in batches)
    return "\n".join([provenance(report) + f"{batch_text}.", "", conv_modules_table(report)])


def missing(name: str) -> str:
    return f"**{NOT_MEASURED}**: `benchmarks/reports/{name}` has not been written by the benchmarks yet."


def performance_section(reports_dir: Path = REPORTS_DIR) -> str:
    """The measured part of the performance page: throughput and accuracy tables, or "not measured yet"."""
    parts = ["### Training and inference speed", ""]
    throughput = load_report(THROUGHPUT_FILE, reports_dir)
    if throughput is None:
        parts.append(missing(THROUGHPUT_FILE))
    else:
        parts += [provenance(throughput) + ".", "", throughput_table(throughput)]
    parts += ["", "### Same recipe, same accuracy?", ""]
    accuracy = load_report(ACCURACY_FILE, reports_dir)
    if accuracy is None:
        parts.append(missing(ACCURACY_FILE))
    else:
        parts += [provenance(accuracy) + ".", "", accuracy_table(accuracy)]
    return "\n".join(parts)


def watch_overhead_table(report: dict[str, Any]) -> str:
    """Per model: ms per training step plain, with idle hooks and watched, and the overheads (median, range)."""

    def percent(spread: dict[str, float]) -> str:
        return f"{spread['median']:+.1%} ({spread['min']:+.1%} to {spread['max']:+.1%})"

    rows = [
        (
            result["model"],
            result["batch_size"],
            result["every"],
            *(f"{result['step_ms'][variant]['median']:.1f}" for variant in WATCH_VARIANTS),
            percent(result["overhead"]["idle_hooks"]),
            percent(result["overhead"]["watched"]),
        )
        for result in report["results"]
    ]
    headers = ["model", "batch", "every", *(f"{name} ms" for name in WATCH_VARIANTS.values())]
    return table([*headers, "idle hooks overhead", "watched overhead"], rows, "lrrrrrrr")


def watch_overhead_section(reports_dir: Path = REPORTS_DIR) -> str:
    """What hooks and ``--watch`` cost per training step, or "not measured yet"."""
    report = load_report(WATCH_OVERHEAD_FILE, reports_dir)
    if report is None:
        return missing(WATCH_OVERHEAD_FILE)
    return "\n".join([provenance(report) + ".", "", watch_overhead_table(report)])


def _parity_row(row: dict[str, Any]) -> tuple[str, ...]:
    """architecture (and options), input, max |difference| at batch 1, 7 and the recipe's, max |logit|."""
    options = ", ".join(f"{key}={value}" for key, value in row.get("options", {}).items())
    (_, one), (_, seven), (recipe, at_recipe) = row["max_abs_diff"].items()  # batch 1, 7, the recipe's
    return (
        row["model"] + (f" ({options})" if options else ""),
        row["input"],
        f"{one:.1e}",
        f"{seven:.1e}",
        f"{at_recipe:.1e} (batch {recipe})",
        f"{row['max_abs_logit']:.3g}",
    )


def onnx_inference_tables(report: dict[str, Any]) -> str:
    """Inference speed of both sides with the speed-up, then the parity of every architecture."""
    speed_rows = [
        (
            result["model"],
            result["batch_size"],
            spread_text(result["images_per_s"]["nnscratch"]),
            spread_text(result["images_per_s"]["onnxruntime"]),
            speedup_text(result["speedup"]),
        )
        for result in report["results"]
    ]
    headers = ["model", "batch", "nnscratch images/s", "ONNX Runtime images/s", "ONNX Runtime speed-up"]
    parity_headers = ["architecture", "input", "batch 1", "batch 7", "the recipe's batch", "max abs logit"]
    parity_rows = [_parity_row(row) for row in report["parity"]]
    return "\n\n".join(
        [
            table(headers, speed_rows, "lrrrr"),
            f"Largest |nnscratch − ONNX Runtime| of the float32 logits, ONNX opset {report['opset']}:",
            table(parity_headers, parity_rows, "llrrrr"),
        ]
    )


def onnx_inference_section(reports_dir: Path = REPORTS_DIR) -> str:
    """ONNX Runtime's inference speed next to nnscratch's, and the parity table, or "not measured yet"."""
    report = load_report(ONNX_INFERENCE_FILE, reports_dir)
    if report is None:
        return missing(ONNX_INFERENCE_FILE)
    return "\n".join([provenance(report) + ".", "", onnx_inference_tables(report)])


def model_measurements(model: str, reports_dir: Path = REPORTS_DIR) -> str:
    """The measured accuracy and speed of one model (for its gallery page), or "not measured yet"."""
    throughput = load_report(THROUGHPUT_FILE, reports_dir)
    accuracy = load_report(ACCURACY_FILE, reports_dir)
    parts = ["**Test accuracy.** "]
    if results_for(accuracy, model):
        parts[0] += provenance(accuracy) + "."
        parts += ["", accuracy_table(accuracy, [model])]
    else:
        parts[0] += f"{NOT_MEASURED.capitalize()}."
    parts += ["", "**Speed.** "]
    if results_for(throughput, model):
        parts[-1] += provenance(throughput) + "."
        parts += ["", throughput_table(throughput, [model])]
    else:
        parts[-1] += f"{NOT_MEASURED.capitalize()}."
    return "\n".join(parts)


def overview_numbers(model: str, reports_dir: Path = REPORTS_DIR) -> tuple[str, str]:
    """(test accuracy, training samples/s) of nnscratch for one model, as short texts for the gallery table."""
    accuracy = results_for(load_report(ACCURACY_FILE, reports_dir), model)
    throughput = results_for(load_report(THROUGHPUT_FILE, reports_dir), model)
    accuracy_text = f"{accuracy[0]['test_accuracy']['nnscratch']:.2%}" if accuracy else NOT_MEASURED
    speed_text = thousands(throughput[0]["train_samples_per_s"]["nnscratch"]["median"]) if throughput else NOT_MEASURED
    return accuracy_text, speed_text
