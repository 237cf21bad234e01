"""Default training recipes of ``nnscratch train ARCH`` and ``nnscratch reconstruct ARCH``.

A recipe is what each flag is when you don't set it.

A recipe is the set of hyperparameters that trains an architecture well on Fashion-MNIST
from scratch. Small CNNs with BatchNorm train fast and reliably with SGD, momentum 0.9
(Nesterov), weight decay 5e-4 and the multistep schedule (x0.1 at 50% and 75% of the
epochs; a run of fewer than 4 epochs keeps its rate); ConvNeXt, like transformers, wants
AdamW with warmup and a cosine decay (Liu et al. 2022 train it that way). Every recipe uses
the default augmentation of the dataset (shifts of up to 2 pixels).

The epoch counts are those that reach the accuracy measured in the docs' gallery; they are
a lot of CPU time for the large models, so pass ``--epochs`` for a quick look.

The image-to-image models (``IMAGE_RECIPES``) are tiny (3k and 9k parameters) and have
no BatchNorm: Adam at 2e-3 with a cosine decay trains them in a few epochs, where SGD needs
a tuned rate per model. Their recipe also names the loss, which goes with the model's output:
the autoencoder ends in a sigmoid and is scored by the mean squared error (``mse``) against
its input; the U-Net gives logits, trained with ``bce-with-logits`` against the mask.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "multistep"
    warmup_epochs: int = 0
    augment_shift: int | None = None  # None: the dataset's default (2 pixels)


RECIPES = {
    # LeNet-5 has 62k parameters: it underfits rather than overfits Fashion-MNIST, so random
    # shifts (a regulariser) cost it accuracy (89.9% with them, 90.8% without, 15 epochs).
    # Without BatchNorm it needs a few hundred steps at lr 0.02 to leave its starting plateau;
    # batches of 32 give it twice the steps per epoch, which a short run on a small set (the
    # 3-epoch run of getting-started on the sample) needs, and cost the full run nothing.
    "lenet": Recipe(epochs=15, batch_size=32, lr=0.02, augment_shift=0),
    "baseline": Recipe(epochs=15),
    "alexnet": Recipe(epochs=15, lr=0.01),
    "vgg16": Recipe(epochs=15),
    "resnet18": Recipe(epochs=15),
    "efficientnet_lite0": Recipe(epochs=20),
    "convnext_tiny": Recipe(
        epochs=20,
        optimizer="adamw",
        lr=1e-3,
        momentum=0.0,
        nesterov=False,
        weight_decay=0.05,
        schedule="cosine",
        warmup_epochs=2,
    ),
}


@dataclass(frozen=True)
class ImageRecipe(Recipe):
    """A recipe of ``nnscratch reconstruct ARCH``: also the loss (a name of ``losses.SAME_SHAPE_LOSSES``),
    the target ("image": the input itself, "mask": its foreground mask) and the output value that
    stands for one half of the target range (for the pixel accuracy: 0.5 after a sigmoid, 0 for logits)."""

    loss: str = "mse"
    target: str = "image"
    output_threshold: float = 0.5


_ADAM = {"optimizer": "adam", "lr": 2e-3, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}

IMAGE_RECIPES = {
    "autoencoder": ImageRecipe(epochs=10, schedule="cosine", **_ADAM),
    "tiny_unet": ImageRecipe(
        epochs=5, schedule="cosine", loss="bce-with-logits", target="mask", output_threshold=0.0, **_ADAM
    ),
}


def recipe_of(name: str) -> Recipe:
    """The recipe of architecture ``name``, a classifier's (``RECIPES``) or an image-to-image model's."""
    return RECIPES[name] if name in RECIPES else IMAGE_RECIPES[name]
