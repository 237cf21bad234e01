"""Datasets: where to find the files, loading them, splits and normalisation.

``load_dataset(name)`` returns a :class:`Dataset` with uint8 images (N, C, H, W) and int64
labels (N,). Names: ``fashion-mnist`` (the default), ``mnist``, ``cifar10`` and ``sample``
(a small real subset of Fashion-MNIST that ships inside the package; it is never searched for).
Anything else that names a file or folder is a dataset of your own, read from that path: an
``.npz`` file (``npz_dataset.py``) or a folder of PNG images (``image_folder.py``); the
classes come from the file or the folders.

Where files are looked for, in order:

1. ``data_dir`` (the ``--data-dir`` flag), as ``data_dir/<name>/`` or ``data_dir/`` itself;
2. ``$NNSCRATCH_DATA``, the same way;
3. the user cache, ``$XDG_CACHE_HOME/nnscratch/<name>/`` (``~/.cache/...``), where
   ``nnscratch download`` writes;
4. ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist`` package installs there).

The first folder that holds any of the dataset's files is the one used, and it must hold all
of them: a folder with part of a dataset (3 of the 4 IDX files, the training batches only) is a
:class:`DatasetError` naming the folder and the missing files, never a reason to look further.
A ``data_dir`` or ``$NNSCRATCH_DATA`` that is not an existing folder is an error too. When they
name a folder that holds none of the dataset's files and the dataset is found further down the
list, a :class:`DataDirWarning` says where it was found. Fashion-MNIST found nowhere falls back
to the sample, with a :class:`SampleFallbackWarning`.

Formats: IDX files (LeCun's MNIST format, gzipped or raw, named ``train-images-idx3-ubyte``
or ``train-images.idx3-ubyte``; ``idx.py``), an ``<name>.npz`` with ``x_train, y_train, x_test,
y_test``, and CIFAR-10's binary batches (``dataset_readers.py``). Each file is read bounded by
what its header declares (``data_files.py``; an ``.npz`` by ``npz_reader.py``, shared with
checkpoints) and checked while loading: image shape, counts,
labels in ``[0, num_classes)``. Known files are checked by the sha256 of their *decompressed*
bytes, because re-packaging (Debian re-gzips) changes the compressed bytes but not the data.
Nothing here touches the network: see ``download.py`` for that.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .data_files import describe_os_error
from .dataset_catalog import (
    CIFAR10_CLASSES,
    CIFAR10_FOLDER,
    CIFAR10_TEST_BATCH,
    CIFAR10_TRAIN_BATCHES,
    CLASSES,
    DATASET_NAMES,
    DEFAULT_DATASET,
    FASHION_MNIST_CLASSES,
    IDX_ROLES,
    IMAGE_SHAPES,
    KNOWN_SHA256,
    MNIST_CLASSES,
    SAMPLE_DIR,
    ChecksumWarning,
    DataDirWarning,
    DatasetError,
    FileCheck,
    SampleFallbackWarning,
    check_name,
)
from .dataset_readers import check_labels, load_cifar, load_idx, load_npz, parse_cifar_batch
from .idx import encode_idx, parse_idx, read_idx
from .image_folder import load_image_folder
from .npz_dataset import load_npz_dataset

SYSTEM_DATA_ROOT = Path("/usr/share/datasets")

# (format, folder, {role: file}) of a located dataset
Located = tuple[str, Path, dict[str, Path]]


@dataclass
class Dataset:
    """A loaded dataset: images uint8 (N, C, H, W), labels int64 (N,), and where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    location: str
    files: list[FileCheck] = field(default_factory=list)
    is_fallback: bool = False

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.x_train.shape[1:])

    @cached_property
    def mean(self) -> np.ndarray:
        """Per-channel mean of the training images scaled to [0, 1], shape (C,)."""
        return self.x_train.mean(axis=(0, 2, 3), dtype=np.float64) / 255.0

    @cached_property
    def std(self) -> np.ndarray:
        """Per-channel standard deviation of the training images scaled to [0, 1], shape (C,)."""
        return self.x_train.std(axis=(0, 2, 3), dtype=np.float64) / 255.0

    def normalize(self, images: Any, dtype: Any = np.float32) -> Any:
        """Images as ``(pixels / 255 - mean) / std`` with this dataset's *training* statistics."""
        return normalize_images(images, self.mean, self.std, dtype)


def normalize_images(images: Any, mean: Any, std: Any, dtype: Any = np.float32) -> Any:
    """uint8 images (N, C, H, W) -> ``(images / 255 - mean[c]) / std[c]`` as ``dtype``.

    mean, std: per-channel statistics (C,) of pixels scaled to [0, 1]. Works on either backend.
    """
    from .backend import get_array_module

    xp = get_array_module(images)
    scale = xp.asarray(1.0 / (255.0 * np.asarray(std)), dtype=dtype).reshape(1, -1, 1, 1)
    shift = xp.asarray(np.asarray(mean) / np.asarray(std), dtype=dtype).reshape(1, -1, 1, 1)
    return images.astype(dtype) * scale - shift


# ----------------------------------------------------------------------------- lookup


def cache_dir() -> Path:
    """Where ``nnscratch download`` puts datasets: ``$XDG_CACHE_HOME/nnscratch`` or ``~/.cache/nnscratch``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnscratch"


def data_roots(data_dir: str | Path | None = None) -> list[tuple[str, Path]]:
    """The folders the user named, in order, with how: ``[("--data-dir", path), ("$NNSCRATCH_DATA", path)]``."""
    given = [("--data-dir", data_dir), ("$NNSCRATCH_DATA", os.environ.get("NNSCRATCH_DATA"))]
    return [(label, Path(root)) for label, root in given if root]


def check_data_roots(data_dir: str | Path | None = None) -> None:
    """A DatasetError naming ``data_dir`` or ``$NNSCRATCH_DATA`` when it is set but not an existing folder."""
    for label, root in data_roots(data_dir):
        try:
            mode = root.stat().st_mode
        except FileNotFoundError:
            raise DatasetError(f"{label} {root}: no such folder") from None
        except OSError as error:
            raise DatasetError(f"{label} {root}: cannot be read ({describe_os_error(error)})") from error
        if not stat.S_ISDIR(mode):
            raise DatasetError(f"{label} {root}: is a file, not a folder of datasets")


def search_dirs(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for dataset ``name``, in order (see the module docstring)."""
    dirs = [folder for _, root in data_roots(data_dir) for folder in (root / name, root)]
    return dirs + [cache_dir() / name, SYSTEM_DATA_ROOT / name]


def dataset_files_in(name: str, folder: Path) -> tuple[str, dict[str, Path], list[str]] | None:
    """What ``folder`` holds of dataset ``name``: (format, {role: file}, names of the missing files),
    or None when it holds none of its files."""
    npz = folder / f"{name}.npz"
    if npz.exists():
        return "npz", {"npz": npz}, []
    if name == "cifar10":
        batches = (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)
        for inner in (folder / CIFAR10_FOLDER, folder):
            found = {batch: inner / batch for batch in batches if (inner / batch).exists()}
            if found:
                missing = [str((inner / batch).relative_to(folder)) for batch in batches if batch not in found]
                return "cifar", found, missing
        return None
    found, missing = {}, []
    for role, (stem, suffix) in IDX_ROLES.items():
        names = [f"{stem}-{suffix}", f"{stem}.{suffix}"]
        path = next((p for n in names for p in (folder / n, folder / f"{n}.gz") if p.exists()), None)
        if path is None:
            missing.append(f"{stem}-{suffix}[.gz]")
        else:
            found[role] = path
    return ("idx", found, missing) if found else None


def find_dataset(name: str, data_dir: str | Path | None = None) -> Located | None:
    """Locate ``name``: (format, folder, {role: file}) for the first folder that holds it, else None.

    A DatasetError when a folder named by the user is missing, or a folder holds part of the dataset.
    """
    check_name(name)
    if name == "sample":
        return "idx", SAMPLE_DIR, dataset_files_in(name, SAMPLE_DIR)[1]
    return _locate(name, data_dir)[0]


def _locate(name: str, data_dir: str | Path | None) -> tuple[Located | None, list[str]]:
    """The located dataset, and the user's folders passed over because they hold none of it."""
    check_data_roots(data_dir)
    passed = []
    for label, root in data_roots(data_dir):
        located = _first_holding(name, [root / name, root])
        if located:
            return located, passed
        passed.append(f"{label} {root} holds none of {name}'s files (in {root / name} or {root} itself)")
    return _first_holding(name, [cache_dir() / name, SYSTEM_DATA_ROOT / name]), passed


def _first_holding(name: str, folders: list[Path]) -> Located | None:
    for folder in folders:
        try:
            held = dataset_files_in(name, folder) if folder.is_dir() else None
        except OSError as error:  # a folder that cannot be listed: say so rather than skip it
            raise DatasetError(f"{error.filename or folder}: cannot be read ({describe_os_error(error)})") from error
        if held is None:
            continue
        file_format, files, missing = held
        if missing:
            raise DatasetError(
                f"{folder} holds only part of {name}: missing {', '.join(missing)} "
                f"(found {', '.join(path.name for path in files.values())})"
            )
        return file_format, folder, files
    return None


# ----------------------------------------------------------------------------- loading


def load_dataset(
    name: str = DEFAULT_DATASET, data_dir: str | Path | None = None, fallback_to_sample: bool = True
) -> Dataset:
    """Load dataset ``name`` from the first folder that holds it (see the module docstring).

    When Fashion-MNIST is not found anywhere and ``fallback_to_sample`` is true, the bundled
    sample is loaded instead and a :class:`SampleFallbackWarning` says so. Other datasets
    that are missing raise FileNotFoundError saying how to get them. A DatasetError (one line,
    naming the file or folder) for anything unreadable, partial or malformed.

    A ``name`` that is none of the known names but a path (see ``is_dataset_path``) is read from there
    (``load_dataset_path``); ``data_dir`` plays no part then.
    """
    if is_dataset_path(name):
        return load_dataset_path(name)
    check_name(name)
    located, passed = (find_dataset(name), []) if name == "sample" else _locate(name, data_dir)
    if located is None:
        searched = ", ".join(str(d) for d in search_dirs(name, data_dir))
        if name == "fashion-mnist" and fallback_to_sample:
            warnings.warn(
                "Fashion-MNIST was not found; using the bundled sample (1,500 train / 500 test images). "
                "For the full dataset: `sudo apt-get install dataset-fashion-mnist` or "
                f"`nnscratch download fashion-mnist`. Searched: {searched}",
                SampleFallbackWarning,
                stacklevel=2,
            )
            dataset = load_dataset("sample")
            dataset.is_fallback = True
            return dataset
        raise FileNotFoundError(
            f"dataset {name!r} not found. Get it with `nnscratch download {name}` "
            f"or point --data-dir / $NNSCRATCH_DATA at a folder holding it. Searched: {searched}"
        )
    file_format, folder, files = located
    for note in passed:
        warnings.warn(f"{note}; using the copy in {folder}", DataDirWarning, stacklevel=2)
    reader = {"idx": load_idx, "npz": load_npz, "cifar": load_cifar}[file_format]
    arrays, checks = reader(name, files)
    for check in checks:
        if check.status == "MISMATCH":
            warnings.warn(
                f"{check.path}: sha256 of the decompressed data is {check.sha256}, expected "
                f"{check.expected} for {name} {check.role}; the file may be corrupt or another dataset",
                ChecksumWarning,
                stacklevel=2,
            )
    location = "bundled sample (nnscratch/data)" if name == "sample" else str(folder)
    return Dataset(name, *arrays, classes=CLASSES[name], location=location, files=checks)


def is_dataset_path(name: str) -> bool:
    """True when ``name`` is a path rather than a dataset's name: not a known name, and an existing file
    or folder, or written as a path (with a ``/`` or ending in ``.npz``), so that a typo of a name
    ("fashion-mnst") is still told apart from a missing file."""
    return name not in DATASET_NAMES and (os.sep in name or "/" in name or name.endswith(".npz") or Path(name).exists())


def load_dataset_path(path: str | Path) -> Dataset:
    """The dataset of your own at ``path``: an ``.npz`` file, or a folder with ``train/CLASS/*.png`` and
    ``test/CLASS/*.png``. Its name is the path as given (a checkpoint records it, so that ``nnscratch
    evaluate`` finds the data again); its classes come from the data."""
    folder = Path(path)
    if not folder.exists():
        raise DatasetError(f"{path}: no such file or folder (a dataset of your own is an .npz file or an image folder)")
    arrays, classes = load_image_folder(folder) if folder.is_dir() else load_npz_dataset(folder)
    return Dataset(str(path), *arrays, classes=classes, location=str(folder.resolve()))


# ----------------------------------------------------------------------------- splits


def train_val_split(
    x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified, seeded split: (x_train, y_train, x_val, y_val).

    Each class contributes ``round(val_fraction * its count)`` samples to the validation set,
    so both parts keep the class balance. Samples keep their original order within each part.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in [0, 1), got {val_fraction}")
    if len(x) != len(y):
        raise ValueError(f"train_val_split: {len(x)} samples but {len(y)} labels")
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        take = int(round(val_fraction * len(members)))
        val_mask[rng.permutation(members)[:take]] = True
    return x[~val_mask], y[~val_mask], x[val_mask], y[val_mask]


__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_FOLDER",
    "CIFAR10_TEST_BATCH",
    "CIFAR10_TRAIN_BATCHES",
    "DATASET_NAMES",
    "DEFAULT_DATASET",
    "FASHION_MNIST_CLASSES",
    "IDX_ROLES",
    "IMAGE_SHAPES",
    "KNOWN_SHA256",
    "MNIST_CLASSES",
    "SAMPLE_DIR",
    "SYSTEM_DATA_ROOT",
    "ChecksumWarning",
    "DataDirWarning",
    "Dataset",
    "DatasetError",
    "FileCheck",
    "SampleFallbackWarning",
    "cache_dir",
    "check_data_roots",
    "check_labels",
    "data_roots",
    "dataset_files_in",
    "encode_idx",
    "find_dataset",
    "is_dataset_path",
    "load_dataset",
    "load_dataset_path",
    "normalize_images",
    "parse_cifar_batch",
    "parse_idx",
    "read_idx",
    "search_dirs",
    "train_val_split",
]
