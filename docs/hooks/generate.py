"""MkDocs hook: add the generated figures and plots to the site, and expand ``<!-- generate: ... -->`` lines.

Everything it generates comes from ``scripts/docsgen`` (see its docstring). It runs on every
build, so the site always shows what the code does now; nothing generated is written into
``docs/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # mkdocs loads hooks by path: make the repository importable
    sys.path.insert(0, str(ROOT))

from scripts.docsgen.commands import demo_run, page_runs  # noqa: E402
from scripts.docsgen.directives import Generator  # noqa: E402
from scripts.docsgen.exercises import STUBS_DIR, stub_files  # noqa: E402
from scripts.docsgen.figures import FIGURES  # noqa: E402
from scripts.docsgen.notebook_pages import add_to_nav, site_files  # noqa: E402

GENERATED = "assets/generated"
_generator = Generator()


def on_config(config):
    add_to_nav(config.nav)
    return config


def on_files(files: Files, config) -> Files:
    for name, draw in FIGURES.items():
        files.append(File.generated(config, f"{GENERATED}/{name}", content=draw()))
    demo = demo_run()
    for name, content in demo.files.items():
        files.append(File.generated(config, f"{GENERATED}/demo/{name}", content=content))
    _generator.demo = demo
    for run_name, run in page_runs().items():  # each run's plots under its name: generated/autoencoder/...
        for name, content in run.files.items():
            files.append(File.generated(config, f"{GENERATED}/{run_name}/{name}", content=content))
        _generator.runs[run_name] = run
    for name, content in stub_files().items():  # the learner's files, linked from the Exercises pages
        files.append(File.generated(config, f"{GENERATED}/{STUBS_DIR}/{name}", content=content))
    for name, content in site_files().items():
        files.append(File.generated(config, name, content=content))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    return _generator.expand(markdown, page.file.src_uri)
