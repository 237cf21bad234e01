"""The picture of a learning-rate range test: loss against rate, on a log axis, the suggestion marked.

    plot_lr_range(rates, losses, smoothed, suggestion, path, reference=("recipe", 0.02))

matplotlib is imported only when the plot is drawn (``plots._pyplot``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .plots import _pyplot, _save


def plot_lr_range(
    rates: Any,
    losses: Any,
    smoothed: Any,
    suggestion: float,
    path: str | Path,
    title: str = "learning-rate range test",
    reference: tuple[str, float] | None = None,
) -> Path:
    """Raw (S,) and smoothed (S,) losses against rates (S,), log x axis; a line at ``suggestion``
    and, when given, one at ``reference`` = (name, rate), e.g. the rate a recipe trains with."""
    plt = _pyplot()
    rates, losses, smoothed = (np.asarray(values, dtype=float) for values in (rates, losses, smoothed))
    figure, axis = plt.subplots(figsize=(7, 4.2), layout="constrained")
    axis.plot(rates, losses, ".", color="lightgray", markersize=4, label="batch loss")
    axis.plot(rates, smoothed, "-", label="smoothed loss")
    axis.axvline(suggestion, color="tab:red", linestyle="--", label=f"suggestion {suggestion:.2g}")
    if reference is not None:
        axis.axvline(reference[1], color="tab:green", linestyle=":", label=f"{reference[0]} {reference[1]:g}")
    axis.set_xscale("log")
    # the batch losses of the last steps can be huge: cut the axis where the smoothed curve stays readable
    axis.set_ylim(0.95 * min(losses.min(), smoothed.min()), min(smoothed.max(), 2.0 * smoothed[0]) * 1.05)
    axis.set_xlabel("learning rate")
    axis.set_ylabel("training loss")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    axis.set_title(title)
    return _save(figure, path)
