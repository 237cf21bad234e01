"""Reading a watched run (``watch.py``): warnings in plain words, and the health table.

Three signs that training is going wrong, each with its rule of thumb:

- a **dead layer**: a ReLU whose input has become negative for every sample gives 0 and passes
  no gradient back, so its units stop learning. Warned when more than half of a ReLU-family
  layer's units (features or channels) gave exactly 0 for every input sampled in an epoch (a
  healthy ReLU gives 0 for about half of its *values*, but not for all inputs of a unit).
- **vanishing or exploding gradients**: the gradient norm of the first layer with parameters
  over that of the last one, median over the run, beyond 1e3 either way.
- an **update ratio** ||update|| / ||w|| far from the ~1e-3 of a healthy run (CS231n's rule of
  thumb): a median per layer outside [1e-5, 1e-1] says the learning rate is far too low or high.
"""

from __future__ import annotations

import statistics
from typing import Any

DEAD_UNIT_FRACTION = 0.5
GRADIENT_RATIO_LIMIT = 1e3
UPDATE_RATIO_RANGE = (1e-5, 1e-1)
STATISTICS = (
    "activation_mean",
    "activation_std",
    "zero_fraction",
    "grad_norm",
    "weight_norm",
    "update_ratio",
    "forward_seconds",
    "backward_seconds",
)

Warning = tuple[str | None, str]  # (the layer it is about, or None for the whole model; the sentence)


def median_statistics(records: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """layer -> statistic -> its median over the records of that layer (None if never measured)."""
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_layer.setdefault(record["layer"], []).append(record)

    def median(values: list[Any]) -> float | None:
        measured = [value for value in values if value is not None]
        return statistics.median(measured) if measured else None

    return {
        layer: {name: median([record[name] for record in rows]) for name in STATISTICS}
        for layer, rows in by_layer.items()
    }


def health_warnings(records: list[dict[str, Any]], dead_fractions: dict[tuple[int, str], float]) -> list[Warning]:
    """The warnings of a watched run: its records, and the dead-unit fraction of each (epoch, ReLU layer)."""
    kinds = {record["layer"]: record["kind"] for record in records}
    medians = median_statistics(records)
    warnings = []
    for (epoch, layer), fraction in sorted(dead_fractions.items()):
        if fraction > DEAD_UNIT_FRACTION:
            warnings.append(
                (
                    layer,
                    f"layer '{layer}' ({kinds[layer]}) is dead in epoch {epoch}: {fraction:.0%} of its units gave "
                    "exactly 0 for every sampled input, so they pass no gradient back (try a lower learning rate, "
                    "another initialisation, or LeakyReLU)",
                )
            )
    warnings += _gradient_flow_warnings(medians, kinds)
    for layer, median in medians.items():
        ratio = median["update_ratio"]
        low, high = UPDATE_RATIO_RANGE
        if ratio is not None and not low <= ratio <= high:
            advice = "the learning rate looks too high" if ratio > high else "the learning rate looks too low"
            warnings.append(
                (
                    layer,
                    f"layer '{layer}' ({kinds[layer]}): each step changes its weights by {ratio:.1e} of their norm "
                    f"(median), far from the usual ~1e-3: {advice}",
                )
            )
    return warnings


def _gradient_flow_warnings(medians: dict[str, dict[str, float | None]], kinds: dict[str, str]) -> list[Warning]:
    """Vanishing or exploding gradients: the first over the last parameterised layer's median gradient norm."""
    with_gradients = [layer for layer, median in medians.items() if median["grad_norm"] is not None]
    if len(with_gradients) < 2:
        return []
    first, last = with_gradients[0], with_gradients[-1]
    first_norm, last_norm = medians[first]["grad_norm"], medians[last]["grad_norm"]
    if first_norm * GRADIENT_RATIO_LIMIT < last_norm:
        trend = "vanish"
    elif first_norm > last_norm * GRADIENT_RATIO_LIMIT:
        trend = "explode"
    else:
        return []
    return [
        (
            None,
            f"gradients {trend} towards the input: the first layer with parameters, '{first}' ({kinds[first]}), "
            f"gets a gradient norm of {first_norm:.1e} against {last_norm:.1e} for the last, '{last}' "
            f"({kinds[last]}) (median over the run; try normalisation layers, residual connections or "
            "another initialisation)",
        )
    ]


def health_table(layers: list[tuple[str, Any]], records: list[dict[str, Any]], warnings: list[Warning]) -> list[dict]:
    """One row per leaf layer, in the model's order: layer, kind, the median of each statistic, and
    its warnings joined ("" when none)."""
    medians = median_statistics(records)
    rows = []
    for name, module in layers:
        median = medians.get(name, dict.fromkeys(STATISTICS))
        said = "; ".join(text for layer, text in warnings if layer == name)
        rows.append({"layer": name, "kind": type(module).__name__, **median, "warning": said})
    return rows
