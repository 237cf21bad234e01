"""A dataset of your own in one ``.npz`` file: ``nnscratch mlp --dataset my-data.npz``.

The file holds (``np.savez("my-data.npz", x_train=..., y_train=..., x_test=..., y_test=...)``)::

    x_train      (N, H, W)      grayscale images
                 (N, C, H, W)   channels first, C = 1 or 3: what ``load_dataset`` returns
                 (N, H, W, C)   channels last, C = 1 or 3 (as matplotlib and Keras keep images),
                                read so only when the second axis is not 1 or 3 (no ambiguity)
                 uint8 pixels 0..255, or floats in [0, 1] (stored as round(255 * x))
    y_train      (N,)           integer class indices in [0, K)
    x_test, y_test              the same for the test set, with the training set's image shape
    class_names  (K,)           optional: the classes' names as a unicode array, e.g.
                                ``np.array(["cat", "dog"])`` (never dtype object, which only pickle reads);
                                without it K = the largest label + 1 and the classes are "0", "1", ...

It is read through ``NpzReader``, never ``np.load`` with pickle: every array's header (dtype and
shape) is checked before any of its data is read. Each message is one line naming the file and
the array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset_catalog import DatasetError
from .dataset_readers import Arrays, check_counts, check_label_header, check_labels, read_npz_arrays
from .npz_reader import ArrayHeader
from .pixels import as_uint8_pixels, check_pixel_dtype

CHANNELS = (1, 3)  # gray or RGB: the channel counts a 4-D image array may have


def load_npz_dataset(path: Path) -> tuple[Arrays, tuple[str, ...]]:
    """The arrays ``(x_train, y_train, x_test, y_test)`` (images uint8 (N, C, H, W), labels int64 (N,))
    and the class names of the ``.npz`` dataset at ``path`` (see the module docstring)."""
    arrays = read_npz_arrays(path, _check_header, text_keys=("class_names",))
    # pixels checked in the file's own layout, so that a message's index is the one the user can look up
    x_train, x_test = (_as_nchw(as_uint8_pixels(arrays[key], f"{path}: {key}")) for key in ("x_train", "x_test"))
    if x_test.shape[1:] != x_train.shape[1:]:
        raise DatasetError(
            f"{path}: x_test holds {_shape_said(x_test)} images but x_train {_shape_said(x_train)}; "
            "both need the same image shape"
        )
    check_counts(x_train, arrays["y_train"], f"{path}: x_train", "y_train")
    check_counts(x_test, arrays["y_test"], f"{path}: x_test", "y_test")
    classes = _class_names(arrays, path)
    y_train, y_test = (check_labels(arrays[key], len(classes), path, key) for key in ("y_train", "y_test"))
    return (x_train, y_train, x_test, y_test), classes


def _check_header(header: ArrayHeader, path: Path) -> None:
    """Refuse from its header an array that cannot be what its name says, before its data is read."""
    key, shape, dtype = header.name, header.shape, header.dtype
    if key == "class_names":
        if dtype.kind != "U" or len(shape) != 1 or shape[0] == 0:
            raise DatasetError(
                f"{path}: class_names must be a non-empty unicode array (K,) like np.array(['cat', 'dog']), "
                f"got dtype {dtype} shape {shape}"
            )
    elif key.startswith("y"):
        check_label_header(header, path)
    else:
        check_pixel_dtype(dtype, f"{path}: {key}")
        four_d = len(shape) == 4 and (shape[1] in CHANNELS or shape[3] in CHANNELS)
        if not (len(shape) == 3 or four_d) or 0 in shape[1:]:
            raise DatasetError(
                f"{path}: {key} must be images (N, H, W), (N, C, H, W) or (N, H, W, C) with C = 1 or 3, "
                f"got shape {shape}"
            )
        if shape[0] == 0:
            raise DatasetError(f"{path}: {key} holds no images (shape {shape})")


def _as_nchw(images: np.ndarray) -> np.ndarray:
    """(N, H, W), (N, C, H, W) or (N, H, W, C) images (checked by ``_check_header``) as (N, C, H, W)."""
    if images.ndim == 3:
        return images[:, None]
    if images.shape[1] in CHANNELS:
        return images
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


def _shape_said(images: np.ndarray) -> str:
    """(N, C, H, W) -> "3x32x32" """
    return "x".join(str(size) for size in images.shape[1:])


def _class_names(arrays: dict[str, np.ndarray], path: Path) -> tuple[str, ...]:
    """The class_names array as a tuple of distinct strings, or "0".."K-1" for K = the largest label + 1."""
    if "class_names" not in arrays:
        largest = max(int(arrays["y_train"].max()), int(arrays["y_test"].max()))
        return tuple(str(label) for label in range(max(largest, 0) + 1))
    names = tuple(str(name) for name in arrays["class_names"])
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated or "" in names:
        said = f"repeats {repeated}" if repeated else "has an empty name"
        raise DatasetError(f"{path}: class_names {said}; each class needs its own name")
    return names
