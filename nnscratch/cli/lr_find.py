"""``nnscratch lr-find ARCH``: the learning-rate range test (``vectorized/lr_finder.py``) on a CNN of the gallery.

The model, optimizer, batch size and augmentation are those ``nnscratch train ARCH`` would use
with the same flags (the architecture's recipe fills in the rest); the rate is swept from
--start-lr to --end-lr over --steps batches. It prints the suggested rate and writes the plot
``lr-find-ARCH.png`` into the --plots folder, with the rate train would use (--lr, else the
recipe's) marked beside the suggestion.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import (
    add_architecture_argument,
    add_augment_arguments,
    add_data_arguments,
    add_loss_argument,
    add_optimizer_arguments,
    add_option_argument,
    augment_conflict,
    augmentation_from,
    load_data,
    positive_float,
    positive_int,
    training_problems,
    use_requested_device,
)
from .errors import fail
from .paths import output_folder_problem
from .train import apply_recipe, build_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import ARCHITECTURES
    from ..vectorized import lr_finder
    from ..vectorized.optim import OPTIMIZERS

    add_architecture_argument(parser, ARCHITECTURES)
    add_option_argument(parser, "an architecture build option, as for `nnscratch train`; repeatable")
    parser.add_argument("--start-lr", type=positive_float, default=lr_finder.START_LR, help="first rate (%(default)s)")
    parser.add_argument("--end-lr", type=positive_float, default=lr_finder.END_LR, help="last rate (%(default)s)")
    parser.add_argument(
        "--steps", type=positive_int, default=lr_finder.STEPS, help="batches, one per rate, at least 2 (%(default)s)"
    )
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer=None, lr=None, momentum=None, weight_decay=None)
    add_loss_argument(parser)
    parser.add_argument("--batch-size", type=positive_int, help="default: the architecture's recipe")
    add_augment_arguments(parser)
    parser.add_argument(
        "--plots", metavar="DIR", default=".", help="folder for lr-find-ARCH.png (default: the current folder)"
    )
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu", help="default: %(default)s")
    add_data_arguments(parser)
    # what apply_recipe fills in for train; here only to compare the suggestion with the recipe's rate
    parser.set_defaults(nesterov=None, epochs=None, schedule=None, warmup_epochs=None)


def sweep_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with --start-lr, --end-lr and --steps together (each alone passed its type)."""
    problems = []
    if args.start_lr >= args.end_lr:
        problems.append(f"--start-lr ({args.start_lr:g}) must be smaller than --end-lr ({args.end_lr:g})")
    if args.steps < 2:
        problems.append(f"--steps must be at least 2 (the first and the last rate), got {args.steps}")
    return problems


def run(args: argparse.Namespace) -> int:
    from ..common.lr_plot import plot_lr_range
    from ..common.seed import manual_seed
    from ..convolutional.trainer import ConvTrainer
    from ..vectorized.losses import make_loss
    from ..vectorized.lr_finder import lr_range_test
    from ..vectorized.optim import make_optimizer

    manual_seed(args.seed)
    conflict = augment_conflict(args)  # before the recipe fills the augmentation's defaults in
    rate_said = "--lr" if args.lr is not None else "recipe"
    apply_recipe(args)
    problems = [conflict] if conflict else []
    problems += sweep_problems(args) + training_problems(args)
    problems += [problem for problem in [output_folder_problem("--plots", args.plots)] if problem]
    for problem in problems:
        fail("lr-find", problem)
    if problems:
        return 2
    augmentation = augmentation_from(args)
    model = build_model(args)
    if not use_requested_device(args.device, "lr-find"):
        return 2
    model.to()
    dataset = load_data(args)
    x_train, y_train = _training_part(args, dataset)
    optimizer = make_optimizer(
        args.optimizer, model.parameters(), args.lr, args.momentum, args.nesterov, args.weight_decay, False
    )
    trainer = ConvTrainer(
        model, optimizer, make_loss(args.loss), augmentation=augmentation, quiet=args.quiet, seed=args.seed
    )
    print(
        f"{args.architecture}: {args.optimizer}, batch {args.batch_size}, rates {args.start_lr:g} to {args.end_lr:g} "
        f"over {args.steps} batches of {dataset.name}"
    )
    args.run_started = True  # from here on an error is a failure of the run (exit 1), not bad input
    result = lr_range_test(trainer, x_train, y_train, args.batch_size, args.start_lr, args.end_lr, args.steps)
    path = plot_lr_range(
        result.rates,
        result.losses,
        result.smoothed,
        result.suggestion,
        Path(args.plots) / f"lr-find-{args.architecture}.png",
        title=f"{args.architecture} on {dataset.name}: learning-rate range test",
        reference=(rate_said, args.lr),
    )
    stopped = f", stopped at {result.rates[-1]:.2g} (the loss diverged)" if result.diverged else ""
    lowest = f"lowest smoothed loss {result.smoothed.min():.4f} at {result.minimum_rate:.2g}"
    print(f"{len(result.rates)} batches{stopped}; {lowest}")
    print(f"suggested learning rate: {result.suggestion:.2g} (train uses {args.lr:g})")
    print(f"plot: {path}")
    return 0


def _training_part(args: argparse.Namespace, dataset) -> tuple:
    """The normalized training images and labels ``train`` would train on: without its --val-split part."""
    from ..common.datasets import train_val_split

    x, y = dataset.normalize(dataset.x_train), dataset.y_train
    if not args.val_split:
        return x, y
    x, y, _, _ = train_val_split(x, y, args.val_split, args.seed)
    return x, y
