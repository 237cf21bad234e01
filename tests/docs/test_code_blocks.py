"""Every example in the docs runs, and prints what the page says it prints.

- Python blocks: the blocks of one page run in order in one namespace, as a reader would run
  them one after another (exercise solutions included, so their asserts are checked). A block
  followed by an "output" block must print exactly that.
- Console blocks: every ``$ nnscratch ...`` line must name a real subcommand and real flags of
  it; where the block shows what the command prints, the command is run and must print exactly
  that (stdout, then stderr).
"""

from __future__ import annotations

import contextlib
import io
import shlex
from pathlib import Path

import pytest

from nnscratch.cli import build_parser, main
from scripts.docsgen.cli_reference import flag_names, subcommands
from tests.docs.pages import Block, blocks, console_commands, page_name, pages, python_blocks_with_output

PAGES_WITH_PYTHON = [path for path in pages() if python_blocks_with_output(path)]
PAGES_WITH_CONSOLE = [path for path in pages() if any(block.language == "console" for block in blocks(path))]


def run_block(block: Block, namespace: dict) -> str:
    """Execute a Python block in ``namespace``; return what it printed. Tracebacks show the page's line numbers."""
    source = "\n" * block.line + block.code  # line numbers of the page, in tracebacks
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, block.where, "exec"), namespace)
    return printed.getvalue()


@pytest.mark.parametrize("path", PAGES_WITH_PYTHON, ids=page_name)
def test_every_python_block_runs_and_prints_the_output_the_page_shows(path: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files an example writes (checkpoints, plots) land in a scratch folder
    namespace: dict = {"__name__": "__docs__"}
    for block, shown in python_blocks_with_output(path):
        printed = run_block(block, namespace)
        if shown is not None:
            assert printed.rstrip() == shown.code.rstrip(), f"{block.where}: printed output differs from {shown.where}"


def check_nnscratch_command(command: str, where: str) -> list[str]:
    """The arguments of an ``nnscratch ...`` command line, after checking its subcommand and flags exist."""
    words = shlex.split(command)
    assert words[0] == "nnscratch", f"{where}: not an nnscratch command: {command}"
    commands = subcommands(build_parser())
    assert words[1] in commands, f"{where}: {command!r}: no subcommand {words[1]!r} (known: {', '.join(commands)})"
    known = flag_names(commands[words[1]])
    for word in words[2:]:
        flag = word.split("=", 1)[0]
        if flag.startswith("-"):
            assert flag in known, f"{where}: {command!r}: nnscratch {words[1]} has no flag {flag}"
    return words[1:]


@pytest.mark.parametrize("path", PAGES_WITH_CONSOLE, ids=page_name)
def test_console_commands_exist_and_print_what_the_page_shows(path: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for block in (block for block in blocks(path) if block.language == "console"):
        for command, shown in console_commands(block):
            if not command.startswith("nnscratch"):
                continue  # make, pip, python -m pytest ...: nothing of ours to check
            args = check_nnscratch_command(command, block.where)
            if not shown:
                continue
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                main(args)
            assert printed.getvalue().strip("\n") == shown, f"{block.where}: `{command}` prints something else now"


def test_every_code_block_is_of_a_kind_these_tests_check():
    """Python runs, console commands are checked, text is output: no block slips past as "py" or "pycon"."""
    kinds = {"python", "console", "text"}
    every_block = [block for path in pages() for block in blocks(path)]
    odd = [f"{block.where}: {block.language!r}" for block in every_block if block.language not in kinds]
    assert not odd, f"code blocks of a language the docs tests do not handle: {odd}"
