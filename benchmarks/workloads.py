"""The nnscratch side of the benchmarks: each model set up exactly as its ``nnscratch`` command sets it up.

    settings = cli_settings("baseline")          # the flags of `nnscratch train baseline`, defaults filled in
    setup = build_setup("baseline", settings, dataset)
    setup.train_epoch(x, y)                       # the command's training loop over x, y
    setup.predict(x)                              # its inference path

The settings are the command line's own defaults, read from ``nnscratch.cli.build_parser``
(``nnscratch mlp``, ``nnscratch scalar``) and, for the gallery architectures, completed from
their recipe (``nnscratch/convolutional/recipes.py``) by the CLI's ``apply_recipe``. So a
benchmark always measures what a user runs, and follows the recipes when they change.

This module never imports torch: the memory benchmark measures the nnscratch side in a
process of its own, which must not carry torch's libraries. ``torch_side`` builds the
PyTorch twin of a setup.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnscratch.cli import apply_recipe, augmentation_from, build_parser, training_problems
from nnscratch.cli.arguments import optimizer_and_schedule
from nnscratch.cli.scalar import scalar_optimizer
from nnscratch.common.augment import Augmentation
from nnscratch.common.datasets import Dataset
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import build, check_name
from nnscratch.convolutional.trainer import ConvTrainer
from nnscratch.scalar import Network
from nnscratch.scalar import Trainer as ScalarTrainer
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.trainer import Trainer

MLP = "mlp"  # the vectorized MLP of `nnscratch mlp` (784-256-128-10 by default)
SCALAR = "scalar"  # the pure-Python network of `nnscratch scalar` (784-32-10 by default)
SCALAR_HIDDEN_SIZES = [32]  # `nnscratch scalar`'s hidden layer when --hidden-sizes is not given (and no --trace)


def cli_settings(model: str, dataset: str = "fashion-mnist") -> argparse.Namespace:
    """Every flag of the command that trains ``model``, as that command runs with no flag but --dataset.

    model: "mlp", "scalar" or an architecture of the gallery. A ValueError names an unknown one.
    """
    parser = build_parser()
    if model == MLP:
        return parser.parse_args(["mlp", "--dataset", dataset])
    if model == SCALAR:
        settings = parser.parse_args(["scalar", "--dataset", dataset])
        settings.hidden_sizes = settings.hidden_sizes or list(SCALAR_HIDDEN_SIZES)
        return settings
    check_name(model)
    settings = parser.parse_args(["train", model, "--dataset", dataset])
    apply_recipe(settings)
    return settings


def check_settings(model: str, settings: argparse.Namespace) -> None:
    """Refuse a combination of settings the command would refuse (e.g. warmup epochs >= epochs)."""
    if model == SCALAR:
        return
    problems = training_problems(settings)
    if problems:
        raise ValueError(f"{model}: " + "; ".join(problems))


def model_inputs(model: str, dataset: Dataset, images: np.ndarray) -> np.ndarray:
    """uint8 images (N, C, H, W) -> what the command feeds the model: normalised float32 images
    (N, C, H, W), or rows (N, C*H*W) for the MLP and the scalar network."""
    x = dataset.normalize(images)
    return x.reshape(len(x), -1) if model in (MLP, SCALAR) else x


@dataclass
class Setup:
    """An nnscratch model with its optimizer, schedule and trainer, built as its command builds them."""

    name: str
    settings: argparse.Namespace
    model: Any
    optimizer: Any
    schedule: Any  # None for the scalar network, which has no schedules
    trainer: Any
    augmentation: Augmentation  # Augmentation.none() for the MLP and the scalar network

    def train_epoch(self, x: Any, y: Any) -> tuple[float, float]:
        """One pass of the command's training loop over x, y (shuffled, augmented, batch by batch,
        one optimizer step per batch); returns (mean loss, accuracy). The trainer's own loop, so a
        benchmark times exactly what ``fit`` runs in each epoch."""
        batch_size = self.settings.batch_size
        if self.name == SCALAR:
            order = list(range(len(x)))
            self.trainer.rng.shuffle(order)
            return self.trainer._train_epoch(x, y, order, batch_size)
        return self.trainer._train_epoch(x, y, batch_size)

    def predict(self, x: Any) -> Any:
        """Predicted classes of x, in eval mode, batches of the training batch size."""
        if self.name == SCALAR:
            return self.trainer.predict(x)
        return self.trainer.predict(x, self.settings.batch_size)


def build_setup(model: str, settings: argparse.Namespace, dataset: Dataset, dtype: Any = np.float32) -> Setup:
    """The model, optimizer, schedule and trainer of ``model``'s command for ``settings`` and ``dataset``.

    The root seed is reset to ``settings.seed`` first, as the commands do, so the initial
    weights are those of ``nnscratch train/mlp/scalar`` with the same flags. dtype: of the
    parameters (float32, as the commands train; the tests use float64 to compare the two
    libraries' arithmetic exactly). The scalar network computes with Python floats.
    """
    check_settings(model, settings)
    manual_seed(settings.seed)
    input_size = math.prod(dataset.image_shape)
    if model == SCALAR:
        network = Network(
            input_size,
            settings.hidden_sizes,
            dataset.num_classes,
            settings.activations,
            settings.dropout,
            settings.seed,
        )
        optimizer = scalar_optimizer(settings, network.parameters())
        trainer = ScalarTrainer(network, optimizer, quiet=True, seed=settings.seed)
        return Setup(model, settings, network, optimizer, None, trainer, Augmentation.none())

    if model == MLP:
        network = build_mlp(
            input_size,
            settings.hidden_sizes,
            dataset.num_classes,
            settings.activations,
            settings.dropout,
            settings.batchnorm,
        )
        augmentation = Augmentation.none()
    else:
        channels, height, _ = dataset.image_shape
        network = build(model, channels, dataset.num_classes, height, **dict(settings.option))
        augmentation = augmentation_from(settings)
        augmentation.check_fits(network.input_shape)
    network.to(dtype)  # before the optimizer, whose state is built from the parameters
    optimizer, schedule = optimizer_and_schedule(settings, network.parameters())
    options = {"schedule": schedule, "grad_clip": settings.grad_clip, "quiet": True, "seed": settings.seed}
    if model == MLP:
        trainer = Trainer(network, optimizer, **options)
    else:
        trainer = ConvTrainer(network, optimizer, augmentation=augmentation, **options)
    return Setup(model, settings, network, optimizer, schedule, trainer, augmentation)
