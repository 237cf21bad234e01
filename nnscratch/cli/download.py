"""``nnscratch download NAME``: the one command that uses the network."""

from __future__ import annotations

import argparse

from .errors import RUN_FAILED, fail, one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..common.download import REMOTES

    parser.add_argument("name", choices=sorted(REMOTES), help="dataset to fetch")
    parser.add_argument("--dir", help="destination root (default: the user cache, searched by every command)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..common.download import DownloadError, download

    try:
        folder = download(args.name, args.dir, quiet=args.quiet)
    except DownloadError as error:  # every mirror failed: a failure of the run, not of the command line
        return fail("download", one_line(error), RUN_FAILED)
    print(f"{args.name}: verified files in {folder}")
    return 0
