"""Pixels as nnscratch keeps them: uint8 in 0..255, whatever form the user's images came in.

Images arrive as uint8 (a PNG, most ``.npz`` files) or as floats in [0, 1] (matplotlib's
``imread``, images someone already scaled). Every dataset is stored as uint8 (N, C, H, W):
a quarter of float32's memory, and ``Dataset.normalize`` turns it into floats per batch anyway.
"""

from __future__ import annotations

import numpy as np

from .dataset_catalog import DatasetError


def check_pixel_dtype(dtype: np.dtype, where: str) -> None:
    """A DatasetError naming ``where`` unless ``dtype`` is uint8 or a float type (checked from a header,
    before any pixel is read)."""
    if dtype != np.uint8 and dtype.kind != "f":
        raise DatasetError(f"{where} must be uint8 pixels (0..255) or floats in [0, 1], got dtype {dtype}")


def as_uint8_pixels(images: np.ndarray, where: str) -> np.ndarray:
    """``images`` (any shape) as uint8 0..255: uint8 as it is, floats in [0, 1] scaled by 255 and rounded.

    where: what names the array in a message (``"data.npz: x_train"``). A DatasetError names the
    first pixel outside [0, 1] (NaN included), or a dtype that is neither.
    """
    check_pixel_dtype(images.dtype, where)
    if images.dtype == np.uint8:
        return images
    outside = ~((images >= 0) & (images <= 1))  # written so that NaN is outside too
    if outside.any():
        index = np.unravel_index(int(np.argmax(outside)), images.shape)
        at = ", ".join(str(int(i)) for i in index)
        raise DatasetError(
            f"{where}[{at}] is {images[index]}: float pixels must be in [0, 1] ({int(outside.sum()):,} outside)"
        )
    # 8-bit images read as floats are exactly k / 255, so rounding gives k back
    return np.rint(images * 255).astype(np.uint8)
