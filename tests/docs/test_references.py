"""Everything the docs name exists: files, functions, classes, methods, commands and flags.

The checks read the inline code spans of every page (text between backticks, outside code
blocks; code blocks are executed instead, see test_code_blocks.py). And the core-concepts
pages cover every file and name of the project's concept map, whose list is copied below.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

import pytest

from nnscratch.cli import build_parser
from scripts.docsgen.cli_reference import flag_names, subcommands
from tests.docs.pages import DOCS, ROOT, blocks, inline_code, page_name, pages
from tests.docs.symbols import DOTTED, is_file_name, names_a_class, resolves

PACKAGE = ROOT / "nnscratch"
REPOSITORY_FOLDERS = ("nnscratch/", "tests/", "benchmarks/", "scripts/", "docs/", "examples/")
TIER_FOLDERS = ("common/", "scalar/", "vectorized/", "convolutional/")  # paths relative to nnscratch/
NOT_YET_WRITTEN = ("benchmarks/reports/",)  # written by the benchmarks; the pages say when they are missing
CAMEL_CASE = re.compile(r"^[A-Z]\w*[a-z]\w*$")
CALL = re.compile(r"^[a-z_]\w*\(\)$")
CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")  # CPU_COLS_BYTES_PER_SLICE
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")  # ARCH, PATH, COMMAND ...

# The concept map of ../shared/spec/core-concepts.md ("04 · Core Concepts in Practice"), copied
# here so that the test reads nothing outside the repository. Every file it names, relative to
# nnscratch/, must exist and be named on the core-concepts pages.
SPEC_FILES = [
    "scalar/neuron.py",
    "scalar/layer.py",
    "scalar/network.py",
    "convolutional/modules.py",
    "common/softmax.py",
    "common/cross_entropy.py",
    "vectorized/optim.py",
]
# Every name it gives, as (how the spec writes it, the dotted name that must exist). The spec's
# "forward/backward" routines of the loss are CrossEntropyLoss's, its sliding_window_view is
# NumPy's (through the backend), its xp.roll is the backend's NumPy/CuPy roll.
SPEC_NAMES = [
    ("ReLU", "nnscratch.convolutional.modules.ReLU"),
    ("LeakyReLU", "nnscratch.convolutional.modules.LeakyReLU"),
    ("SiLU", "nnscratch.convolutional.modules.SiLU"),
    ("GELU", "nnscratch.convolutional.modules.GELU"),
    ("Softmax", "nnscratch.convolutional.modules.Softmax"),
    ("logsumexp", "nnscratch.common.cross_entropy.logsumexp"),
    ("CrossEntropyLoss.forward", "nnscratch.common.cross_entropy.CrossEntropyLoss.forward"),
    ("CrossEntropyLoss.backward", "nnscratch.common.cross_entropy.CrossEntropyLoss.backward"),
    ("SGD", "nnscratch.vectorized.optim.SGD"),
    ("Adam", "nnscratch.vectorized.optim.Adam"),
    (
        "ConvTrainer._default_multistep_schedule",
        "nnscratch.convolutional.trainer.ConvTrainer._default_multistep_schedule",
    ),
    ("Dropout", "nnscratch.convolutional.modules.Dropout"),
    ("weight_decay", "nnscratch.vectorized.optim.SGD"),  # a constructor argument of every optimizer
    ("ConvTrainer._augment_batch", "nnscratch.convolutional.trainer.ConvTrainer._augment_batch"),
    ("xp.roll", "xp.roll"),
    ("BatchNorm2D", "nnscratch.convolutional.modules.BatchNorm2D"),
    ("LayerNorm2D", "nnscratch.convolutional.modules.LayerNorm2D"),
    ("Conv2D", "nnscratch.convolutional.modules.Conv2D"),
    ("im2col", "nnscratch.convolutional.modules.im2col"),
    ("sliding_window_view", "numpy.lib.stride_tricks.sliding_window_view"),
    ("col2im", "nnscratch.convolutional.modules.col2im"),
    ("DepthwiseConv2D", "nnscratch.convolutional.modules.DepthwiseConv2D"),
    ("SqueezeExcite", "nnscratch.convolutional.modules.SqueezeExcite"),
    ("GlobalAvgPool2D", "nnscratch.convolutional.modules.GlobalAvgPool2D"),
    ("backend.to_device", "nnscratch.common.backend.to_device"),
    ("backend.to_cpu", "nnscratch.common.backend.to_cpu"),
    ("backend.get_array_module", "nnscratch.common.backend.get_array_module"),
]
CONCEPT_PAGES = sorted((DOCS / "concepts").glob("*.md"))

PAGES = pages()


def classes_defined_in(path: Path) -> set[str]:
    """Names of the classes the page's own code blocks define (an exercise's ``Softplus``)."""
    return {name for block in blocks(path) for name in re.findall(r"^\s*class (\w+)", block.code, re.MULTILINE)}


def looks_like_a_path(code: str) -> bool:
    return " " not in code and (code.endswith(".py") or code.startswith(REPOSITORY_FOLDERS + TIER_FOLDERS))


def path_exists(code: str) -> bool:
    if code.startswith(NOT_YET_WRITTEN):
        return True
    candidates = [ROOT / code, PACKAGE / code]
    if "/" not in code:  # a bare file name: anywhere in the package, the tests or the scripts
        candidates += list(ROOT.glob(f"*/**/{code}"))
    return any(candidate.exists() for candidate in candidates)


@pytest.mark.parametrize("path", PAGES, ids=page_name)
def test_every_file_the_page_names_exists(path: Path):
    missing = [
        f"line {line}: {code}" for line, code in inline_code(path) if looks_like_a_path(code) and not path_exists(code)
    ]
    assert not missing, f"docs/{page_name(path)} names files that do not exist: {missing}"


@pytest.mark.parametrize("path", PAGES, ids=page_name)
def test_every_function_class_and_method_the_page_names_exists(path: Path):
    own_classes = classes_defined_in(path)
    unknown = []
    for line, code in inline_code(path):
        if DOTTED.match(code) and not is_file_name(code):
            known = resolves(code)
        elif CAMEL_CASE.match(code) or CONSTANT.match(code):
            known = names_a_class(code, own_classes)
        elif CALL.match(code):
            known = resolves(code) or code.removesuffix("()") in classes_defined_in(path)
        else:
            continue
        if not known:
            unknown.append(f"line {line}: {code}")
    assert not unknown, f"docs/{page_name(path)} names things that do not exist: {unknown}"


def flags_of_every_subcommand() -> set[str]:
    return {flag for parser in subcommands(build_parser()).values() for flag in flag_names(parser)}


@pytest.mark.parametrize("path", PAGES, ids=page_name)
def test_every_command_and_flag_the_page_names_exists(path: Path):
    commands = subcommands(build_parser())
    every_flag = flags_of_every_subcommand()
    problems = []
    for line, code in inline_code(path):
        words = shlex.split(code) if code.startswith(("nnscratch ", "--")) else []
        if code.startswith("nnscratch "):
            name = words[1]
            if PLACEHOLDER.match(name):
                known = every_flag
            elif name in commands:
                known = flag_names(commands[name])
            else:
                problems.append(f"line {line}: {code}: no subcommand {name!r}")
                continue
        elif code.startswith("--"):
            known = every_flag
        else:
            continue
        for word in words:
            flag = word.split("=", 1)[0]
            if flag.startswith("--") and not fnmatch.filter(known, flag):  # a pattern like --augment-* is fine
                problems.append(f"line {line}: {code}: no flag {flag}")
    assert not problems, f"docs/{page_name(path)}: {problems}"


def concept_pages_text() -> set[str]:
    """Every inline code span of the core-concepts pages."""
    return {code for path in CONCEPT_PAGES for _, code in inline_code(path)}


@pytest.mark.parametrize("spec_file", SPEC_FILES)
def test_the_concept_pages_name_every_file_of_the_spec_and_it_exists(spec_file: str):
    assert (PACKAGE / spec_file).is_file(), f"nnscratch/{spec_file} is in the concept map but not in the package"
    assert spec_file in concept_pages_text(), f"no core-concepts page names {spec_file}"


@pytest.mark.parametrize(("spec_name", "qualified"), SPEC_NAMES, ids=[name for name, _ in SPEC_NAMES])
def test_the_concept_pages_name_every_symbol_of_the_spec_and_it_exists(spec_name: str, qualified: str):
    assert resolves(qualified), f"{qualified} (the spec's {spec_name}) does not exist"
    mentioned = concept_pages_text()
    # named as such, or as the last part of a longer dotted name (`numpy.lib.stride_tricks.sliding_window_view`)
    found = any(code == spec_name or code.endswith("." + spec_name) for code in mentioned)
    assert found, f"no core-concepts page names {spec_name}"


def test_the_reference_checks_catch_what_does_not_exist():
    """The resolver is not a rubber stamp: misspelt and removed names fail."""
    assert resolves("ConvTrainer._default_multistep_schedule")
    assert not resolves("ConvTrainer._default_multistep_schedul")
    assert not resolves("backend.to_gpu")
    assert not resolves("Conv2D.im2col_fast")
    assert not resolves("np.add.att")
    assert not resolves("neuron.gradient_of_weights")
    assert not path_exists("scalar/perceptron.py")
    assert not names_a_class("Conv3D", set())
