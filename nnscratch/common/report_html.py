"""One self-contained HTML page from sections of text, tables and pictures.

    page = render_page("lenet on fashion-mnist", [Section("curves", "Curves", figure("curves.png", "..."))])
    write_page("out/index.html", page)

The page needs nothing from a network: its style is inline, pictures are files named relative to
the page (they sit beside it), and there is no script. It opens from disk in any browser. Every
piece of text is escaped with ``html.escape``; the helpers return HTML and only they build it.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .atomic_file import write_atomically

PAGE = string.Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem 2rem; color: #222; }
nav { font-size: 0.9rem; margin-bottom: 1rem; }
nav a { margin-right: 0.8rem; }
section { border-top: 1px solid #ddd; padding-top: 0.5rem; }
/* a table wider than the page (the health table of a deep model) scrolls instead of spilling out */
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
table { display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
td.number { text-align: right; }
th { background: #f0f0f5; }
code, pre { background: #f5f5f5; padding: 0.1rem 0.3rem; }
pre { padding: 0.6rem; overflow-x: auto; }
figure { margin: 0.5rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
.warning { color: #a00; }
</style>
</head>
<body>
<h1>$title</h1>
<nav>$links</nav>
$sections
</body>
</html>
"""
)


@dataclass
class Section:
    """One part of the page: ``key`` is its HTML id (the link target), ``body`` is already HTML."""

    key: str
    title: str
    body: str


def paragraph(text: str, css_class: str = "") -> str:
    """A paragraph of plain text (escaped)."""
    attribute = f' class="{html.escape(css_class)}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"


def code_block(text: str) -> str:
    """Preformatted text (a command line, a recipe)."""
    return f"<pre><code>{html.escape(text)}</code></pre>"


def bullet_list(items: Sequence[str], css_class: str = "") -> str:
    """An unordered list of plain-text items."""
    attribute = f' class="{html.escape(css_class)}"' if css_class else ""
    return f"<ul{attribute}>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def figure(source: str, caption: str) -> str:
    """A picture at ``source`` (a path relative to the page) with its caption as alt text too."""
    text = html.escape(caption)
    return f'<figure><img src="{html.escape(source)}" alt="{text}"><figcaption>{text}</figcaption></figure>'


def cell(value: object) -> str:
    """How a table shows a value: floats to 4 significant digits, integers with thousands separators,
    tuples as shapes (28x28), None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (tuple, list)):
        return "x".join(str(item) for item in value)
    return str(value)


def _data_cell(value: object) -> str:
    """One ``<td>``: numbers aligned right, so that their digits line up; text left."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    opening = '<td class="number">' if number else "<td>"
    return f"{opening}{html.escape(cell(value))}</td>"


def table(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None) -> str:
    """A table of ``rows`` (dicts); ``columns`` default to every key, in the order they first appear,
    so that a field added to the rows shows up without a change here."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in columns)
    body = "".join("<tr>" + "".join(_data_cell(row.get(column)) for column in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_page(title: str, sections: Sequence[Section]) -> str:
    """The whole page: a title, links to every section, and the sections in order."""
    links = " ".join(f'<a href="#{html.escape(s.key)}">{html.escape(s.title)}</a>' for s in sections)
    parts = "\n".join(
        f'<section id="{html.escape(s.key)}">\n<h2>{html.escape(s.title)}</h2>\n{s.body}\n</section>' for s in sections
    )
    return PAGE.substitute(title=html.escape(title), links=links, sections=parts)


def write_page(path: str | Path, page: str) -> Path:
    """Write ``page`` as UTF-8 at ``path``, atomically (a reader never sees half a page)."""
    return write_atomically(path, lambda stream: stream.write(page.encode("utf-8")))
