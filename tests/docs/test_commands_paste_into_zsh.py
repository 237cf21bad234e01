"""Every command the site shows pastes into zsh (macOS's default shell) as into bash.

zsh stops with "no matches found" on an unquoted ``[...]``, ``*`` or ``?`` that matches no
file, where bash passes the word on unchanged, reads ``{a,b}`` as two words, and takes a ``#``
that starts a word as a command rather than a comment. So a value holding one of these is
quoted: ``--option 'depths=[1,1,1,1]'``. The commands are the ``$ `` lines of console blocks,
inline code that starts like a command, and what the build's ``command`` directives and the
demo run will print (``Run.console``).
"""

from __future__ import annotations

import shlex

import pytest

from scripts.docsgen.commands import DEMO_ARGS, Run
from scripts.docsgen.directives import DIRECTIVE
from tests.docs.pages import blocks, console_commands, inline_code, page_name, pages

# how inline code that is meant to be pasted starts: a program of ours, or a flag to add to one
COMMAND_STARTS = ("nnscratch ", "python ", "pip ", "make ", "bash ", "--")
GLOB = set("[]*?{}")


def unquoted_glob_characters(command: str) -> list[str]:
    """The characters of ``command`` that zsh would expand or misread, outside quotes and escapes."""
    found: list[str] = []
    quote = None  # the quote character we are inside, if any
    escaped = False
    for index, char in enumerate(command):
        if escaped:
            escaped = False
        elif quote:
            quote = None if char == quote else quote
        elif char == "\\":
            escaped = True
        elif char in "'\"":
            quote = char
        elif char in GLOB or (char == "#" and (index == 0 or command[index - 1].isspace())):
            found.append(char)
    return found


def site_commands() -> list[tuple[str, str]]:
    """(where, command) for every command of the site."""
    commands = [("scripts/docsgen/commands.py DEMO_ARGS", Run(DEMO_ARGS, "").console()[2:])]
    for path in pages():
        name = page_name(path)
        for block in blocks(path):
            if block.language == "console":
                commands += [(block.where, command) for command, _ in console_commands(block)]
        for line, code in inline_code(path):
            if code.startswith(COMMAND_STARTS):
                commands.append((f"docs/{name}:{line}", code))
        for directive in DIRECTIVE.finditer(path.read_text()):
            if directive["name"] == "command":
                generated = Run(tuple(shlex.split(directive["args"])), "").console()[2:]
                commands.append((f"docs/{name} (generated)", generated))
    return commands


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("nnscratch train convnext_tiny --option depths=[1,1,1,1]", ["[", "]"]),
        ("nnscratch train convnext_tiny --option 'depths=[1,1,1,1]'", []),
        ('pip install -e ".[gpu]"', []),
        ("ls *.npz runs/lenet?.npz", ["*", "?"]),
        (r"echo \[escaped\] {a,b}", ["{", "}"]),
        ("make test # 2 cores", ["#"]),
        ("nnscratch train lenet --plots out/run#2", []),
    ],
)
def test_the_checker_finds_exactly_the_unquoted_glob_characters(command, expected):
    assert unquoted_glob_characters(command) == expected


def test_no_command_on_the_site_has_an_unquoted_glob_character():
    commands = site_commands()
    assert len(commands) > 40, "fewer commands than the site shows: the collection missed some"
    offenders = [f"{where}: {command}" for where, command in commands if unquoted_glob_characters(command)]
    assert not offenders, "quote these values for zsh:\n" + "\n".join(offenders)
