"""How the ``nnscratch`` command fails: one line on stderr and an exit code, never a traceback.

    nnscratch train: error: --save: /proc/run.npz: the folder /proc cannot be written to
    exit 2   bad input: refused before any training started (flags, paths, data, checkpoints)
    exit 1   a failure during the run (divergence, a disk that filled up while saving ...)

The user typed the command; a traceback answers a question they did not ask. Every error the
library raises for bad input (``DatasetError``, ``CheckpointError``, a layer's ``ValueError``,
``MemoryError``, ``OSError`` and its ``PermissionError``) already names the file or argument at
fault, so the command prints that message alone. ``--debug`` (or ``NNSCRATCH_DEBUG=1``) lets the
traceback through, for developers.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

# What a command turns into one line. Anything else is a bug in nnscratch: its traceback is shown.
REPORTED_ERRORS = (ValueError, MemoryError, OSError)

BAD_INPUT = 2  # exit code: refused before any training started
RUN_FAILED = 1  # exit code: the run started and could not finish


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def one_line(error: BaseException) -> str:
    """The error's message on one line: the lines of a multi-line message joined by "; "."""
    message = str(error) or type(error).__name__
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        message = f"{error.filename}: {error.strerror}"  # "[Errno 13] ..." says nothing a user needs
    joined = ""
    for line in (line.strip() for line in message.splitlines() if line.strip()):
        # a line ending in ":" introduces the next one ("could not download X:" then each mirror's reason)
        joined += ("" if not joined else " " if joined.endswith(":") else "; ") + line
    return joined


def fail(command: str, message: str, code: int = BAD_INPUT) -> int:
    """Print ``nnscratch COMMAND: error: MESSAGE`` on stderr; return ``code`` for the command to exit with."""
    print(f"nnscratch {command}: error: {message}", file=sys.stderr)
    return code


def debugging(args: argparse.Namespace) -> bool:
    """True when the user asked for tracebacks (``--debug`` or ``NNSCRATCH_DEBUG=1``)."""
    return bool(getattr(args, "debug", False)) or os.environ.get("NNSCRATCH_DEBUG", "") not in ("", "0")


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error (for developers)")
