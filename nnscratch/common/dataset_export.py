"""Writing a loaded dataset in the two forms ``--dataset PATH`` reads: one ``.npz``, or a folder of PNGs.

A learner bringing their own data can start from a copy of one that works::

    from nnscratch.common.datasets import load_dataset
    from nnscratch.common.dataset_export import write_image_folder, write_npz_dataset

    sample = load_dataset("sample")
    write_npz_dataset(sample, "sample.npz")       # then: nnscratch mlp --dataset sample.npz
    write_image_folder(sample, "sample-images")   # then: nnscratch mlp --dataset sample-images

The tests train on both copies of the bundled sample, so the two readers are checked against
data whose every pixel and label is known.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .datasets import Dataset


def write_npz_dataset(dataset: Dataset, path: str | Path) -> Path:
    """Save ``dataset``'s four arrays, images uint8 (N, C, H, W), and its ``class_names`` (a unicode
    array, which needs no pickle) to the ``.npz`` file ``path``."""
    path = Path(path)
    np.savez_compressed(
        path,
        x_train=dataset.x_train,
        y_train=dataset.y_train,
        x_test=dataset.x_test,
        y_test=dataset.y_test,
        class_names=np.array(dataset.classes, dtype=str),
    )
    return path


def folder_name(class_name: str) -> str:
    """A class name as a folder name: "/" (Fashion-MNIST's "T-shirt/top") cannot be in one."""
    return class_name.replace("/", "-")


def write_image_folder(dataset: Dataset, folder: str | Path) -> Path:
    """Write every image of ``dataset`` as ``folder/train|test/CLASS/NNNNN.png`` (gray or RGB as it is).

    The reader sorts the class folders by name, so the labels it gives may be numbered in another
    order than ``dataset.classes``; each image keeps its class.
    """
    from matplotlib import image as mpimg  # lazy: a runtime dependency only the image commands need

    folder = Path(folder)
    for split in ("train", "test"):
        images, labels = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        for name in dataset.classes:
            (folder / split / folder_name(name)).mkdir(parents=True, exist_ok=True)
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            path = folder / split / folder_name(dataset.classes[label]) / f"{index:05d}.png"
            # written as RGB with equal colours: imsave maps a 2-D array through a colormap, which may move
            # a gray level by one; the reader sees equal colours as gray again
            rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
            mpimg.imsave(path, np.ascontiguousarray(rgb.transpose(1, 2, 0)))
    return folder
