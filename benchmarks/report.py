"""The benchmark reports: JSON in the form the docs read, and the same tables as Markdown.

``benchmarks/reports/throughput.json`` and ``accuracy.json`` feed the performance page and the
gallery (their form is documented, and checked, in ``scripts/docsgen/reports.py``). A report
is checked with that same reader *before* it is written, so a benchmark can never leave a
file that stops the docs build; each file is written to a temporary name and renamed, so an
interrupted run leaves the previous report whole. The Markdown twin (``throughput.md``,
``accuracy.md``) holds the docs' own table, plus notes on how the figures were measured.

Smoke runs (``--quick``, or data other than the full dataset) write to ``out/benchmarks/``
(ignored by git) instead, so they never replace the measured figures the docs show.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.docsgen.reports import load_report, provenance

ROOT = Path(__file__).resolve().parents[1]
REPORTS_DIR = ROOT / "benchmarks" / "reports"
SMOKE_REPORTS_DIR = ROOT / "out" / "benchmarks"


def reports_dir(requested: str | None, smoke: bool) -> Path:
    """Where a run writes: ``requested`` when given, else out/benchmarks for a smoke run, else benchmarks/reports."""
    if requested is not None:
        return Path(requested)
    return SMOKE_REPORTS_DIR if smoke else REPORTS_DIR


def new_report(machine: dict[str, Any], command: str, results: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A report dict: machine, today's date, the command that made it, the results, and any extra entries."""
    return {
        "machine": machine,
        "date": datetime.date.today().isoformat(),
        "command": command,
        "results": results,
        **extra,
    }


def measured_report(run: dict[str, Any], command: str, results: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """``new_report`` of a ``machine.measured_run``: its machine, and its load average before and after."""
    return new_report(run["machine"], command, results, load_average=run["load_average"], **extra)


def load_average_text(load: dict[str, float]) -> str:
    """ "Load average 0.52 before, 0.61 after": the line every run prints or notes, since load makes figures noisier."""
    return f"Load average {load['before']:.2f} before, {load['after']:.2f} after"


def markdown_report(
    title: str, report: dict[str, Any], table: Callable[[dict[str, Any]], str], notes: list[str]
) -> str:
    """``# title``, where and how it was measured, the docs' ``table`` of the report, then the notes as a list."""
    parts = [f"# {title}", "", provenance(report) + ".", "", table(report), ""]
    parts += [f"- {note}" for note in notes]
    return "\n".join(parts) + "\n"


def _replace_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as scratch:
        scratch.write(text)
    os.chmod(scratch.name, 0o644)  # a temporary file is private (0600); a report is for everyone to read
    os.replace(scratch.name, path)


def write_report(report: dict[str, Any], filename: str, markdown: str, folder: Path) -> tuple[Path, Path]:
    """Check ``report`` with the docs' reader (a ``ReportError`` says what is wrong), then write
    folder/filename (JSON) and the Markdown next to it (.md). Returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        (Path(scratch) / filename).write_text(text)
        load_report(filename, Path(scratch))
    json_path, markdown_path = folder / filename, (folder / filename).with_suffix(".md")
    _replace_atomically(json_path, text)
    _replace_atomically(markdown_path, markdown)
    return json_path, markdown_path


def publish(
    report: dict[str, Any], filename: str, title: str, table: Callable[[dict[str, Any]], str], folder: Path
) -> None:
    """Write ``report`` and its Markdown (``markdown_report`` with the report's "notes") to ``folder``; say where."""
    markdown = markdown_report(title, report, table, report.get("notes", []))
    json_path, markdown_path = write_report(report, filename, markdown, folder)
    print(f"wrote {json_path} and {markdown_path}")
