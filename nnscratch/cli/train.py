"""``nnscratch train ARCH``: train a CNN of the gallery with its recipe and report its test accuracy."""

from __future__ import annotations

import argparse
import json
import sys

from . import arguments, output
from .arguments import (
    add_augment_arguments,
    add_data_arguments,
    add_epoch_arguments,
    add_optimizer_arguments,
    add_schedule_arguments,
    architecture_option,
    augmentation_from,
    training_problems,
    use_requested_device,
)
from .checkpoints import add_checkpoint_arguments, checkpoint_problems, fit_with_checkpoints, resume_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import ARCHITECTURES
    from ..vectorized.optim import OPTIMIZERS

    parser.add_argument("architecture", choices=list(ARCHITECTURES), metavar="ARCH", help=", ".join(ARCHITECTURES))
    parser.add_argument(
        "--option",
        type=architecture_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an architecture build option, e.g. width=16 (see `nnscratch summary ARCH`); repeatable",
    )
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer=None, lr=None, momentum=None, weight_decay=None)
    add_schedule_arguments(parser, None, "learning-rate schedule (default: the architecture's recipe)", None)
    add_epoch_arguments(parser, epochs=None, batch_size=None)
    add_augment_arguments(parser)
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (curves, confusion matrix, mistakes) here")
    add_checkpoint_arguments(parser)
    add_data_arguments(parser)
    parser.set_defaults(nesterov=None)


def apply_recipe(args: argparse.Namespace) -> None:
    """Fill every training flag the user left unset from the architecture's recipe."""
    from ..convolutional.recipes import RECIPES

    recipe = RECIPES[args.architecture]
    nesterov_from_recipe = args.nesterov is None
    for name in ("epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule"):
        if getattr(args, name) is None:
            setattr(args, name, getattr(recipe, name))
    if args.warmup_epochs is None:
        args.warmup_epochs = recipe.warmup_epochs if args.schedule == recipe.schedule else 0
    if args.augment_shift is None:
        args.augment_shift = recipe.augment_shift  # None still: the dataset's default
    if nesterov_from_recipe and (args.optimizer != "sgd" or args.momentum == 0):
        args.nesterov = False  # the recipe's Nesterov belongs to its own SGD; asked for, it is checked instead


def build_model(args: argparse.Namespace):
    """The architecture for the dataset's image shape, or a ValueError saying why it cannot be built."""
    from ..common.datasets import IMAGE_SHAPES
    from ..convolutional.architectures import build

    channels, height, _ = IMAGE_SHAPES[args.dataset]
    options = dict(args.option)
    for size in ("in_channels", "num_classes", "image_size"):
        if size in options:
            raise ValueError(
                f"--option {size}: the image size comes from --dataset ({args.dataset}), not from --option"
            )
    return build(args.architecture, channels, 10, height, **options)


def _train_record(args: argparse.Namespace, model) -> dict:
    """The metadata of an ``nnscratch train`` checkpoint: how to rebuild the model, and every flag
    that shapes the run (as JSON sees them: tuples become lists)."""
    training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule", "warmup_epochs")
    training += ("grad_clip", "batch_size", "val_split", "early_stopping", "seed")
    augment = [name for name in vars(args) if name.startswith("augment_")] + ["no_augment"]
    record = {
        "architecture": model.architecture,
        "training": {name: getattr(args, name) for name in (*training, *augment)},
    }
    return json.loads(json.dumps(record))


def run(args: argparse.Namespace) -> int:
    from ..common.checkpoint import CheckpointError, load_checkpoint

    apply_recipe(args)
    problems = training_problems(args) + checkpoint_problems(args)
    try:
        augmentation = augmentation_from(args)
    except ValueError as error:
        problems.append(str(error))
    if problems:
        for problem in problems:
            print(f"nnscratch train: error: {problem}", file=sys.stderr)
        return 2
    from ..common.backend import current_device
    from ..common.seed import manual_seed
    from ..convolutional.trainer import ConvTrainer

    manual_seed(args.seed)
    try:
        model = build_model(args)
        augmentation.check_fits(model.input_shape)
    except ValueError as error:
        print(f"nnscratch train: error: {error}", file=sys.stderr)
        return 2
    record = _train_record(args, model)
    try:
        resumed = load_checkpoint(args.resume, expected=record) if args.resume else None
    except CheckpointError as error:
        print(f"nnscratch train: error: {error}", file=sys.stderr)
        return 2
    if not use_requested_device(args.device, "train"):
        return 1
    model.to()
    dataset = arguments.load_data(args)
    x_train, x_test = dataset.normalize(dataset.x_train), dataset.normalize(dataset.x_test)
    optimizer, schedule = arguments.optimizer_and_schedule(args, model.parameters())
    trainer = ConvTrainer(
        model,
        optimizer,
        schedule=schedule,
        grad_clip=args.grad_clip,
        augmentation=augmentation,
        callbacks=[lambda _, entry: output.print_epoch(entry, args.epochs)],
        quiet=args.quiet,
        seed=args.seed,
    )
    if not resume_run(resumed, record, dataset, (model, optimizer, schedule, trainer), args, "train"):
        return 2
    num_parameters = sum(parameter.data.size for parameter in model.parameters())
    momentum = f" momentum {args.momentum:g}{' (Nesterov)' if args.nesterov else ''}" if args.optimizer == "sgd" else ""
    print(
        f"{args.architecture}: {num_parameters:,} parameters; {args.optimizer} lr {args.lr:g}{momentum}, "
        f"weight decay {args.weight_decay:g}, {args.schedule} schedule, batch {args.batch_size}, {args.epochs} epochs; "
        f"augmentation {augmentation.describe()}; {dataset.name}: {len(x_train):,} train "
        f"({args.val_split:.0%} held out for validation), {len(x_test):,} test; device {current_device()}"
    )

    def fit() -> list:
        return trainer.fit(
            x_train,
            dataset.y_train,
            args.epochs,
            args.batch_size,
            val_split=args.val_split,
            early_stopping=args.early_stopping,
        )

    code = fit_with_checkpoints(trainer, fit, args, {**record, "epochs": args.epochs}, "train")
    if code is not None:
        return code
    output.finish_run(trainer, x_test, dataset, args.plots, args.architecture)
    return 0
