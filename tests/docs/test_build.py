"""The site builds with ``mkdocs build --strict`` and no warning, and what it generates is there.

One build (the ``site`` fixture of ``conftest.py``) serves every test of this folder. Strict
mode turns every warning into a failure: a broken link or anchor, a page missing from the
navigation, a docstring the API reference cannot render.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from nnscratch.cli import build_parser
from nnscratch.convolutional.architectures import ARCHITECTURES
from scripts.docsgen.cli_reference import flag_names, subcommands
from scripts.docsgen.gallery import totals
from scripts.docsgen.reports import ACCURACY_FILE, NOT_MEASURED, THROUGHPUT_FILE
from tests.docs.pages import ROOT

REPORTS = ROOT / "benchmarks" / "reports"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def html(site: Path, page: str) -> str:
    return (site / page).read_text()


def test_mkdocs_build_strict_passes_with_every_page_of_the_navigation(site):
    for page in ("index.html", "getting-started.html", "tiers/scalar.html", "concepts/convolution.html"):
        assert (site / page).is_file(), page
    for name in ARCHITECTURES:
        assert (site / "gallery" / f"{name}.html").is_file(), f"no gallery page for {name}"


def test_the_site_loads_nothing_from_the_network(site):
    """Scripts, stylesheets, images and fonts are all local, so the site renders offline (and from file://)."""
    remote = re.compile(r"""<(?:script|img|link)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE)
    offenders = [str(path.relative_to(site)) for path in site.rglob("*.html") if remote.search(path.read_text())]
    assert not offenders, f"pages loading remote resources: {offenders}"
    assert "fonts.googleapis" not in "".join(path.read_text() for path in site.rglob("*.css"))
    assert (site / "assets/katex/katex.min.js").is_file()
    assert list((site / "assets/katex/fonts").glob("*.woff2"))


def test_math_is_marked_for_the_vendored_katex(site):
    page = html(site, "concepts/cross-entropy.html")
    assert 'class="arithmatex"' in page
    assert "assets/katex/katex.min.js" in page and "assets/javascripts/math.js" in page


def test_the_generated_figures_and_the_demo_plots_are_real_png_files(site):
    names = ["activations", "schedules", "augmentations", "normalization", "backprop_graph"]
    names += ["demo/curves", "demo/confusion_matrix", "demo/misclassified"]
    names += ["autoencoder/curves", "autoencoder/reconstructions"]
    for name in names:
        path = site / "assets" / "generated" / f"{name}.png"
        assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"


def test_the_cli_reference_lists_every_subcommand_and_flag_of_the_parser(site):
    page = html(site, "experiments/cli.html")
    for name, parser in subcommands(build_parser()).items():
        assert f'id="nnscratch-{name}"' in page, f"no section for nnscratch {name}"
        for flag in flag_names(parser) - {"-h", "--help"}:
            assert f"<code>{flag}</code>" in page, f"nnscratch {name} {flag} is missing from the reference"


def test_the_gallery_shows_the_models_own_parameter_counts(site):
    for name in ARCHITECTURES:
        parameters, _ = totals(name)
        assert f"{parameters:,}" in html(site, f"gallery/{name}.html"), name


def test_missing_benchmark_reports_are_said_to_be_not_measured_yet(site):
    page = html(site, "performance.html")
    for report in (THROUGHPUT_FILE, ACCURACY_FILE):
        if not (REPORTS / report).is_file():
            assert NOT_MEASURED in page and report in page


def test_the_scalar_page_shows_the_trace_and_the_api_reference_renders(site):
    assert "Trace of one sample through a 4-3-2 network" in html(site, "tiers/scalar.html")
    reference = html(site, "reference/convolutional.html")
    assert "im2col" in reference and "col2im" in reference and "ConvTrainer" in reference


def test_the_notebook_pages_show_every_notebook_with_the_outputs_of_its_run(site, notebook_runs):
    index = html(site, "notebooks/index.html")
    for name, run in notebook_runs.items():
        assert f'href="{name}.html"' in index, f"notebooks/index.html does not link {name}"
        page = unescape(html(site, f"notebooks/{name}.html"))
        outputs = [output for cell in run.notebook.cells for output in cell.get("outputs", [])]
        printed = next(output.text for output in outputs if output.output_type == "stream")
        assert printed.splitlines()[0] in page, f"{name}: the page lacks the run's first printed line"
        images = [output for output in outputs if "image/png" in output.get("data", {})]
        pictures = sorted((site / "notebooks" / name).glob("*.png")) if images else []
        assert len(pictures) == len(images), f"{name}: {len(images)} image outputs, {len(pictures)} PNG files"
        assert all(path.read_bytes()[:8] == PNG_MAGIC for path in pictures)
        assert (site / "notebooks" / f"{name}.ipynb").is_file() and (site / "notebooks" / f"{name}.py").is_file()
