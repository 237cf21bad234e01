"""A dataset of your own as a folder of PNG images: ``nnscratch mlp --dataset my-images/``.

The layout (the one torchvision's ``ImageFolder`` reads, split in two)::

    my-images/
      train/
        cat/   0001.png 0002.png ...
        dog/   ...
      test/
        cat/   ...
        dog/   ...

- The classes are the folder names, sorted: label 0 is the first name in alphabetical order.
  ``train/`` and ``test/`` must have the same class folders, each holding at least one image.
- Only ``.png`` files are read (other files, such as a ``.DS_Store``, are left alone), with
  matplotlib's ``imread``, which needs no other library for PNG.
- Every image has the size of the first one (in sorted order); the first that differs is named.
- Gray or colour: an image whose red, green and blue are equal everywhere is gray (matplotlib's
  ``imsave`` writes gray images that way). When every image is gray the dataset has 1 channel,
  otherwise 3 (gray images repeated in each). Transparency (an alpha channel) is dropped.

Images are returned as the other datasets are: uint8 (N, C, H, W), labels int64 (N,), class by
class and in file order within a class (training shuffles them; a run on "the first N" does not).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset_catalog import DatasetError
from .dataset_readers import Arrays
from .pixels import as_uint8_pixels

SPLITS = ("train", "test")


def load_image_folder(root: Path) -> tuple[Arrays, tuple[str, ...]]:
    """``(x_train, y_train, x_test, y_test)`` and the class names of the image folder ``root``
    (see the module docstring). A DatasetError naming the folder or file otherwise."""
    classes = _class_folders(root)
    files = {split: _image_files(root / split, classes) for split in SPLITS}
    first = files["train"][0][0]
    images = {split: [_read_png(path) for path, _ in files[split]] for split in SPLITS}
    reference = images["train"][0]
    gray = all(_is_gray(image) for split in SPLITS for image in images[split])
    arrays = []
    for split in SPLITS:
        for (path, _), image in zip(files[split], images[split], strict=True):
            if image.shape[:2] != reference.shape[:2]:
                raise DatasetError(
                    f"{path}: {_size_said(image)} pixels, but {first} (the first image) is {_size_said(reference)}; "
                    "every image must have the same size"
                )
        x = np.stack([image[..., :1] if gray else _rgb(image) for image in images[split]]).transpose(0, 3, 1, 2)
        y = np.array([label for _, label in files[split]], dtype=np.int64)
        arrays += [np.ascontiguousarray(x), y]
    return tuple(arrays), classes


def _class_folders(root: Path) -> tuple[str, ...]:
    """The class names: the folders of ``root/train``, which ``root/test`` must match."""
    found = {}
    for split in SPLITS:
        folder = root / split
        if not folder.is_dir():
            raise DatasetError(
                f"{root}: an image-folder dataset holds train/ and test/, each with one folder of .png images "
                f"per class; {split}/ is missing"
            )
        found[split] = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
        if not found[split]:
            raise DatasetError(f"{folder}: holds no class folders ({split}/CLASS/*.png)")
    train, test = set(found["train"]), set(found["test"])
    if train != test:
        only_train, only_test = sorted(train - test), sorted(test - train)
        said = "; ".join(
            f"{where} only: {names}" for where, names in (("train/", only_train), ("test/", only_test)) if names
        )
        raise DatasetError(f"{root}: train/ and test/ must have the same class folders ({said})")
    return tuple(found["train"])


def _image_files(folder: Path, classes: tuple[str, ...]) -> list[tuple[Path, int]]:
    """(file, label) of every .png under ``folder/CLASS/``, class by class, files in sorted order."""
    files = []
    for label, name in enumerate(classes):
        pngs = sorted(path for path in (folder / name).iterdir() if path.suffix.lower() == ".png")
        if not pngs:
            raise DatasetError(f"{folder / name}: holds no .png images")
        files += [(path, label) for path in pngs]
    return files


def _read_png(path: Path) -> np.ndarray:
    """One image as uint8 (H, W, channels), channels 1 to 4 (gray, gray + alpha, RGB, RGBA)."""
    from matplotlib import image as mpimg  # lazy: matplotlib is imported only by the commands that draw or read images

    try:
        pixels = mpimg.imread(path, format="png")
    except Exception as error:  # a damaged file can make the image library raise anything: say which file
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatasetError(f"{path}: not a readable PNG image ({reason})") from None
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    return as_uint8_pixels(pixels, str(path))


def _is_gray(image: np.ndarray) -> bool:
    """(H, W, channels): gray when it has one colour channel, or three that are equal."""
    if image.shape[2] < 3:
        return True
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def _rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, channels) -> (H, W, 3): gray repeated in each colour, alpha dropped."""
    return np.repeat(image[..., :1], 3, axis=2) if image.shape[2] < 3 else image[..., :3]


def _size_said(image: np.ndarray) -> str:
    """(H, W, ...) -> "WxH", the way image sizes are said (width first)."""
    return f"{image.shape[1]}x{image.shape[0]}"
