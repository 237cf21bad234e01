"""The ``nnscratch`` command line.

    nnscratch datasets                 what datasets are where, with checksum status
    nnscratch download NAME [--dir D]  fetch mnist / fashion-mnist / cifar10 (the only networked command)

Each subcommand is a pair of functions below: ``_add_<name>_arguments(parser)`` declares its
flags and ``_run_<name>(args)`` does the work; ``SUBCOMMANDS`` lists them. Flags shared by
the training commands are declared once (``add_data_arguments`` ...), and every value is
checked by its argparse ``type`` so that bad input is refused before any work starts.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from . import __version__
from .common import datasets as datasets_module
from .common.datasets import DATASET_NAMES, ChecksumWarning, load_dataset

# ----------------------------------------------------------------------------- argument types


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def unit_interval(text: str) -> float:
    """argparse type: a float in [0, 1) (validation fractions, dropout probabilities)."""
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated positive integers, e.g. ``256,128``."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers like 256,128, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def str_list(text: str) -> list[str]:
    """argparse type: comma-separated names, e.g. ``relu,tanh``."""
    return [part.strip() for part in text.split(",")]


# ----------------------------------------------------------------------------- shared flags


def add_data_arguments(parser: argparse.ArgumentParser, val_split: float = 0.1) -> None:
    """--dataset --data-dir --val-split --seed --quiet"""
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="default: %(default)s")
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    parser.add_argument(
        "--val-split", type=unit_interval, default=val_split, help="fraction held out for validation (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, dropout (%(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_epoch_arguments(parser: argparse.ArgumentParser, epochs: int, batch_size: int) -> None:
    """--epochs --batch-size"""
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="default: %(default)s")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help="default: %(default)s")


def add_optimizer_arguments(
    parser: argparse.ArgumentParser, choices: Sequence[str], optimizer: str, lr: float, momentum: float = 0.9
) -> None:
    """--optimizer --lr --momentum --nesterov --weight-decay"""
    parser.add_argument("--optimizer", choices=choices, default=optimizer, help="default: %(default)s")
    parser.add_argument("--lr", type=positive_float, default=lr, help="learning rate (%(default)s)")
    parser.add_argument(
        "--momentum", type=unit_interval, default=momentum, help="SGD momentum (%(default)s; 0 turns it off)"
    )
    parser.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    parser.add_argument(
        "--weight-decay", type=non_negative_float, default=0.0, help="L2 penalty added to the gradient (%(default)s)"
    )


def load_data(args: argparse.Namespace):
    """The dataset the flags ask for; a fallback to the sample or a checksum mismatch is said on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_dataset(args.dataset, args.data_dir)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return dataset


# ----------------------------------------------------------------------------- subcommands


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
