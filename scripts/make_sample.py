"""Build the bundled Fashion-MNIST sample from the full dataset (Debian's files by default).

    python scripts/make_sample.py [--source /usr/share/datasets/fashion-mnist]

Takes a stratified, seeded subset (150 training and 50 test images per class), writes the
four IDX files gzipped into nnscratch/data/fashion-mnist-sample/ (with a fixed gzip
timestamp, so the output is byte-for-byte reproducible) and prints the sha256 of each
decompressed file for ``KNOWN_SHA256["sample"]`` in nnscratch/common/datasets.py.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib

import numpy as np

from nnscratch.common.datasets import SAMPLE_DIR, encode_idx, load_dataset

TRAIN_PER_CLASS = 150
TEST_PER_CLASS = 50
SEED = 20171025  # the day Fashion-MNIST's paper appeared on arXiv, as good a seed as any


def stratified_subset(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` random samples of every class, in ascending order."""
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    full = load_dataset("fashion-mnist", data_dir=args.source, fallback_to_sample=False)
    rng = np.random.default_rng(SEED)
    train = stratified_subset(full.y_train, TRAIN_PER_CLASS, rng)
    test = stratified_subset(full.y_test, TEST_PER_CLASS, rng)
    arrays = {
        "train-images-idx3-ubyte": full.x_train[train, 0],
        "train-labels-idx1-ubyte": full.y_train[train].astype(np.uint8),
        "t10k-images-idx3-ubyte": full.x_test[test, 0],
        "t10k-labels-idx1-ubyte": full.y_test[test].astype(np.uint8),
    }
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = encode_idx(array)
        (SAMPLE_DIR / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        print(f"{name}: {array.shape}  sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
