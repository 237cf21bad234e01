"""The notebooks of ``notebooks/``: each one runs from top to bottom, and the tooling around them works.

The runs themselves come from the session fixture ``notebook_runs`` (tests/conftest.py), shared
with the docs build, so each notebook runs once per session.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import nbformat
import pytest

from scripts.docsgen.notebook_pages import page_markdown, title
from scripts.notebooks import executed, main, read, source_key, sources, stored_path

NAMES = [source.stem for source in sources()]
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(8)


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_of_the_notebook_runs_without_an_error_or_a_warning(name, notebook_runs):
    run = notebook_runs[name]
    assert not isinstance(run, Exception), f"notebooks/{name}.py failed:\n{run}"
    code = [cell for cell in run.notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), f"{name}: a code cell did not run"
    outputs = [output for cell in code for output in cell.outputs]
    assert outputs, f"{name}: no cell showed anything"
    stderr = [output.text for output in outputs if output.get("name") == "stderr"]
    assert not stderr, f"{name}: a cell wrote to stderr (a warning the reader would see):\n{stderr[0]}"


def test_make_notebooks_writes_one_valid_ipynb_per_source(tmp_path):
    main([str(tmp_path)])
    for source in sources():
        notebook = nbformat.read(tmp_path / f"{source.stem}.ipynb", as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
        assert len(notebook.cells) == len(read(source).cells) > 2


def test_a_stored_run_is_reused_only_while_the_source_is_unchanged_and_runs_on_this_interpreter(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text('# %%\nimport os, sys\nprint(sys.executable, os.environ["OMP_NUM_THREADS"])\n')
    store = tmp_path / "store"
    first = executed(source, store)
    assert first.cells[0].outputs[0].text.split() == [sys.executable, "1"]
    stored = nbformat.read(stored_path(source, store), as_version=4)
    stored.cells[0].outputs[0].text = "from the store\n"  # a mark that only a reused run can show
    nbformat.write(stored, stored_path(source, store))
    assert executed(source, store).cells[0].outputs[0].text == "from the store\n"
    key = source_key(source)
    source.write_text(source.read_text() + "print('changed')\n")
    assert source_key(source) != key
    assert executed(source, store).cells[0].outputs[0].text.split() == [sys.executable, "1", "changed"]


def test_a_notebook_page_shows_the_text_the_code_its_printed_output_and_its_images():
    notebook = nbformat.v4.new_notebook()
    figure = nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG_BYTES).decode()})
    printed = nbformat.v4.new_output("stream", name="stdout", text="loss 0.25\n")
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Probe\n\nSome *text*."),
        nbformat.v4.new_code_cell("print('loss', 0.25)\nshow()", outputs=[printed, figure]),
    ]
    markdown, images = page_markdown(notebook, "05_probe")
    assert title(notebook, Path("05_probe.py")) == "Probe"
    assert "# Probe\n\nSome *text*." in markdown and "(05_probe.ipynb)" in markdown
    assert "```python\nprint('loss', 0.25)\nshow()\n```" in markdown
    assert '```text title="output"\nloss 0.25\n```' in markdown
    assert images == {"notebooks/05_probe/cell-1-1.png": PNG_BYTES}
    assert "](05_probe/cell-1-1.png)" in markdown
