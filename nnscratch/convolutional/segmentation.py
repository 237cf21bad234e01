"""The toy segmentation task of the gallery's ``tiny_unet``: Fashion-MNIST's foreground masks.

Each pixel of a Fashion-MNIST image is either part of the garment or the black background.
The mask of an image marks the garment: 1 where the pixel (scaled to [0, 1]) is above
``threshold``, 0 elsewhere. A network that predicts the mask from the image answers one yes/no
question per pixel, the shape of every segmentation task, here with targets anyone can check
by eye. Scores, as segmentation papers report them:

    pixel accuracy = correct pixels / all pixels
    IoU            = |predicted AND true| / |predicted OR true|     (intersection over union)

IoU ignores the background the model gets right for free: a model that predicts no garment
at all still scores the background's share as pixel accuracy (55% of the bundled sample's
pixels are background at the default threshold), but an IoU of 0.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import get_array_module

FOREGROUND_THRESHOLD = 0.1  # scaled pixels above this are garment; the background is 0 or nearly


def foreground_mask(images: Any, threshold: float = FOREGROUND_THRESHOLD) -> Any:
    """Images (N, C, H, W) scaled to [0, 1] -> masks (N, 1, H, W) of 1.0 (garment) and 0.0, in their dtype.
    A pixel of several channels is garment when their mean is above ``threshold``."""
    return (images.mean(axis=1, keepdims=True) > threshold).astype(images.dtype)


def mask_scores(logits: Any, masks: Any) -> dict[str, float]:
    """Pixel accuracy and IoU of the predicted masks ``logits > 0`` against ``masks`` (both (N, 1, H, W)),
    over all the pixels together."""
    xp = get_array_module(logits)
    predicted, true = logits > 0, masks > 0.5
    union = int(xp.logical_or(predicted, true).sum())
    intersection = int(xp.logical_and(predicted, true).sum())
    return {"pixel_accuracy": float((predicted == true).mean()), "iou": intersection / union if union else 1.0}
