"""Small dataset files written by the tests: the good ones, and the parts the bad ones are made of.

arrays = make_idx_dataset(tmp_path / "mnist")       # 4 gzipped IDX files, 20 train / 10 test
idx_path(tmp_path / "mnist", "test_labels").write_bytes(gzip.compress(idx_header(1, 3) + ...))
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np

from nnscratch.common import datasets
from nnscratch.common.datasets import encode_idx


def idx_path(folder: Path, role: str, style: str = "dash", gz: bool = True) -> Path:
    """Where the IDX file of ``role`` ("train_images", ...) lives in ``folder``."""
    stem, suffix = datasets.IDX_ROLES[role]
    name = f"{stem}-{suffix}" if style == "dash" else f"{stem}.{suffix}"
    return folder / (f"{name}.gz" if gz else name)


def idx_arrays(n_train: int = 20, n_test: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """The four arrays of a tiny MNIST-style dataset: images uint8 (N, 28, 28), labels 0..9 (N,)."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }


def make_idx_dataset(folder: Path, n_train=20, n_test=10, style="dash", gz=True, seed=0) -> dict[str, np.ndarray]:
    """Write a tiny MNIST-style dataset (4 IDX files) into folder; return its arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = idx_arrays(n_train, n_test, seed)
    for role, array in arrays.items():
        data = encode_idx(array)
        idx_path(folder, role, style, gz).write_bytes(gzip.compress(data) if gz else data)
    return arrays


def idx_header(*dims: int, dtype_code: int = 0x08, ndim: int | None = None) -> bytes:
    """An IDX header declaring ``dims`` (and ``ndim``, which defaults to their number)."""
    ndim = len(dims) if ndim is None else ndim
    return bytes([0, 0, dtype_code, ndim]) + b"".join(size.to_bytes(4, "big") for size in dims)


def gzip_bomb(header: bytes, zero_bytes: int) -> bytes:
    """A gzip file of ``header`` followed by ``zero_bytes`` zeros, about 1/1000 of their size.

    Built from one 1 MiB member repeated (concatenated gzip members are one valid stream), so
    a 1 MB bomb of a gibibyte costs the test one compression of 1 MiB, not of 1 GiB.
    """
    member_size = 1 << 20
    member = gzip.compress(bytes(member_size), compresslevel=9)
    return gzip.compress(header) + member * (zero_bytes // member_size)


def npz_arrays(n_train: int = 6, n_test: int = 3, image_shape=(28, 28)) -> dict[str, np.ndarray]:
    """The arrays of a good ``<name>.npz`` dataset."""
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "y_train": np.arange(n_train) % 10,
        "x_test": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "y_test": np.arange(n_test) % 10,
    }


def write_npz(path: Path, **changes) -> Path:
    """A ``.npz`` dataset at ``path``: the good arrays with ``changes`` (a value None leaves the key out)."""
    arrays = {**npz_arrays(), **changes}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def write_npz_declaring(path: Path, key: str, shape: tuple, descr: str = "|u1", data: bytes = b"") -> Path:
    """A ``.npz`` dataset whose ``key`` has an .npy header declaring ``shape`` and ``descr``, followed by ``data``."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in npz_arrays().items():
            if name != key:
                buffer = io.BytesIO()
                np.save(buffer, array)
                archive.writestr(f"{name}.npy", buffer.getvalue())
        archive.writestr(f"{key}.npy", header.getvalue() + data)
    return path


def cifar_batch(labels, seed: int = 0) -> bytes:
    """The bytes of a CIFAR-10 binary batch: one record (label, 3x32x32 pixels) per label."""
    labels = np.asarray(labels, dtype=np.uint8)
    images = np.random.default_rng(seed).integers(0, 256, (len(labels), 3 * 32 * 32), dtype=np.uint8)
    return np.concatenate([labels[:, None], images], axis=1).tobytes()


def make_cifar_dataset(folder: Path, labels=(0, 9, 4)) -> Path:
    """Write the six CIFAR-10 batches (3 records each) into ``folder/cifar-10-batches-bin``; that folder."""
    inner = folder / datasets.CIFAR10_FOLDER
    inner.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate((*datasets.CIFAR10_TRAIN_BATCHES, datasets.CIFAR10_TEST_BATCH)):
        (inner / name).write_bytes(cifar_batch(labels, seed=index))
    return inner


def write_png(path: Path, pixels: np.ndarray) -> Path:
    """One PNG from uint8 pixels (H, W) gray or (H, W, 3) colour, as matplotlib writes it (RGBA)."""
    from matplotlib import image as mpimg

    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.repeat(pixels[..., None], 3, axis=2) if pixels.ndim == 2 else pixels
    mpimg.imsave(path, np.ascontiguousarray(rgb))
    return path


def make_image_folder(root: Path, classes=("cat", "dog"), per_class: int = 2, size=(6, 5), colour=False) -> Path:
    """A tiny image-folder dataset: ``root/train|test/CLASS/I.png``, ``per_class`` images of ``size``
    (H, W) per class and split, gray unless ``colour``, pixel values that differ image to image."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name in classes:
            for index in range(per_class):
                shape = (*size, 3) if colour else size
                write_png(root / split / name / f"{index}.png", rng.integers(0, 256, shape, dtype=np.uint8))
    return root
