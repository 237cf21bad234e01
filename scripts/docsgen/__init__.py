"""What the documentation build generates, so that no page can drift from the code.

``mkdocs build`` runs the hook ``docs/hooks/generate.py``, which uses this package:

- ``figures``: PNG figures drawn with the library itself (activations and their slopes from the
  modules' own forward and backward, learning-rate schedules, augmentations before and after,
  what each normalisation averages over), added to the site as ``assets/generated/*.png``;
- ``commands``: real ``nnscratch`` runs whose output and plots the pages show (a short LeNet run
  on the bundled sample for "Getting started", ``nnscratch summary`` for the gallery);
- ``cli_reference``: every subcommand and flag, read from ``nnscratch.cli.build_parser()``;
- ``gallery``: parameters, FLOPs and layer tables from ``nnscratch.convolutional.summary``, and
  the recipes of ``nnscratch.convolutional.recipes``;
- ``reports``: accuracy and speed from the benchmark reports in ``benchmarks/reports/``, or
  "not measured yet" where a report is missing;
- ``directives``: the ``<!-- generate: NAME ARGS -->`` lines of the Markdown pages, each replaced
  by the Markdown that one of the above makes.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = ROOT / "docs"
REPORTS_DIR = ROOT / "benchmarks" / "reports"
