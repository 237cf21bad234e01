"""Small helpers that write Markdown: tables, collapsible blocks, numbers."""

from __future__ import annotations

from collections.abc import Sequence


def cell(value: object) -> str:
    """A table cell: the text of ``value`` with pipes escaped and line breaks flattened."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table; ``align`` has one letter per column: l (default), r or c."""
    markers = {"l": "---", "r": "--:", "c": ":-:"}
    align = align.ljust(len(headers), "l")
    lines = [
        "| " + " | ".join(cell(header) for header in headers) + " |",
        "| " + " | ".join(markers[letter] for letter in align) + " |",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def collapsible(title: str, body: str, kind: str = "abstract", opened: bool = False) -> str:
    """A block that opens and closes on a click (pymdownx.details): ``??? kind "title"``, ``???+`` when opened."""
    indented = "\n".join(("    " + line) if line else "" for line in body.splitlines())
    return f'???{"+" if opened else ""} {kind} "{title}"\n\n{indented}'


def thousands(number: float) -> str:
    """12,345 for whole numbers; three significant figures otherwise."""
    return f"{number:,.0f}" if number >= 100 else f"{number:.3g}"


def fenced(text: str, language: str = "text") -> str:
    """``text`` in a fenced code block."""
    return f"```{language}\n{text.rstrip()}\n```"
