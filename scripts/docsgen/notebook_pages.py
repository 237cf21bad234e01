"""The notebooks of ``notebooks/`` as pages of the site, with the outputs of a real run.

Each executed notebook (``scripts/notebooks.executed``: run once, shared with the test suite)
becomes ``notebooks/<name>.md``: its text cells as they are, its code cells as Python blocks
and its outputs as text blocks captioned "output" and PNG images (``notebooks/<name>/cell-<i>-<k>.png``). The
page is then ordinary Markdown, so the theme, the search, the code copy button and the vendored
KaTeX serve it like any other page, with nothing loaded from the network. The notebook itself
(``<name>.ipynb``, with outputs) and its source (``<name>.py``) are published beside the page.

``add_to_nav`` lists every notebook in the "Notebooks" section of the navigation, so a new
``notebooks/*.py`` appears on the site without touching ``mkdocs.yml``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import nbformat

from scripts.notebooks import ROOT, executed, read, sources

from .markdown import fenced

OUTPUT = 'text title="output"'  # a text block with a caption, so that what a cell printed stands apart from its code
SECTION = "Notebooks"
FOLDER = "notebooks"  # where the pages go in the site


def title(notebook: nbformat.NotebookNode, source: Path) -> str:
    """The first heading of the notebook's first text cell (the file name when it has none)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            return first.lstrip("#").strip() if first.startswith("#") else source.stem
    return source.stem


def output_markdown(output: Any, image_name: str, images: dict[str, bytes]) -> str:
    """One output of a code cell: a text block, or a PNG written to ``images[image_name]`` and shown."""
    if output.output_type == "stream":
        return fenced(output.text, OUTPUT)
    if output.output_type == "error":  # executed notebooks stop at an error; this is for a hand-made one
        raise ValueError(f"a notebook output is an error: {output.ename}: {output.evalue}")
    data = output.get("data", {})
    if "image/png" in data:
        images[image_name] = base64.b64decode(data["image/png"])
        return f"![an output of the cell above]({Path(image_name).relative_to(FOLDER).as_posix()})"
    return fenced(data["text/plain"], OUTPUT) if "text/plain" in data else ""


def page_markdown(notebook: nbformat.NotebookNode, stem: str) -> tuple[str, dict[str, bytes]]:
    """The page of an executed notebook, and its images {site path: PNG bytes}."""
    parts, images = [], {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            if index == 0:
                parts.append(download_note(stem))
        elif cell.cell_type == "code":
            parts.append(fenced(cell.source, "python"))
            for number, output in enumerate(cell.get("outputs", [])):
                parts.append(output_markdown(output, f"{FOLDER}/{stem}/cell-{index}-{number}.png", images))
    return "\n\n".join(part for part in parts if part) + "\n", images


def download_note(stem: str) -> str:
    return (
        f'!!! tip "Run it yourself"\n\n'
        f"    The source is `notebooks/{stem}.py` ([download]({stem}.py)); `make notebooks` writes it as "
        f"`build/notebooks/{stem}.ipynb` for Jupyter. The outputs below are from the run of this build: "
        f"[{stem}.ipynb]({stem}.ipynb)."
    )


def site_files() -> dict[str, bytes | str]:
    """Every file the notebooks add to the site: {path in the site: content}."""
    files: dict[str, bytes | str] = {}
    for source in sources():
        notebook = executed(source)
        markdown, images = page_markdown(notebook, source.stem)
        files[f"{FOLDER}/{source.stem}.md"] = markdown
        files[f"{FOLDER}/{source.stem}.ipynb"] = nbformat.writes(notebook)
        files[f"{FOLDER}/{source.stem}.py"] = source.read_bytes()
        files.update(images)
    return files


def add_to_nav(nav: list) -> None:
    """Append a page per notebook to the ``Notebooks`` section of ``nav`` (mkdocs.yml's, as loaded)."""
    for entry in nav:
        if isinstance(entry, dict) and SECTION in entry:
            entry[SECTION] += [f"{FOLDER}/{source.stem}.md" for source in sources()]
            return
    raise ValueError(f"mkdocs.yml: the navigation has no {SECTION!r} section for the notebooks")


def notebook_list() -> str:
    """A Markdown list linking every notebook page, for ``notebooks/index.md``."""
    return "\n".join(
        f"- [{title(read(source), source)}]({source.stem}.md) (`{source.relative_to(ROOT)}`)" for source in sources()
    )
