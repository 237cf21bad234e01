"""``nnscratch reconstruct ARCH``: train an image-to-image model of the gallery and score its output images.

    nnscratch reconstruct autoencoder --plots out/ae      the image itself: test reconstruction MSE
    nnscratch reconstruct tiny_unet                        its foreground mask: pixel accuracy and IoU

The run follows every training command's skeleton (``runner.py``: checks, --resume, data,
build, training with --save, report) with ``ReconstructionTrainer``; each architecture's
recipe (``recipes.IMAGE_RECIPES``) fills the flags left unset and names the loss and the
target. Pixels are scaled to [0, 1] and not standardised: the autoencoder's target is its
input, and its sigmoid output can only reach values in (0, 1). --plots writes the training
curves and ``reconstructions.png``: test images above what the model made of them.
"""

from __future__ import annotations

import argparse
import json

from . import arguments
from .arguments import (
    add_architecture_argument,
    add_data_arguments,
    add_epoch_arguments,
    add_optimizer_arguments,
    add_option_argument,
    add_schedule_arguments,
)
from .checkpoints import add_checkpoint_arguments
from .output import plural, schedule_batch_epochs
from .runner import TrainingRun
from .train import build_model, fill_training_flags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import IMAGE_TO_IMAGE
    from ..vectorized.optim import OPTIMIZERS

    add_architecture_argument(parser, IMAGE_TO_IMAGE)
    add_option_argument(parser, "an architecture build option, e.g. width=32; repeatable")
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer=None, lr=None, momentum=None, weight_decay=None)
    add_schedule_arguments(parser, None, "learning-rate schedule (default: the architecture's recipe)", None)
    add_epoch_arguments(parser, epochs=None, batch_size=None)
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (curves, reconstructions) here")
    add_checkpoint_arguments(parser)
    add_data_arguments(parser)
    parser.set_defaults(nesterov=None)


def pixel_scaling(channels: int) -> tuple[list[float], list[float]]:
    """The (mean, std) per channel these models' images are normalised with: none, pixels stay in
    [0, 1] (the module docstring says why). ``evaluate`` and ``export`` read their checkpoints so."""
    return [0.0] * channels, [1.0] * channels


def target_images(pixels, target: str):
    """What a model learns to output for images ``pixels`` (N, C, H, W) in [0, 1]: the images
    themselves, or (``target == "mask"``) their foreground masks (N, 1, H, W)."""
    from ..convolutional.segmentation import foreground_mask

    return foreground_mask(pixels) if target == "mask" else pixels


def scores_line(outputs, targets, target: str, epochs: str) -> str:
    """The line that scores test ``outputs`` against ``targets``: the reconstruction MSE, or the
    pixel accuracy and IoU of the masks (``target == "mask"``), "after" ``epochs`` of training."""
    from ..convolutional.segmentation import mask_scores
    from ..vectorized.losses import mse_loss

    if target == "mask":
        scores = mask_scores(outputs, targets)
        return f"test masks: pixel accuracy {scores['pixel_accuracy']:.2%}, IoU {scores['iou']:.3f} after {epochs}"
    return f"test reconstruction MSE {float(mse_loss(outputs, targets)):.4f} after {epochs}"


class ReconstructRun(TrainingRun):
    """``nnscratch reconstruct ARCH``: a model of ``IMAGE_TO_IMAGE``, ReconstructionTrainer, its recipe."""

    command = "reconstruct"

    def __init__(self, args: argparse.Namespace) -> None:
        from ..convolutional.recipes import IMAGE_RECIPES

        super().__init__(args)
        self.recipe = IMAGE_RECIPES[args.architecture]
        fill_training_flags(args, self.recipe)
        self.y_test = None

    @property
    def title(self) -> str:
        return self.args.architecture

    @property
    def run_name(self) -> str:
        return f"reconstruct-{self.args.architecture}"

    def problems(self) -> list[str]:
        """The model, built here as ``train`` builds its own (``build_model``: for --dataset's image
        shape, a dataset file of your own included, within the memory free), before any data is read."""
        self.model = build_model(self.args)
        return []

    def record(self) -> dict:
        """How to rebuild the model, what it learns (loss, target) and every flag that shapes the run."""
        args = self.args
        training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule")
        training += ("warmup_epochs", "grad_clip", "batch_size", "val_split", "early_stopping", "seed")
        record = {
            "architecture": self.model.architecture,
            "task": {"loss": self.recipe.loss, "target": self.recipe.target},
            "training": {name: getattr(args, name) for name in training},
        }
        return json.loads(json.dumps(record))

    def build(self, dataset, record: dict) -> None:
        from ..common.datasets import normalize_images
        from ..convolutional.reconstruction_trainer import ReconstructionTrainer
        from ..vectorized.losses import make_loss

        args = self.args
        self.model.to()
        scaling = pixel_scaling(dataset.image_shape[0])
        self.x_train, self.x_test = (normalize_images(x, *scaling) for x in (dataset.x_train, dataset.x_test))
        self.y_train, self.y_test = (target_images(x, self.recipe.target) for x in (self.x_train, self.x_test))
        self.optimizer, self.schedule = arguments.optimizer_and_schedule(args, self.model.parameters())
        self.trainer = ReconstructionTrainer(
            self.model,
            self.optimizer,
            make_loss(self.recipe.loss),
            schedule=self.schedule,
            grad_clip=args.grad_clip,
            callbacks=[self.print_epoch],
            quiet=args.quiet,
            seed=args.seed,
            output_threshold=self.recipe.output_threshold,
        )

    def describe(self, dataset) -> str:
        from ..common.backend import current_device

        args = self.args
        num_parameters = sum(parameter.data.size for parameter in self.model.parameters())
        target = "its foreground mask" if self.recipe.target == "mask" else "the image itself"
        return (
            f"{args.architecture}: {num_parameters:,} parameters, learns {target} ({self.recipe.loss} loss; "
            f"acc: pixel accuracy); {args.optimizer} lr {args.lr:g}, weight decay {args.weight_decay:g}, "
            f"{schedule_batch_epochs(args)}; {dataset.name}: {len(self.x_train):,} train "
            f"({args.val_split:.0%} held out for validation), {len(self.x_test):,} test; device {current_device()}"
        )

    def report(self, dataset) -> None:
        """The test scores (MSE of the reconstructions, or pixel accuracy and IoU of the masks) and --plots."""
        outputs = self.trainer.predict(self.x_test)
        print(scores_line(outputs, self.y_test, self.recipe.target, plural(len(self.trainer.history), "epoch")))
        if self.args.plots:
            print(f"plots: {', '.join(str(path) for path in self.write_plots(dataset, outputs))}")

    def write_plots(self, dataset, outputs) -> list:
        """curves.png and reconstructions.png (the first ten test images, their outputs, their masks)."""
        from pathlib import Path

        from ..common.plots import plot_history, plot_image_rows
        from ..vectorized.activations import sigmoid

        folder = Path(self.args.plots)
        rows = {"test image": self.x_test, "reconstruction": outputs}
        if self.recipe.target == "mask":
            rows = {"test image": self.x_test, "predicted": sigmoid(outputs), "true mask": self.y_test}
        title = f"{self.args.architecture} on {dataset.name}"
        return [
            plot_history(self.trainer.history, folder / "curves.png", title=title),
            plot_image_rows(rows, folder / "reconstructions.png", title=f"{title}: test images"),
        ]


def run(args: argparse.Namespace) -> int:
    return ReconstructRun(args).run()
