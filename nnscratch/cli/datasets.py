"""``nnscratch datasets``: every dataset, where it was found, its sizes and checksum status.

A dataset that cannot be read is shown in the table, and the command then fails with the first
such error on one line (exit code 2), so a script notices; a ``--data-dir`` that is not a
folder is refused before the table.
"""

from __future__ import annotations

import argparse
import warnings

from ..common.datasets import (
    DATASET_NAMES,
    ChecksumWarning,
    DataDirWarning,
    DatasetError,
    check_data_roots,
    load_dataset,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")


def run(args: argparse.Namespace) -> int:
    check_data_roots(args.data_dir)
    print(f"{'dataset':<14} {'train':>7} {'test':>7}  {'image':<11} location")
    unreadable: list[DatasetError] = []
    for name in DATASET_NAMES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ChecksumWarning)  # shown in the table instead
                warnings.simplefilter("ignore", DataDirWarning)  # the location column says where it was found
                dataset = load_dataset(name, args.data_dir, fallback_to_sample=False)
        except FileNotFoundError:
            how = f"nnscratch download {name}"
            if name == "fashion-mnist":
                how = "sudo apt-get install dataset-fashion-mnist, or " + how
            print(f"{name:<14} {'-':>7} {'-':>7}  {'-':<11} not found ({how})")
            continue
        except DatasetError as error:
            print(f"{name:<14} {'-':>7} {'-':>7}  {'-':<11} unreadable: {error}")
            unreadable.append(error)
            continue
        shape = "x".join(str(s) for s in dataset.image_shape)
        print(f"{name:<14} {len(dataset.y_train):>7,} {len(dataset.y_test):>7,}  {shape:<11} {dataset.location}")
        statuses = ", ".join(f"{check.path.name} {check.status}" for check in dataset.files)
        print(f"{'':<14} sha256: {statuses}")
        for check in dataset.files:
            if check.status == "MISMATCH":
                print(f"{'':<14} {check.path}: sha256 {check.sha256}, expected {check.expected}")
    if len(unreadable) > 1:
        raise DatasetError(f"{unreadable[0]} (and {len(unreadable) - 1} more unreadable dataset(s): see the table)")
    if unreadable:
        raise unreadable[0]
    return 0
