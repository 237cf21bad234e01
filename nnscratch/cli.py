"""The ``nnscratch`` command line.

    nnscratch datasets                 what datasets are where, with checksum status
    nnscratch download NAME [--dir D]  fetch mnist / fashion-mnist / cifar10 (the only networked command)

Each subcommand is a pair of functions below: ``_add_<name>_arguments(parser)`` declares its
flags and ``_run_<name>(args)`` does the work. Arguments are checked before any work starts.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from . import __version__
from .common import datasets as datasets_module
from .common.datasets import DATASET_NAMES, ChecksumWarning, load_dataset


def _add_datasets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")


def _run_datasets(args: argparse.Namespace) -> int:
    print(f"{'dataset':<14} {'train':>7} {'test':>7}  {'image':<11} location")
    for name in DATASET_NAMES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ChecksumWarning)  # shown in the table instead
                dataset = load_dataset(name, args.data_dir, fallback_to_sample=False)
        except FileNotFoundError:
            how = f"nnscratch download {name}"
            if name == "fashion-mnist":
                how = "sudo apt-get install dataset-fashion-mnist, or " + how
            print(f"{name:<14} {'-':>7} {'-':>7}  {'-':<11} not found ({how})")
            continue
        except datasets_module.DatasetError as error:
            print(f"{name:<14} {'-':>7} {'-':>7}  {'-':<11} unreadable: {error}")
            continue
        shape = "x".join(str(s) for s in dataset.image_shape)
        print(f"{name:<14} {len(dataset.y_train):>7,} {len(dataset.y_test):>7,}  {shape:<11} {dataset.location}")
        statuses = ", ".join(f"{check.path.name} {check.status}" for check in dataset.files)
        print(f"{'':<14} sha256: {statuses}")
        for check in dataset.files:
            if check.status == "MISMATCH":
                print(f"{'':<14} {check.path}: sha256 {check.sha256}, expected {check.expected}")
    return 0


def _add_download_arguments(parser: argparse.ArgumentParser) -> None:
    from .common.download import REMOTES

    parser.add_argument("name", choices=sorted(REMOTES), help="dataset to fetch")
    parser.add_argument("--dir", help="destination root (default: the user cache, searched by every command)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_download(args: argparse.Namespace) -> int:
    from .common.download import DownloadError, download

    try:
        folder = download(args.name, args.dir, quiet=args.quiet)
    except DownloadError as error:
        print(f"nnscratch download: {error}", file=sys.stderr)
        return 1
    print(f"{args.name}: verified files in {folder}")
    return 0


SUBCOMMANDS = {
    "datasets": (_add_datasets_arguments, _run_datasets, "list datasets, where they are, checksum status"),
    "download": (_add_download_arguments, _run_download, "download a dataset (the only networked command)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnscratch", description="Neural networks from scratch: scalar, vectorized and convolutional tiers."
    )
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (add_arguments, run, summary) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
