"""``<!-- generate: NAME ARGS -->``: a line in a page that the docs build replaces with generated Markdown.

    <!-- generate: cli-reference -->           every subcommand and flag (cli_reference.py)
    <!-- generate: recipes -->                 the default flags of ``nnscratch train`` per architecture
    <!-- generate: gallery-overview -->        one row per architecture: size, cost, measured numbers
    <!-- generate: gallery-model lenet -->     one architecture's numbers and layer table
    <!-- generate: performance -->             the benchmark tables, or "not measured yet"
    <!-- generate: layer-times -->             where a training step's time goes, per kind of layer
    <!-- generate: reconstruction -->          the autoencoder and the U-Net against PyTorch, same recipe
    <!-- generate: watch-overhead -->          what hooks and --watch cost per training step
    <!-- generate: onnx-inference -->          ONNX Runtime against nnscratch: speed, and parity per architecture
    <!-- generate: conv-modules -->            every convolution of three models against PyTorch's, with its floor
    <!-- generate: allreduce -->               allreduce time and bandwidth per size, and the fitted alpha, beta
    <!-- generate: data-parallel -->           1 process x 2 threads against 2 processes x 1 thread
    <!-- generate: scaling-model -->           the predicted speedups of data-parallel training (a model)
    <!-- generate: demo-run -->                the LeNet run of "Getting started" as a console block
    <!-- generate: run autoencoder -->         a run the build made (``commands.PAGE_RUNS``) as a console block
    <!-- generate: command summary lenet -->   ``nnscratch summary lenet``, run now, as a console block
    <!-- generate: exercises -->               the table of the exercises a learner writes (exercises.py)
    <!-- generate: exercise linear -->         one exercise: task, stub, check command, folded solution
    <!-- generate: notebook-list -->           a link to every notebook page (notebook_pages.py)

Left as an HTML comment, the line is invisible wherever the page is read unbuilt. An unknown
name, or arguments a directive does not take, stop the build.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

from . import REPORTS_DIR
from .cli_reference import cli_reference
from .commands import Run, run_nnscratch
from .distributed import allreduce_section, data_parallel_section, scaling_section
from .exercises import overview as exercises_overview
from .exercises import section as exercise_section
from .gallery import model_section, overview, recipes_table
from .markdown import fenced
from .notebook_pages import notebook_list
from .reports import (
    conv_modules_section,
    layer_times_section,
    onnx_inference_section,
    performance_section,
    reconstruction_section,
    watch_overhead_section,
)

DIRECTIVE = re.compile(r"^<!-- generate: (?P<name>[\w-]+)(?P<args>[^>]*?) -->[ \t]*$", re.MULTILINE)


class DirectiveError(ValueError):
    """A ``generate`` line that names no known directive or gives it the wrong arguments."""


class Generator:
    """Expands the directives of a page. ``demo``: the run of ``commands.demo_run()``; ``runs``: the runs
    of ``commands.PAGE_RUNS`` by name (both made once per build, by the hook)."""

    def __init__(self, reports_dir: Path = REPORTS_DIR, demo: Run | None = None) -> None:
        self.reports_dir = reports_dir
        self.demo = demo
        self.runs: dict[str, Run] = {}
        self.handlers: dict[str, tuple[int | None, Callable[..., str]]] = {
            # name: (number of arguments, None for any; the function making the Markdown)
            "cli-reference": (0, cli_reference),
            "recipes": (0, recipes_table),
            "gallery-overview": (0, lambda: overview(self.reports_dir)),
            "gallery-model": (1, lambda name: model_section(name, self.reports_dir)),
            "performance": (0, lambda: performance_section(self.reports_dir)),
            "layer-times": (0, lambda: layer_times_section(self.reports_dir)),
            "reconstruction": (0, lambda: reconstruction_section(self.reports_dir)),
            "conv-modules": (0, lambda: conv_modules_section(self.reports_dir)),
            "watch-overhead": (0, lambda: watch_overhead_section(self.reports_dir)),
            "onnx-inference": (0, lambda: onnx_inference_section(self.reports_dir)),
            "allreduce": (0, lambda: allreduce_section(self.reports_dir)),
            "data-parallel": (0, lambda: data_parallel_section(self.reports_dir)),
            "scaling-model": (0, lambda: scaling_section(self.reports_dir)),
            "demo-run": (0, self._demo_run),
            "run": (1, self._page_run),
            "command": (None, lambda *args: fenced(run_nnscratch(args).console(), "console")),
            "exercises": (0, exercises_overview),
            "exercise": (1, exercise_section),
            "notebook-list": (0, notebook_list),
        }

    def _demo_run(self) -> str:
        if self.demo is None:
            raise DirectiveError("demo-run: this build made no demo run")
        return fenced(self.demo.console(), "console")

    def _page_run(self, name: str) -> str:
        if name not in self.runs:
            raise DirectiveError(f"run: this build made no run named {name!r} (made: {', '.join(self.runs) or 'none'})")
        return fenced(self.runs[name].console(), "console")

    def expand(self, markdown: str, page: str = "<page>") -> str:
        """``markdown`` with every directive line replaced by what it generates."""

        def replace(match: re.Match) -> str:
            name, args = match["name"], shlex.split(match["args"])
            if name not in self.handlers:
                raise DirectiveError(f"{page}: unknown directive {name!r}; known: {', '.join(self.handlers)}")
            count, make = self.handlers[name]
            if count is not None and len(args) != count:
                raise DirectiveError(f"{page}: directive {name!r} takes {count} argument(s), got {args}")
            return make(*args)

        return DIRECTIVE.sub(replace, markdown)
