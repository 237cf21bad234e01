"""Griffe extension for the API reference: make the docstrings' plain-text habits read right as Markdown.

The reference renders docstrings as Markdown. Two habits of plain-text docstrings would come
out wrong there, so they are rewritten (outside code) before rendering:

- Sphinx roles, ``:class:`Dataset``` or ``:func:`layer_plan```, would show the role as text:
  the name is kept, as code.
- Products written without spaces, ``C*kh*kw`` or ``N*H*W``, would turn the middle factor
  into italics: their stars are escaped.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
PRODUCT_STAR = re.compile(r"(?<=[\w')\]])\*(?=[\w(\[])")


def _escape_products(line: str) -> str:
    """Escape the stars of products in a line of prose, leaving its code spans alone."""
    pieces, start = [], 0
    for span in CODE_SPAN.finditer(line):
        pieces += [PRODUCT_STAR.sub(r"\\*", line[start : span.start()]), span.group(0)]
        start = span.end()
    return "".join(pieces) + PRODUCT_STAR.sub(r"\\*", line[start:])


def as_markdown(docstring: str) -> str:
    """The docstring with roles as code and product stars escaped; indented code blocks are kept as they are."""
    lines = []
    for line in ROLE.sub(r"`\1`", docstring).splitlines():
        lines.append(line if line.startswith("    ") else _escape_products(line))
    return "\n".join(lines)


class DocstringsAsMarkdown(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = as_markdown(obj.docstring.value)
