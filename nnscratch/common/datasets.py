"""Datasets: file readers, where to find the files, checksums, splits and normalisation.

``load_dataset(name)`` returns a :class:`Dataset` with uint8 images (N, C, H, W) and int64
labels (N,). Names: ``fashion-mnist`` (the default), ``mnist``, ``cifar10`` and ``sample``
(a small real subset of Fashion-MNIST that ships inside the package).

Where files are looked for, in order:

1. ``data_dir`` (the ``--data-dir`` flag), as ``data_dir/<name>/`` or ``data_dir/`` itself;
2. ``$NNSCRATCH_DATA``, the same way;
3. the user cache, ``$XDG_CACHE_HOME/nnscratch/<name>/`` (``~/.cache/...``), where
   ``nnscratch download`` writes;
4. ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist`` package installs there).

Formats: IDX files (LeCun's MNIST format, gzipped or raw, named ``train-images-idx3-ubyte``
or ``train-images.idx3-ubyte``), an ``<name>.npz`` with ``x_train, y_train, x_test, y_test``,
and CIFAR-10's binary batches. Known files are checked by the sha256 of their *decompressed*
bytes, because re-packaging (Debian re-gzips) changes the compressed bytes but not the data.
Nothing here touches the network: see ``download.py`` for that.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

SYSTEM_DATA_ROOT = Path("/usr/share/datasets")
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "fashion-mnist-sample"
DEFAULT_DATASET = "fashion-mnist"

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

# The four IDX files of an MNIST-style dataset: role -> (file stem, IDX suffix).
IDX_ROLES = {
    "train_images": ("train-images", "idx3-ubyte"),
    "train_labels": ("train-labels", "idx1-ubyte"),
    "test_images": ("t10k-images", "idx3-ubyte"),
    "test_labels": ("t10k-labels", "idx1-ubyte"),
}
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch.bin"

# sha256 of the decompressed bytes of each known file.
KNOWN_SHA256 = {
    "fashion-mnist": {
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "mnist": {
        "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    # written by scripts/make_sample.py from the Debian files
    "sample": {
        "train_images": "24bf303bf7de964ab2357b7547692e3344dcaf51112da91cb6d3f48701701427",
        "train_labels": "c80128417b2352c1a66048a795c8948d9c7a3f60e91407056497c3bc9c49c202",
        "test_images": "2ee2b6515128a5ec91fad93123f1b9973295d7512a52e72a1d2dd2dc78e4f800",
        "test_labels": "a8f99cc0bddf864a263e2067144f9f98acdf48a79da9de237c25c1556e929578",
    },
}

DATASET_NAMES = ("fashion-mnist", "mnist", "cifar10", "sample")
# (C, H, W) of one image: known before any file is read, so models can be checked against it first
IMAGE_SHAPES = {"fashion-mnist": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32), "sample": (1, 28, 28)}
_CLASSES = {
    "fashion-mnist": FASHION_MNIST_CLASSES,
    "mnist": MNIST_CLASSES,
    "cifar10": CIFAR10_CLASSES,
    "sample": FASHION_MNIST_CLASSES,
}


class DatasetError(ValueError):
    """A data file is missing, truncated or malformed; the message names the file."""


class ChecksumWarning(UserWarning):
    """A known data file's sha256 differs from the reference value."""


class SampleFallbackWarning(UserWarning):
    """The full dataset was not found, so the bundled sample is used instead."""


@dataclass
class FileCheck:
    """One data file and what its checksum said: "verified", "MISMATCH" or "unknown"."""

    role: str
    path: Path
    sha256: str
    expected: str | None

    @property
    def status(self) -> str:
        if self.expected is None:
            return "unknown"
        return "verified" if self.sha256 == self.expected else "MISMATCH"


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


# ----------------------------------------------------------------------------- readers


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DatasetError(f"{path}: corrupt or truncated gzip data ({error})") from error
    return raw


def parse_idx(data: bytes, path: Path | str = "<bytes>") -> np.ndarray:
    """Decode an IDX array of unsigned bytes (magic 0x0000 08 <ndim>, then big-endian dims).

    Raises DatasetError naming ``path`` with the expected and found magic or size.
    """
    if len(data) < 4:
        raise DatasetError(f"{path}: too short for an IDX file ({len(data)} bytes, need at least 4)")
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or dtype_code != 0x08 or not 1 <= ndim <= 4:
        raise DatasetError(
            f"{path}: not an IDX file of unsigned bytes: magic {data[:4].hex()} "
            "(expected 000008 followed by the number of dimensions, e.g. 00000803 for images)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DatasetError(f"{path}: IDX header truncated ({len(data)} bytes, need {header_size})")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(dims))
    if len(data) != expected:
        raise DatasetError(
            f"{path}: IDX dims {dims} need {expected} bytes but the (decompressed) file has {len(data)}"
            + (" (truncated?)" if len(data) < expected else "")
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array (the inverse of :func:`parse_idx`)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a uint8 array of the shape its header gives."""
    return parse_idx(read_bytes(Path(path)), path)


def parse_cifar_batch(data: bytes, path: Path | str = "<bytes>") -> tuple[np.ndarray, np.ndarray]:
    """Decode a CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (3, 32, 32)."""
    record = 1 + 3 * 32 * 32
    if len(data) == 0 or len(data) % record:
        raise DatasetError(
            f"{path}: a CIFAR-10 binary batch holds whole {record}-byte records, but the file has {len(data)} bytes"
        )
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DatasetError(f"{path}: label {labels.max()} found, CIFAR-10 labels are 0..9")
    return rows[:, 1:].reshape(-1, 3, 32, 32), labels


# ----------------------------------------------------------------------------- lookup


def cache_dir() -> Path:
    """Where ``nnscratch download`` puts datasets: ``$XDG_CACHE_HOME/nnscratch`` or ``~/.cache/nnscratch``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnscratch"


def search_dirs(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for dataset ``name``, in order (see the module docstring)."""
    dirs: list[Path] = []
    for root in (data_dir, os.environ.get("NNSCRATCH_DATA")):
        if root:
            dirs += [Path(root) / name, Path(root)]
    dirs += [cache_dir() / name, SYSTEM_DATA_ROOT / name]
    return dirs


def _idx_files_in(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in ``folder`` (either naming style, raw or .gz), or None if any is missing."""
    found = {}
    for role, (stem, suffix) in IDX_ROLES.items():
        names = [f"{stem}-{suffix}", f"{stem}.{suffix}"]
        candidates = [folder / n for n in names] + [folder / f"{n}.gz" for n in names]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            return None
        found[role] = path
    return found


def _cifar_files_in(folder: Path) -> dict[str, Path] | None:
    for inner in (folder / "cifar-10-batches-bin", folder):
        names = (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)
        if all((inner / n).is_file() for n in names):
            return {n: inner / n for n in names}
    return None


def find_dataset(name: str, data_dir: str | Path | None = None) -> tuple[str, Path, dict[str, Path]] | None:
    """Locate ``name``: (format, folder, {role: file}) for the first folder that holds it, else None."""
    _check_name(name)
    if name == "sample":
        return "idx", SAMPLE_DIR, _idx_files_in(SAMPLE_DIR) or {}
    for folder in search_dirs(name, data_dir):
        if not folder.is_dir():
            continue
        npz = folder / f"{name}.npz"
        if npz.is_file():
            return "npz", folder, {"npz": npz}
        files = _cifar_files_in(folder) if name == "cifar10" else _idx_files_in(folder)
        if files:
            return ("cifar" if name == "cifar10" else "idx"), folder, files
    return None


def _check_name(name: str) -> None:
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")


# ----------------------------------------------------------------------------- loading


def load_dataset(
    name: str = DEFAULT_DATASET, data_dir: str | Path | None = None, fallback_to_sample: bool = True
) -> Dataset:
    """Load dataset ``name`` from the first folder that holds it (see the module docstring).

    When Fashion-MNIST is not found anywhere and ``fallback_to_sample`` is true, the bundled
    sample is loaded instead and a :class:`SampleFallbackWarning` says so. Other datasets
    that are missing raise FileNotFoundError saying how to get them.
    """
    located = find_dataset(name, data_dir)
    if located is None:
        searched = "\n  ".join(str(d) for d in search_dirs(name, data_dir))
        if name == "fashion-mnist" and fallback_to_sample:
            warnings.warn(
                "Fashion-MNIST was not found; using the bundled sample (1,500 train / 500 test images). "
                "For the full dataset: `sudo apt-get install dataset-fashion-mnist` or "
                "`nnscratch download fashion-mnist`. Searched:\n  " + searched,
                SampleFallbackWarning,
                stacklevel=2,
            )
            dataset = load_dataset("sample")
            dataset.is_fallback = True
            return dataset
        raise FileNotFoundError(
            f"dataset {name!r} not found. Get it with `nnscratch download {name}` "
            f"or point --data-dir / $NNSCRATCH_DATA at a folder holding it. Searched:\n  {searched}"
        )
    file_format, folder, files = located
    reader = {"idx": _load_idx, "npz": _load_npz, "cifar": _load_cifar}[file_format]
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
    return Dataset(name, *arrays, classes=_CLASSES[name], location=location, files=checks)


def _checked(name: str, role: str, path: Path) -> tuple[bytes, FileCheck]:
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    return data, FileCheck(role, path, digest, KNOWN_SHA256.get(name, {}).get(role))


def _load_idx(name: str, files: dict[str, Path]) -> tuple[tuple[np.ndarray, ...], list[FileCheck]]:
    arrays, checks = {}, []
    for role, path in files.items():
        data, check = _checked(name, role, path)
        arrays[role] = parse_idx(data, path)
        checks.append(check)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(
                f"{files[f'{split}_images']}: {split} images have shape {images.shape} and labels "
                f"{labels.shape}; expected (N, H, W) images and (N,) labels with the same N"
            )
    return (
        arrays["train_images"][:, None],
        arrays["train_labels"].astype(np.int64),
        arrays["test_images"][:, None],
        arrays["test_labels"].astype(np.int64),
    ), checks


def _load_npz(name: str, files: dict[str, Path]) -> tuple[tuple[np.ndarray, ...], list[FileCheck]]:
    path = files["npz"]
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in keys if k not in archive.files]
            if missing:
                raise DatasetError(f"{path}: missing array(s) {missing}; an .npz dataset holds {list(keys)}")
            x_train, y_train, x_test, y_test = (archive[k] for k in keys)
    except (OSError, ValueError) as error:
        if isinstance(error, DatasetError):
            raise
        raise DatasetError(f"{path}: not a readable .npz archive ({error})") from error
    images = []
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        if x.dtype != np.uint8 or x.ndim not in (3, 4):
            raise DatasetError(f"{path}: {key} must be uint8 (N, H, W) or (N, C, H, W), got {x.dtype} {x.shape}")
        images.append(x[:, None] if x.ndim == 3 else x)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    check = FileCheck("npz", path, digest, None)
    return (images[0], y_train.astype(np.int64), images[1], y_test.astype(np.int64)), [check]


def _load_cifar(name: str, files: dict[str, Path]) -> tuple[tuple[np.ndarray, ...], list[FileCheck]]:
    parts: dict[str, list] = {"train": [], "test": []}
    checks = []
    for batch, path in files.items():
        data, check = _checked(name, batch, path)
        checks.append(check)
        parts["test" if batch == CIFAR10_TEST_BATCH else "train"].append(parse_cifar_batch(data, path))
    x_train = np.concatenate([images for images, _ in parts["train"]])
    y_train = np.concatenate([labels for _, labels in parts["train"]])
    ((x_test, y_test),) = parts["test"]
    return (x_train, y_train, x_test, y_test), checks


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
