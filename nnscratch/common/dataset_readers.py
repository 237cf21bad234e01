"""Reading a located dataset into arrays, checking every file against what the dataset must hold.

Each ``load_*`` takes the dataset's name and its files (``{role: path}``) and returns the four
arrays ``(x_train, y_train, x_test, y_test)`` (images uint8 (N, C, H, W), labels int64 (N,)) and
the checksum of each file. All is checked while loading, so bad data stops the command before
any training: the image shape the dataset's name promises (``IMAGE_SHAPES``), as many labels as
images, and labels that are integers in ``[0, num_classes)``, in the test set as much as in the
training set (a bad test label would otherwise surface only after the training it wasted).
Every message is one line naming the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .data_files import DEFLATE_MAX_RATIO, open_data_file
from .dataset_catalog import CIFAR10_TEST_BATCH, CLASSES, IMAGE_SHAPES, KNOWN_SHA256, DatasetError, FileCheck
from .idx import read_idx_data
from .npz_reader import ArchiveError, ArrayHeader, NpzReader

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

CIFAR10_RECORD = 1 + 3 * 32 * 32  # one label byte, then the (3, 32, 32) pixels
CIFAR10_BATCH_RECORDS = 10_000  # what each batch of CIFAR-10 holds: the most a batch file may hold
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def check_labels(labels: np.ndarray, num_classes: int, path: Path | str, what: str = "labels") -> np.ndarray:
    """``labels`` (N,) as int64, after checking they are integers in ``[0, num_classes)``.

    A DatasetError names ``path``, ``what`` and the first bad index and value otherwise.
    """
    if labels.dtype.kind not in "iu":
        raise DatasetError(f"{path}: {what} must be integers (class indices), got dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        index = int(bad[0])
        raise DatasetError(
            f"{path}: {what}[{index}] is {labels[index]}, outside 0..{num_classes - 1} "
            f"({num_classes} classes; {bad.size:,} bad label(s) in all)"
        )
    return labels.astype(np.int64)


def check_counts(images: np.ndarray, labels: np.ndarray, images_where: str, labels_where: str) -> None:
    """As many labels as images (a DatasetError naming where both are otherwise)."""
    if len(images) != len(labels):
        raise DatasetError(f"{images_where} holds {len(images):,} images but {labels_where} {len(labels):,} labels")


def _checksum(name: str, role: str, path: Path, digest: str) -> FileCheck:
    return FileCheck(role, path, digest, KNOWN_SHA256.get(name, {}).get(role))


# ----------------------------------------------------------------------------- IDX


def load_idx(name: str, files: dict[str, Path]) -> tuple[Arrays, list[FileCheck]]:
    """The four IDX files of an MNIST-style dataset: images (N, 28, 28) and labels (N,) per split."""
    arrays, checks = {}, []
    for role, path in files.items():
        images = role.endswith("images")
        with open_data_file(path) as data_file:
            if images:
                array, digest = read_idx_data(data_file, 3, IMAGE_SHAPES[name][1:], "images")
            else:
                array, digest = read_idx_data(data_file, 1, (), "labels")
        arrays[role] = array
        checks.append(_checksum(name, role, path, digest))
    for split in ("train", "test"):
        check_counts(
            arrays[f"{split}_images"], arrays[f"{split}_labels"], files[f"{split}_images"], files[f"{split}_labels"]
        )
    num_classes = len(CLASSES[name])
    return (
        arrays["train_images"][:, None],
        check_labels(arrays["train_labels"], num_classes, files["train_labels"]),
        arrays["test_images"][:, None],
        check_labels(arrays["test_labels"], num_classes, files["test_labels"]),
    ), checks


# ----------------------------------------------------------------------------- CIFAR-10


def parse_cifar_batch(data: bytes | np.ndarray, path: Path | str = "<bytes>") -> tuple[np.ndarray, np.ndarray]:
    """Decode a CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (3, 32, 32).

    Returns images uint8 (N, 3, 32, 32) and labels int64 (N,), the labels checked to be 0..9.
    """
    content = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    if content.size == 0 or content.size % CIFAR10_RECORD:
        raise DatasetError(
            f"{path}: a CIFAR-10 binary batch holds whole {CIFAR10_RECORD}-byte records, "
            f"but the file has {content.size} bytes"
        )
    rows = content.reshape(-1, CIFAR10_RECORD)
    return rows[:, 1:].reshape(-1, 3, 32, 32), check_labels(rows[:, 0], len(CLASSES["cifar10"]), path)


def load_cifar(name: str, files: dict[str, Path]) -> tuple[Arrays, list[FileCheck]]:
    """CIFAR-10's five training batches and its test batch."""
    parts: dict[str, list] = {"train": [], "test": []}
    checks = []
    for batch, path in files.items():
        with open_data_file(path) as data_file:
            content = data_file.read_rest(CIFAR10_BATCH_RECORDS * CIFAR10_RECORD, "10,000 records of a CIFAR-10 batch")
        checks.append(_checksum(name, batch, path, _sha256(content)))
        parts["test" if batch == CIFAR10_TEST_BATCH else "train"].append(parse_cifar_batch(content, path))
    x_train = np.concatenate([images for images, _ in parts["train"]])
    y_train = np.concatenate([labels for _, labels in parts["train"]])
    ((x_test, y_test),) = parts["test"]
    return (x_train, y_train, x_test, y_test), checks


def _sha256(content: np.ndarray | bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# ----------------------------------------------------------------------------- npz


def read_npz_arrays(
    path: Path, check_header: Callable[[ArrayHeader, Path], None], text_keys: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """The arrays ``NPZ_KEYS`` of the ``.npz`` at ``path``, and those of ``text_keys`` it holds (unicode
    allowed), by name. Read through ``NpzReader`` (no pickle): every header is checked (dtype, shape,
    size against the zip, then ``check_header(header, path)``) before any data is read."""
    try:
        with NpzReader(path) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.names()]
            if missing:
                raise DatasetError(f"{path}: missing array(s) {missing}; an .npz dataset holds {list(NPZ_KEYS)}")
            headers = [archive.header(key) for key in NPZ_KEYS]
            headers += [archive.header(key, text=True) for key in text_keys if key in archive.names()]
            for header in headers:
                check_header(header, path)
            # zlib never inflates more than 1032:1, so a larger total means sizes that lie
            archive.check_total(headers, DEFLATE_MAX_RATIO)
            return {header.name: archive.read(header) for header in headers}
    except ArchiveError as error:
        raise DatasetError(f"{path}: {error}") from None


def load_npz(name: str, files: dict[str, Path]) -> tuple[Arrays, list[FileCheck]]:
    """An ``<name>.npz`` holding x_train, y_train, x_test, y_test (``read_npz_arrays``), images of the
    shape the dataset's name promises."""
    path = files["npz"]
    arrays = read_npz_arrays(path, lambda header, where: _check_npz_header(header, IMAGE_SHAPES[name], where))
    x_train, y_train, x_test, y_test = (_as_nchw(arrays[key]) for key in NPZ_KEYS)
    num_classes = len(CLASSES[name])
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        check_counts(images, labels, f"{path}: x_{split}", f"y_{split}")
    arrays = (
        x_train,
        check_labels(y_train, num_classes, path, "y_train"),
        x_test,
        check_labels(y_test, num_classes, path, "y_test"),
    )
    return arrays, [FileCheck("npz", path, _sha256(Path(path).read_bytes()), None)]


def _as_nchw(array: np.ndarray) -> np.ndarray:
    """Images saved as (N, H, W) seen as (N, 1, H, W); labels (N,) and (N, C, H, W) images as they are."""
    return array[:, None] if array.ndim == 3 else array


def check_label_header(header: ArrayHeader, path: Path) -> None:
    """Refuse from its header a labels array (``y_train``, ``y_test``) that is not integers (N,)."""
    if header.dtype.kind not in "iu" or len(header.shape) != 1:
        raise DatasetError(
            f"{path}: {header.name} must be integer labels (N,), got dtype {header.dtype} shape {header.shape}"
        )


def _check_npz_header(header: ArrayHeader, image_shape: tuple, path: Path) -> None:
    """Refuse from its header an array that cannot be what its key is (labels (N,), images uint8)."""
    key, shape, dtype = header.name, header.shape, header.dtype
    if key.startswith("y"):
        check_label_header(header, path)
        return
    channels, height, width = image_shape
    allowed = [(height, width)] if channels == 1 else []
    if dtype != np.uint8 or len(shape) not in (3, 4) or tuple(shape[1:]) not in [*allowed, image_shape]:
        forms = " or ".join(f"(N, {', '.join(map(str, form))})" for form in [*allowed, image_shape])
        raise DatasetError(f"{path}: {key} must be uint8 images {forms}, got dtype {dtype} shape {shape}")
    if shape[0] == 0:
        raise DatasetError(f"{path}: {key} holds no images (shape {shape})")
