"""``--report DIR``: one HTML page about a finished training run, with its pictures and metrics beside it.

    DIR/index.html      the page (``common/report_html.py``): opens from disk, needs no network
    DIR/*.png           its pictures (``common/plots.py``, ``common/health_plots.py``)
    DIR/history.csv     every metric logged per epoch
    DIR/watch.jsonl     with --watch: every record of the watcher, one JSON object per line

The page has, in order: the command and recipe, the dataset, the curves, the test results (per-class
accuracy, confusion matrix), the layer table (``convolutional.summary.summarize``, whatever fields
its rows have), the first convolution's filters, saliency maps of correct and misclassified test
images (``vectorized.saliency``), and, for a watched run, the health table with its warnings,
the time per layer, the gradient flow, the activation histograms and the update ratios. A part that
does not apply to the run (saliency for the scalar tier, health without --watch) says why it is absent.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from ..common.atomic_file import write_atomically
from ..common.report_html import Section, bullet_list, code_block, figure, paragraph, render_page, table, write_page

SALIENCY_IMAGES = 8  # how many correct, and how many misclassified, test images get a saliency map


def write_report(run: Any, dataset: Any, predicted: Any) -> Path:
    """Write ``run.args.report``/index.html for a finished ``TrainingRun`` and its test predictions (N,)."""
    from ..vectorized.module import Module

    folder = Path(run.args.report)
    predicted = np.asarray(predicted)
    history = run.trainer.history
    sections = [
        command_section(run),
        dataset_section(run, dataset),
        curves_section(folder, history, f"{run.title} on {dataset.name}"),
        results_section(folder, dataset, predicted, has_saliency=isinstance(run.model, Module)),
    ]
    if isinstance(run.model, Module):
        sections += model_sections(folder, run, dataset, predicted)
    else:
        sections += scalar_sections(run.model)
    sections.append(health_section(folder, getattr(run, "watcher", None), run.command))
    return write_page(folder / "index.html", render_page(f"nnscratch {run.command}: {run.title}", sections))


# ----------------------------------------------------------------------------- the run and its data


def command_section(run: Any) -> Section:
    """The command as typed, the plan line the run printed, and the recipe it recorded."""
    args = run.args
    command = "nnscratch " + shlex.join(getattr(args, "argv", None) or [run.command])
    recipe = run.metadata.get("training", {})
    body = code_block(command) + paragraph(run.plan) + table([{"option": k, "value": v} for k, v in recipe.items()])
    body += paragraph(f"architecture: {json.dumps(run.metadata.get('architecture'))}")
    return Section("command", "Command and recipe", body)


def dataset_section(run: Any, dataset: Any) -> Section:
    rows = [
        {"property": "name", "value": dataset.name},
        {"property": "from", "value": dataset.location},
        {"property": "image shape (C, H, W)", "value": dataset.image_shape},
        {"property": "training images used", "value": len(run.x_train)},
        {"property": "held out for validation", "value": f"{run.args.val_split:.0%}"},
        {"property": "test images", "value": len(dataset.y_test)},
        {"property": "classes", "value": ", ".join(dataset.classes)},
    ]
    return Section("dataset", "Dataset", table(rows))


def curves_section(folder: Path, history: list[dict], title: str) -> Section:
    """The curves' picture and the history table; the history also as ``history.csv``."""
    from ..common.plots import plot_history

    plot_history(history, folder / "curves.png", title=title)
    write_atomically(folder / "history.csv", lambda stream: stream.write(history_csv(history).encode()))
    body = figure("curves.png", "loss and accuracy per epoch (learning rate dashed)") + table(history)
    body += paragraph("Every metric per epoch is also in history.csv beside this page.")
    return Section("curves", "Training curves", body)


def history_csv(history: list[dict]) -> str:
    """The per-epoch history as CSV text, one column per key (a missing value left empty)."""
    columns = list(dict.fromkeys(key for entry in history for key in entry))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def results_section(folder: Path, dataset: Any, predicted: np.ndarray, has_saliency: bool) -> Section:
    """Test accuracy, per-class accuracy, the confusion matrix (a picture and a table), and the misclassified
    images: here for the scalar tier, in the saliency section with their maps for the others."""
    from ..common.metrics import accuracy, confusion_matrix, per_class_accuracy
    from ..common.plots import plot_confusion_matrix, plot_misclassified

    true = np.asarray(dataset.y_test)
    matrix = confusion_matrix(predicted, true, dataset.num_classes)
    per_class = per_class_accuracy(predicted, true, dataset.num_classes)
    class_rows = [
        {"class": name, "test images": int(matrix[index].sum()), "accuracy": f"{per_class[index]:.1%}"}
        for index, name in enumerate(dataset.classes)
    ]
    confusion_rows = [
        {"true \\ predicted": name, **{other: int(count) for other, count in zip(dataset.classes, row, strict=True)}}
        for name, row in zip(dataset.classes, matrix, strict=True)
    ]
    plot_confusion_matrix(matrix, dataset.classes, folder / "confusion_matrix.png", title="test set")
    body = paragraph(f"test accuracy {accuracy(predicted, true):.2%} on {len(true):,} images")
    body += table(class_rows) + figure("confusion_matrix.png", "confusion matrix (rows: true class)")
    body += table(confusion_rows)
    if has_saliency:
        return Section("results", "Test results", body + paragraph("Misclassified images: with their saliency, below."))
    plot_misclassified(dataset.x_test, true, predicted, dataset.classes, folder / "misclassified.png")
    body += figure("misclassified.png", "misclassified test images: true -> predicted")
    return Section("results", "Test results", body)


# ----------------------------------------------------------------------------- the model


def model_sections(folder: Path, run: Any, dataset: Any, predicted: np.ndarray) -> list[Section]:
    """The layer table, the first convolution's filters, and saliency maps (tiers 2 and 3)."""
    return [
        layers_section(run),
        filters_section(folder, run.model),
        saliency_section(folder, run.model, run.x_test, dataset, predicted),
    ]


def layers_section(run: Any) -> Section:
    """``summarize``'s rows with a total, and the memory of one training step as the run took it
    (its batch size and optimizer: ``measure_training_memory``)."""
    from ..convolutional.summary import memory_lines, summarize
    from ..vectorized.optim import make_optimizer
    from ..vectorized.training_memory import measure_training_memory

    args, model = run.args, run.model
    input_shape = tuple(run.x_test.shape[1:])
    optimizer = (args.optimizer, args.lr, args.momentum, args.nesterov, args.weight_decay, args.lookahead)
    memory = measure_training_memory(
        model, input_shape, args.batch_size, lambda parameters: make_optimizer(optimizer[0], parameters, *optimizer[1:])
    )
    rows = [row_fields(row) for row in summarize(model, input_shape, memory)]
    body = table([*rows, total_row(rows)])
    body += paragraph("FLOPs: forward, for one image; kept and workspace bytes: for one training batch.")
    return Section("layers", "Layers", body + code_block("\n".join(memory_lines(memory))))


def row_fields(row: Any) -> dict:
    """A summary row's fields by name, whether the row is a dataclass, a named tuple or a mapping."""
    if dataclasses.is_dataclass(row):
        return dataclasses.asdict(row)
    if hasattr(row, "_asdict"):
        return row._asdict()
    return dict(row)


def total_row(rows: list[dict]) -> dict:
    """Parameters and FLOPs summed, under "total", as ``format_summary`` totals them. The memory columns are
    not summed: a step holds every layer's kept bytes but only one layer's workspace at a time, and the
    memory block below the table gives those totals."""
    first = next(iter(rows[0])) if rows else "name"
    return {first: "total", **{column: sum(row[column] for row in rows) for column in ("parameters", "flops")}}


def first_convolution(model: Any) -> Any:
    """The first Conv2D of ``model`` in attribute order, or None for a network without one."""
    from ..convolutional.modules import Conv2D

    return next((module for module in model.modules() if isinstance(module, Conv2D)), None)


def filters_section(folder: Path, model: Any) -> Section:
    from ..common.health_plots import plot_filters

    conv = first_convolution(model)
    if conv is None:
        return Section("filters", "First-layer filters", paragraph("This network has no convolution."))
    plot_filters(conv.weight.data, folder / "filters.png")
    caption = f"the {conv.out_channels} filters of the first convolution ({'x'.join(map(str, conv.kernel_size))})"
    return Section("filters", "First-layer filters", figure("filters.png", caption))


def saliency_section(folder: Path, model: Any, x_test: Any, dataset: Any, predicted: np.ndarray) -> Section:
    """Saliency maps of the first few correct and the first few misclassified test images."""
    true = np.asarray(dataset.y_test)
    body = paragraph(
        "Each map is |dz/dx|, the gradient of the predicted class's logit z (its score before the softmax) "
        "with respect to the input, largest over the channels: bright pixels change the score most."
    )
    for name, chosen in (("correct", predicted == true), ("misclassified", predicted != true)):
        indices = np.flatnonzero(chosen)[:SALIENCY_IMAGES]
        if len(indices) == 0:
            body += paragraph(f"No {name} test image.")
            continue
        path = draw_saliency(folder / f"saliency_{name}.png", model, x_test, dataset, indices)
        body += figure(path.name, f"{name} test images (true -> predicted) and their saliency")
    return Section("saliency", "Saliency", body)


def draw_saliency(path: Path, model: Any, x_test: Any, dataset: Any, indices: np.ndarray) -> Path:
    from ..common.backend import to_cpu, to_device
    from ..common.health_plots import plot_saliency
    from ..vectorized.saliency import saliency, saliency_image

    gradient, predicted = saliency(model, to_device(np.asarray(x_test[indices])))
    images = dataset.x_test[indices]
    maps = saliency_image(to_cpu(gradient).reshape(images.shape))  # an MLP's flat input, back to (C, H, W)
    names = dataset.classes
    titles = [f"{names[dataset.y_test[i]]} -> {names[p]}" for i, p in zip(indices, to_cpu(predicted), strict=True)]
    return plot_saliency(images, maps, titles, path, title=f"saliency of {path.stem.split('_')[-1]} test images")


def scalar_sections(network: Any) -> list[Section]:
    """The scalar network's layers; what the scalar tier cannot show, said."""
    rows = [
        {"layer": index, "inputs": layer.num_inputs, "neurons": layer.num_outputs, "activation": layer.activation}
        for index, layer in enumerate(network.dense_layers)
    ]
    for row in rows:
        row["parameters"] = (row["inputs"] + 1) * row["neurons"]
    note = paragraph(
        "The scalar tier computes with Python floats, neuron by neuron: it has no Module, so it has no "
        "FLOPs table, no saliency maps and no first-layer filters (a fully connected layer has none)."
    )
    return [Section("layers", "Layers", table(rows) + note)]


# ----------------------------------------------------------------------------- health (--watch)


def health_section(folder: Path, watcher: Any, command: str) -> Section:
    """The watcher's health table, warnings, time per layer and pictures; a sentence when unwatched."""
    if watcher is None:
        if command == "scalar":
            text = "The scalar tier has no Module to watch: no health table, gradient flow or activation histograms."
        else:
            text = (
                "This run was not watched: run it again with --watch to add the health table with its warnings, "
                "the time per layer, the gradient flow, the activation histograms and the update-ratio curves."
            )
        return Section("health", "Training health", paragraph(text))
    from ..common.health_plots import plot_activation_histograms, plot_gradient_flow, plot_update_ratios

    watcher.write_jsonl(folder / "watch.jsonl")
    plot_gradient_flow(watcher.records, folder / "gradient_flow.png")
    plot_activation_histograms(watcher.histograms, folder / "activation_histograms.png")
    plot_update_ratios(watcher.records, folder / "update_ratios.png")
    warnings = watcher.warnings()
    rows = watcher.health_table()
    body = bullet_list(warnings, "warning") if warnings else paragraph("No warning: every layer looks healthy.")
    body += table(rows) + time_table(rows)
    body += figure("gradient_flow.png", "gradient flow: each layer's gradient norm at the sampled steps")
    body += figure("activation_histograms.png", "activation histograms per layer")
    body += figure("update_ratios.png", "update-to-weight ratio per layer (band: ~1e-3)")
    body += paragraph("Every record of the watcher is in watch.jsonl beside this page.")
    return Section("health", "Training health", body)


def time_table(rows: list[dict]) -> str:
    """Each layer's median forward and backward time and its share of all layers' time."""
    seconds = [(row.get("forward_seconds") or 0.0) + (row.get("backward_seconds") or 0.0) for row in rows]
    total = sum(seconds) or 1.0
    timed = [
        {
            "layer": row["layer"],
            "kind": row.get("kind"),
            "forward ms": 1e3 * (row.get("forward_seconds") or 0.0),
            "backward ms": 1e3 * (row.get("backward_seconds") or 0.0),
            "share": f"{spent / total:.1%}",
        }
        for row, spent in zip(rows, seconds, strict=True)
    ]
    return paragraph("Time per layer (median over the sampled steps):") + table(timed)
