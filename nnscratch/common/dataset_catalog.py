"""What nnscratch knows about each dataset before reading a byte: names, files, shapes, classes, checksums.

Also the errors and warnings every dataset module raises, so that the readers (``idx.py``,
``dataset_readers.py``) and the lookup (``datasets.py``) share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
CIFAR10_FOLDER = "cifar-10-batches-bin"  # the folder CIFAR-10's archive unpacks into

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
# (C, H, W) of one image: known before any file is read, so models can be checked against it first,
# and every file is checked against it when read
IMAGE_SHAPES = {"fashion-mnist": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32), "sample": (1, 28, 28)}
CLASSES = {
    "fashion-mnist": FASHION_MNIST_CLASSES,
    "mnist": MNIST_CLASSES,
    "cifar10": CIFAR10_CLASSES,
    "sample": FASHION_MNIST_CLASSES,
}


class DatasetError(ValueError):
    """A data file or folder is missing, unreadable, truncated or malformed; the one-line message names it."""


class ChecksumWarning(UserWarning):
    """A known data file's sha256 differs from the reference value."""


class SampleFallbackWarning(UserWarning):
    """The full dataset was not found, so the bundled sample is used instead."""


class DataDirWarning(UserWarning):
    """The data folder the user gave holds none of the dataset's files; the copy found elsewhere is used."""


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


def check_name(name: str) -> None:
    """A ValueError listing the known names when ``name`` is not one of them."""
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
