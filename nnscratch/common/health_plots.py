"""PNG pictures of what happens inside a network while it trains, and of what it looks at.

    plot_gradient_flow(records, path)             heat map: layers x sampled steps, log colour of grad_norm
    plot_activation_histograms(histograms, path)  each layer's output values at chosen epochs
    plot_update_ratios(records, path)             ||w_after - w_before|| / ||w_before|| per step, log axis
    plot_filters(weight, path)                    a convolution's filters (F, C, kh, kw) as an image grid
    plot_saliency(images, maps, titles, path)     each image above its saliency map

The first three draw the records of a training watcher (``watch``, tier 2) as plain data: a
list of dicts per (sampled step, layer) with ``step``, ``layer``, ``grad_norm``,
``update_ratio``..., and the histograms as dicts with ``epoch``, ``layer``, ``counts`` and
``edges``. They need nothing else, so any source of such records can be drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .backend import to_cpu
from .plots import _pyplot, _save, plot_image_grid, show_image

# the rule of thumb for a healthy step: each update moves a weight by about a thousandth of its size
TYPICAL_UPDATE_RATIO = 1e-3


def _in_order(names: Sequence[str]) -> list[str]:
    """Each name once, in the order it first appears (the layers' order in the forward pass)."""
    return list(dict.fromkeys(names))


def _series(records: Sequence[dict], key: str) -> dict[str, tuple[list[int], list[float]]]:
    """layer -> (steps, values) of ``key`` over the records, leaving out layers where it is always None;
    the layers in the order they first appear in the records (the forward pass's)."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for record in records:
        if record.get(key) is not None:
            steps, values = series.setdefault(record["layer"], ([], []))
            steps.append(record["step"])
            values.append(float(record[key]))
    return {layer: series[layer] for layer in _in_order([record["layer"] for record in records]) if layer in series}


def _labels(records: Sequence[dict]) -> dict[str, str]:
    """layer -> "layer (kind)", e.g. "3 (Conv2D)", for axes and legends."""
    return {record["layer"]: f"{record['layer']} ({record['kind']})" for record in records}


def _no_data(path: str | Path, what: str) -> Path:
    """A picture saying there is nothing to draw, so that a report never points at a missing file."""
    figure = _pyplot().figure(figsize=(6, 1.2))
    figure.text(0.5, 0.5, what, ha="center", va="center")
    return _save(figure, path)


def gradient_flow_grid(records: Sequence[dict]) -> tuple[list[str], list[int], np.ndarray]:
    """(layers, steps, grid): the layers with a gradient norm in forward order, the sampled steps in
    order, and grid (layers, steps) of ``grad_norm``, NaN where a layer has no record at a step."""
    series = _series(records, "grad_norm")
    layers = list(series)
    steps = sorted({step for layer_steps, _ in series.values() for step in layer_steps})
    column = {step: index for index, step in enumerate(steps)}
    grid = np.full((len(layers), len(steps)), np.nan)
    for row, layer in enumerate(layers):
        for step, value in zip(*series[layer], strict=True):
            grid[row, column[step]] = value
    return layers, steps, grid


def plot_gradient_flow(records: Sequence[dict], path: str | Path) -> Path:
    """The L2 norm of each parameterised layer's gradient (rows, in forward order) at each sampled step
    (columns), on a logarithmic colour scale: vanishing gradients show as rows fading towards the input."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    layers, steps, grid = gradient_flow_grid(records)
    if not layers:
        return _no_data(path, "no gradient norms were recorded (no layer with parameters was watched)")
    positive = grid[np.isfinite(grid) & (grid > 0)]
    low, high = (positive.min(), positive.max()) if positive.size else (1e-12, 1.0)
    figure, axis = plt.subplots(figsize=(min(14.0, max(6.0, 0.12 * len(steps) + 3)), 1.0 + 0.28 * len(layers)))
    masked = np.ma.masked_where(~(grid > 0), grid)  # a zero norm has no logarithm: left blank
    image = axis.imshow(masked, aspect="auto", cmap="viridis", norm=LogNorm(low, max(high, low * 1.0001)))
    figure.colorbar(image, ax=axis, label="gradient L2 norm")
    labels = _labels(records)
    axis.set_yticks(range(len(layers)), [labels[layer] for layer in layers], fontsize=7)
    ticks = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), 8)).astype(int))
    axis.set_xticks(ticks, [str(steps[index]) for index in ticks])
    axis.set_xlabel("training step (sampled)")
    axis.set_title("gradient flow: each layer's gradient norm")
    return _save(figure, path)


def default_epochs(histograms: Sequence[dict]) -> list[int]:
    """The first, middle and last epoch that have histograms (fewer when there are fewer)."""
    epochs = sorted({entry["epoch"] for entry in histograms})
    return sorted({epochs[0], epochs[len(epochs) // 2], epochs[-1]}) if epochs else []


def plot_activation_histograms(
    histograms: Sequence[dict], path: str | Path, epochs: Sequence[int] | None = None
) -> Path:
    """One panel per layer: the distribution of its output values at each of ``epochs`` (default: the
    first, middle and last), drawn as outlines so that the epochs can be compared."""
    plt = _pyplot()
    epochs = default_epochs(histograms) if epochs is None else list(epochs)
    chosen = [entry for entry in histograms if entry["epoch"] in epochs]
    if not chosen:
        return _no_data(path, "no activation histograms were recorded")
    layers = _in_order([entry["layer"] for entry in chosen])
    columns = min(4, len(layers))
    rows = math.ceil(len(layers) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.2 * rows), squeeze=False, layout="constrained")
    panel = dict(zip(layers, axes.ravel(), strict=False))
    colours = dict(zip(epochs, plt.get_cmap("plasma")(np.linspace(0.1, 0.8, len(epochs))), strict=True))
    for entry in chosen:
        axis = panel[entry["layer"]]
        counts = np.asarray(entry["counts"], dtype=float)
        fractions = counts / counts.sum() if counts.sum() else counts
        axis.stairs(fractions, entry["edges"], color=colours[entry["epoch"]], label=f"epoch {entry['epoch']}")
        axis.set_title(entry["layer"], fontsize=8)
        axis.tick_params(labelsize=6)
    for axis in axes.ravel()[len(layers) :]:
        axis.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    figure.suptitle("activations: each layer's output values (fraction per bin)")
    return _save(figure, path)


def plot_update_ratios(records: Sequence[dict], path: str | Path) -> Path:
    """||w_after - w_before|| / ||w_before|| of each parameterised layer at each sampled step, on a log axis,
    with a band around the ~1e-3 of a healthy learning rate (far below: learning stalls; far above: it thrashes)."""
    plt = _pyplot()
    series = _series(records, "update_ratio")
    if not series:
        return _no_data(path, "no update ratios were recorded (they need the optimizer)")
    figure, axis = plt.subplots(figsize=(9, 4.5), layout="constrained")
    labels = _labels(records)
    for layer, (steps, values) in series.items():
        axis.plot(steps, values, "-", linewidth=1, label=labels[layer])
    axis.axhspan(TYPICAL_UPDATE_RATIO / 3, TYPICAL_UPDATE_RATIO * 3, color="green", alpha=0.12, label="~1e-3")
    axis.axhline(TYPICAL_UPDATE_RATIO, color="green", linewidth=0.8, linestyle="--")
    axis.set_yscale("log")
    axis.set_xlabel("training step (sampled)")
    axis.set_ylabel("update / weight (L2 norms)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=6, ncol=max(1, len(series) // 12), loc="center left", bbox_to_anchor=(1.0, 0.5))
    axis.set_title("update-to-weight ratio per layer")
    return _save(figure, path)


def plot_filters(weight: Any, path: str | Path, title: str = "first convolution's filters") -> Path:
    """A convolution's filters weight: (F, C, kh, kw) as a grid, each scaled to its own range; shown in
    colour for C == 3, in grey for C == 1, and as the mean over the input channels otherwise."""
    weight = np.asarray(to_cpu(weight), dtype=np.float64)
    if weight.shape[1] not in (1, 3):
        weight = weight.mean(axis=1, keepdims=True)
    return plot_image_grid(weight, [f"filter {index}" for index in range(len(weight))], path, title)


def plot_saliency(images: Any, maps: Any, titles: Sequence[str], path: str | Path, title: str = "saliency") -> Path:
    """Each image (N, C, H, W) with its saliency map (N, H, W) under it (brighter: the predicted logit
    changes more with that pixel), captioned by ``titles``."""
    plt = _pyplot()
    images, maps = np.asarray(to_cpu(images), dtype=np.float64), np.asarray(to_cpu(maps), dtype=np.float64)
    count = len(images)
    if count == 0:
        return _no_data(path, "no images to show")
    figure, axes = plt.subplots(2, count, figsize=(1.7 * count, 3.6), squeeze=False, layout="constrained")
    for index in range(count):
        show_image(axes[0, index], images[index])
        axes[0, index].set_title(titles[index], fontsize=7)
        axes[1, index].imshow(maps[index], cmap="hot")
        for axis in axes[:, index]:
            axis.axis("off")
    figure.suptitle(title)
    return _save(figure, path)
