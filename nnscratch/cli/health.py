"""The health table and warnings printed at the end of a run watched with ``--watch [K]``."""

from __future__ import annotations

from typing import Any

# (heading, statistic of the health table, format); times are shown in milliseconds
COLUMNS = (
    ("act mean", "activation_mean", "{:.3g}"),
    ("act std", "activation_std", "{:.3g}"),
    ("zeros", "zero_fraction", "{:.0%}"),
    ("grad norm", "grad_norm", "{:.2e}"),
    ("weight norm", "weight_norm", "{:.3g}"),
    ("update", "update_ratio", "{:.1e}"),
    ("fwd ms", "forward_seconds", "{:.2f}"),
    ("bwd ms", "backward_seconds", "{:.2f}"),
)


def _cell(value: float | None, statistic: str, form: str) -> str:
    if value is None:
        return "-"
    return form.format(value * 1e3 if statistic.endswith("_seconds") else value)


def format_health(watcher: Any) -> str:
    """The watcher's health table (one row per leaf layer, medians over the sampled steps), then its
    warnings, one a line ("no warnings" when there are none)."""
    rows = watcher.health_table()
    sampled = len({record["step"] for record in watcher.records})
    table = [["layer", "kind", *(heading for heading, _, _ in COLUMNS)]]
    for row in rows:
        table.append([row["layer"], row["kind"], *(_cell(row[name], name, form) for _, name, form in COLUMNS)])
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    lines = [f"training health (every {watcher.every} batches; medians over {sampled} sampled steps):"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table]
    warnings = watcher.warnings()
    lines += [f"warning: {text}" for text in warnings] or ["no warnings"]
    return "\n".join(lines)
