"""``nnscratch mlp``: train the vectorized MLP (tier 2) and report its test accuracy."""

from __future__ import annotations

import argparse
import math

from . import arguments
from .arguments import (
    add_augment_arguments,
    add_data_arguments,
    add_distributed_arguments,
    add_epoch_arguments,
    add_layer_arguments,
    add_loss_argument,
    add_optimizer_arguments,
    add_output_arguments,
    add_schedule_arguments,
    add_watch_argument,
)
from .checkpoints import add_checkpoint_arguments
from .output import schedule_batch_epochs
from .runner import TrainingRun, layer_sizes_parameters


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..vectorized.activations import ACTIVATIONS
    from ..vectorized.optim import OPTIMIZERS

    add_layer_arguments(parser, ACTIVATIONS, hidden_sizes=[256, 128], dropout=0.1)
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm1D after each hidden Linear")
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer="adam", lr=1e-3)
    add_loss_argument(parser)
    add_schedule_arguments(parser, "cosine", "learning-rate schedule (default: %(default)s)")
    add_epoch_arguments(parser, epochs=15, batch_size=64)
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (curves, confusion matrix, mistakes) here")
    add_output_arguments(parser)
    add_data_arguments(parser)
    add_checkpoint_arguments(parser)
    add_watch_argument(parser)
    # the same flags and code as train's, on each flat row seen as its image: see vectorized/augmenting_trainer.py
    add_augment_arguments(parser, "none")
    add_distributed_arguments(parser)


class MLPRun(TrainingRun):
    """``nnscratch mlp``: the vectorized MLP (tier 2) and its Trainer."""

    command = "mlp"
    title = "MLP"

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.augmentation = None

    def problems(self) -> list[str]:
        """--activations against --hidden-sizes, and the augmentation against the images (each flag alone
        was checked by its argparse type)."""
        from ..common.augment import Augmentation
        from ..vectorized.activations import ACTIVATIONS

        args = self.args
        conflict = arguments.augment_conflict(args)
        if conflict:
            return [conflict]
        self.augmentation = arguments.augmentation_from(args, default=Augmentation.none())
        image_shape, _ = arguments.dataset_layout(args)
        problems = arguments.augmentation_problems(args, self.augmentation, image_shape)
        if len(args.activations) not in (1, len(args.hidden_sizes)):
            problems.append(
                f"--activations: got {len(args.activations)} names for {len(args.hidden_sizes)} hidden layers; "
                "give one name, or one per hidden layer"
            )
        unknown = [name for name in args.activations if name not in ACTIVATIONS]
        if unknown:
            problems.append(f"--activations: unknown {unknown}; choose from: {', '.join(ACTIVATIONS)}")
        if args.batchnorm and args.batch_size < 2:  # one sample has no batch statistics to normalise with
            problems.append("--batchnorm needs batches of at least 2 samples, got --batch-size 1")
        return problems

    def num_parameters_planned(self) -> int:
        image_shape, num_classes = arguments.dataset_layout(self.args)
        return layer_sizes_parameters([math.prod(image_shape), *self.args.hidden_sizes, num_classes])

    def record(self) -> dict:
        """``build_mlp``'s arguments (less the data's sizes, added by ``build``) and every training option."""
        args = self.args
        training = ("loss", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule")
        training += ("warmup_epochs", "grad_clip", "batch_size", "val_split", "early_stopping", "seed")
        return {
            "architecture": {
                "name": "mlp",
                "hidden_sizes": args.hidden_sizes,
                "activations": args.activations,
                "dropout": args.dropout,
                "batchnorm": args.batchnorm,
            },
            # augmentation only when on: a run without it is recorded as runs were before mlp had it
            "training": {name: getattr(args, name) for name in (*training, *self._augment_names())},
        }

    def _augment_names(self) -> list[str]:
        return arguments.augment_record_names(self.args) if self.augmentation.enabled else []

    def build(self, dataset, record: dict) -> None:
        from ..vectorized.augmenting_trainer import AugmentingTrainer
        from ..vectorized.losses import make_loss
        from ..vectorized.mlp import build_mlp

        args = self.args
        self.x_train = dataset.normalize(dataset.x_train).reshape(len(dataset.x_train), -1)
        self.y_train = dataset.y_train
        self.x_test = dataset.normalize(dataset.x_test).reshape(len(dataset.x_test), -1)
        input_size = self.x_train.shape[1]
        self.model = build_mlp(
            input_size, args.hidden_sizes, dataset.num_classes, args.activations, args.dropout, args.batchnorm
        )
        self.optimizer, self.schedule = arguments.optimizer_and_schedule(args, self.model.parameters())
        self.trainer = AugmentingTrainer(
            self.model,
            self.optimizer,
            loss=make_loss(args.loss),
            schedule=self.schedule,
            grad_clip=args.grad_clip,
            augmentation=self.augmentation,
            image_shape=dataset.image_shape,
            callbacks=[self.print_epoch],
            quiet=args.quiet,
            seed=args.seed,
            watcher=self.start_watching(),
            distributed=self.world.size > 1,
            sync_bn=args.sync_bn,
        )
        record["architecture"].update(input_size=input_size, num_classes=dataset.num_classes)

    def describe(self, dataset) -> str:
        from ..common.backend import current_device

        args = self.args
        sizes = "-".join(str(size) for size in [self.x_train.shape[1], *args.hidden_sizes, dataset.num_classes])
        num_parameters = sum(parameter.data.size for parameter in self.model.parameters())
        augmented = f"augmentation {self.augmentation.describe()}; " if self.augmentation.enabled else ""
        return (
            f"MLP {sizes} ({','.join(args.activations)}), {num_parameters:,} parameters; {args.optimizer} "
            f"lr {args.lr:g}, {schedule_batch_epochs(args)}; {augmented}{dataset.name}: {len(self.x_train):,} train "
            f"({args.val_split:.0%} held out for validation), {len(self.x_test):,} test; device {current_device()}"
        )


def run(args: argparse.Namespace) -> int:
    return MLPRun(args).run()
