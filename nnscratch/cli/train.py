"""``nnscratch train ARCH``: train a CNN of the gallery with its recipe and report its test accuracy."""

from __future__ import annotations

import argparse
import contextlib
import json

from . import arguments
from .arguments import (
    add_architecture_argument,
    add_augment_arguments,
    add_conv_algorithm_argument,
    add_data_arguments,
    add_distributed_arguments,
    add_epoch_arguments,
    add_loss_argument,
    add_optimizer_arguments,
    add_option_argument,
    add_output_arguments,
    add_schedule_arguments,
    add_watch_argument,
    augment_conflict,
    augment_record_names,
    augmentation_from,
    augmentation_problems,
    dataset_layout,
    option_said,
)
from .checkpoints import add_checkpoint_arguments
from .output import schedule_batch_epochs
from .runner import TrainingRun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import ARCHITECTURES
    from ..vectorized.optim import OPTIMIZERS

    add_architecture_argument(parser, ARCHITECTURES)
    add_option_argument(
        parser,
        "an architecture build option, e.g. width=16 or depths=1,1,1,1 (see `nnscratch summary ARCH`); repeatable",
    )
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer=None, lr=None, momentum=None, weight_decay=None)
    add_loss_argument(parser)
    add_schedule_arguments(parser, None, "learning-rate schedule (default: the architecture's recipe)", None)
    add_epoch_arguments(parser, epochs=None, batch_size=None)
    add_augment_arguments(parser)
    add_conv_algorithm_argument(parser)
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (curves, confusion matrix, mistakes) here")
    add_output_arguments(parser)
    add_checkpoint_arguments(parser)
    add_watch_argument(parser)
    add_data_arguments(parser)
    add_distributed_arguments(parser)
    parser.set_defaults(nesterov=None)


def apply_recipe(args: argparse.Namespace) -> None:
    """Fill every training flag the user left unset from the architecture's recipe."""
    from ..convolutional.recipes import RECIPES

    recipe = RECIPES[args.architecture]
    fill_training_flags(args, recipe)
    if args.augment_shift is None:
        args.augment_shift = recipe.augment_shift  # None still: the dataset's default


def fill_training_flags(args: argparse.Namespace, recipe) -> None:
    """Fill the optimizer, schedule, epoch and batch flags the user left unset (None) from ``recipe``."""
    nesterov_from_recipe = args.nesterov is None
    for name in ("epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule"):
        if getattr(args, name) is None:
            setattr(args, name, getattr(recipe, name))
    if args.warmup_epochs is None:
        args.warmup_epochs = recipe.warmup_epochs if args.schedule == recipe.schedule else 0
    if nesterov_from_recipe and (args.optimizer != "sgd" or args.momentum == 0):
        args.nesterov = False  # the recipe's Nesterov belongs to its own SGD; asked for, it is checked instead


def options_said(args: argparse.Namespace) -> str:
    """The --option flags as the user gave them, e.g. ``--option width=16``."""
    return " ".join(option_said(key, value) for key, value in args.option)


def build_model(args: argparse.Namespace):
    """The architecture for the dataset's image shape (a classifier of ``ARCHITECTURES``, or for
    ``nnscratch summary`` a model of ``IMAGE_TO_IMAGE``, which has no classes), or a ValueError
    (MemoryError) saying why it cannot be built, with the --option flags behind it. Built within the
    memory the machine has free: an --option that makes the model too large is refused at the first
    allocation beyond it."""
    from ..common.memory import allocation_limit, available_memory
    from ..convolutional.architectures import IMAGE_TO_IMAGE, build, build_image_to_image

    (channels, height, width), num_classes = dataset_layout(args)
    if height != width:
        raise ValueError(f"--dataset {args.dataset}: the CNNs take square images, got {width}x{height} pixels")
    options = dict(args.option)
    for size in ("in_channels", "num_classes", "image_size"):
        if size in options:
            raise ValueError(
                f"--option {size}: the image size comes from --dataset ({args.dataset}), not from --option"
            )
    available = available_memory()
    said = options_said(args) or args.architecture
    try:
        with allocation_limit(available) if available else contextlib.nullcontext():
            if args.architecture in IMAGE_TO_IMAGE:
                return build_image_to_image(args.architecture, channels, height, **options)
            return build(args.architecture, channels, num_classes, height, **options)
    except MemoryError:
        raise MemoryError(f"{said}: the model does not fit in the {available / 2**30:,.1f} GiB available") from None
    except ValueError as error:
        if not args.option:
            raise
        raise ValueError(f"{said}: {error}") from error  # the layer's complaint, traced to the flag behind it


class TrainRun(TrainingRun):
    """``nnscratch train ARCH``: a CNN of the gallery, ConvTrainer, the architecture's recipe."""

    command = "train"

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.conflict = augment_conflict(args)  # before the recipe fills the augmentation's defaults in
        apply_recipe(args)
        self.augmentation = None

    @property
    def title(self) -> str:
        return self.args.architecture

    @property
    def run_name(self) -> str:
        return f"train-{self.args.architecture}"

    def problems(self) -> list[str]:
        """The augmentation, then the model itself: built here, before any data is read, within the
        memory the machine has free (an --option too large is refused, not allocated)."""
        if self.conflict:
            return [self.conflict]
        self.augmentation = augmentation_from(self.args)
        self.model = build_model(self.args)
        self.check_conv_algorithm()
        problems = augmentation_problems(self.args, self.augmentation, self.model.input_shape)
        if problems:
            return problems
        problem = self.memory_problem(sum(parameter.data.size for parameter in self.model.parameters()))
        return [problem] if problem else []

    def check_conv_algorithm(self) -> None:
        """One sample through the model under --conv-algorithm: a route that cannot compute one of its
        convolutions is a ValueError naming the layer now, not after the data is loaded."""
        from ..convolutional.algorithms import use_algorithm
        from ..vectorized.leaves import trace_layers

        with use_algorithm(self.args.conv_algorithm):
            trace_layers(self.model, self.model.input_shape)

    def fit(self) -> None:
        from ..convolutional.algorithms import use_algorithm

        with use_algorithm(self.args.conv_algorithm):
            super().fit()

    def report(self, dataset) -> None:
        from ..convolutional.algorithms import use_algorithm

        with use_algorithm(self.args.conv_algorithm):
            super().report(dataset)

    def record(self) -> dict:
        """How to rebuild the model, and every flag that shapes the run (as JSON sees them: tuples become lists)."""
        args = self.args
        training = ("loss", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule")
        training += ("warmup_epochs", "grad_clip", "batch_size", "val_split", "early_stopping", "seed")
        augment = augment_record_names(args)
        record = {
            "architecture": self.model.architecture,
            "training": {name: getattr(args, name) for name in (*training, *augment)},
        }
        return json.loads(json.dumps(record))

    def build(self, dataset, record: dict) -> None:
        from ..convolutional.trainer import ConvTrainer
        from ..vectorized.losses import make_loss

        args = self.args
        self.model.to()
        self.x_train, self.y_train = dataset.normalize(dataset.x_train), dataset.y_train
        self.x_test = dataset.normalize(dataset.x_test)
        self.optimizer, self.schedule = arguments.optimizer_and_schedule(args, self.model.parameters())
        self.trainer = ConvTrainer(
            self.model,
            self.optimizer,
            loss=make_loss(args.loss),
            schedule=self.schedule,
            grad_clip=args.grad_clip,
            augmentation=self.augmentation,
            callbacks=[self.print_epoch],
            quiet=args.quiet,
            seed=args.seed,
            watcher=self.start_watching(),
            distributed=self.world.size > 1,
            sync_bn=args.sync_bn,
        )

    def describe(self, dataset) -> str:
        from ..common.backend import current_device

        args = self.args
        num_parameters = sum(parameter.data.size for parameter in self.model.parameters())
        momentum = ""
        if args.optimizer == "sgd":
            momentum = f" momentum {args.momentum:g}{' (Nesterov)' if args.nesterov else ''}"
        return (
            f"{args.architecture}: {num_parameters:,} parameters; {args.optimizer} lr {args.lr:g}{momentum}, "
            f"weight decay {args.weight_decay:g}, {schedule_batch_epochs(args)}; "
            f"augmentation {self.augmentation.describe()}; {dataset.name}: "
            f"{len(self.x_train):,} train ({args.val_split:.0%} held out for validation), "
            f"{len(self.x_test):,} test; device {current_device()}"
        )


def run(args: argparse.Namespace) -> int:
    return TrainRun(args).run()
