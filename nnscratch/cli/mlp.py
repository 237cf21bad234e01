"""``nnscratch mlp``: train the vectorized MLP (tier 2) and report its test accuracy."""

from __future__ import annotations

import argparse
import sys

from . import arguments, output
from .arguments import (
    add_data_arguments,
    add_epoch_arguments,
    add_layer_arguments,
    add_optimizer_arguments,
    add_schedule_arguments,
    training_problems,
    use_requested_device,
)
from .checkpoints import add_checkpoint_arguments, checkpoint_problems, fit_with_checkpoints, resume_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..vectorized.activations import ACTIVATIONS
    from ..vectorized.optim import OPTIMIZERS

    add_layer_arguments(parser, ACTIVATIONS, hidden_sizes=[256, 128], dropout=0.1)
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm1D after each hidden Linear")
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer="adam", lr=1e-3)
    add_schedule_arguments(parser, "cosine", "learning-rate schedule (default: %(default)s)")
    add_epoch_arguments(parser, epochs=15, batch_size=64)
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (curves, confusion matrix, mistakes) here")
    add_data_arguments(parser)
    add_checkpoint_arguments(parser)


def _mlp_argument_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with a combination of flags (each flag alone was checked by its argparse type)."""
    from ..vectorized.activations import ACTIVATIONS

    problems = []
    if len(args.activations) not in (1, len(args.hidden_sizes)):
        problems.append(
            f"--activations: got {len(args.activations)} names for {len(args.hidden_sizes)} hidden layers; "
            "give one name, or one per hidden layer"
        )
    unknown = [name for name in args.activations if name not in ACTIVATIONS]
    if unknown:
        problems.append(f"--activations: unknown {unknown}; choose from: {', '.join(ACTIVATIONS)}")
    return problems + training_problems(args)


def _mlp_record(args: argparse.Namespace) -> dict:
    """The metadata of an ``nnscratch mlp`` checkpoint that the flags determine: the architecture
    (``build_mlp``'s arguments, less the data's sizes) and every option that shapes the run."""
    training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule", "warmup_epochs")
    training += ("grad_clip", "batch_size", "val_split", "early_stopping", "seed")
    return {
        "architecture": {
            "name": "mlp",
            "hidden_sizes": args.hidden_sizes,
            "activations": args.activations,
            "dropout": args.dropout,
            "batchnorm": args.batchnorm,
        },
        "training": {name: getattr(args, name) for name in training},
    }


def run(args: argparse.Namespace) -> int:
    from ..common.checkpoint import CheckpointError, load_checkpoint

    problems = _mlp_argument_problems(args) + checkpoint_problems(args)
    if problems:
        for problem in problems:
            print(f"nnscratch mlp: error: {problem}", file=sys.stderr)
        return 2
    record = _mlp_record(args)
    try:
        resumed = load_checkpoint(args.resume, expected=record) if args.resume else None
    except CheckpointError as error:
        print(f"nnscratch mlp: error: {error}", file=sys.stderr)
        return 2
    if not use_requested_device(args.device, "mlp"):
        return 1
    from ..common.backend import current_device
    from ..common.seed import manual_seed
    from ..vectorized.mlp import build_mlp
    from ..vectorized.trainer import Trainer

    dataset = arguments.load_data(args)
    x_train = dataset.normalize(dataset.x_train).reshape(len(dataset.x_train), -1)
    x_test = dataset.normalize(dataset.x_test).reshape(len(dataset.x_test), -1)
    manual_seed(args.seed)
    model = build_mlp(
        x_train.shape[1], args.hidden_sizes, dataset.num_classes, args.activations, args.dropout, args.batchnorm
    )
    optimizer, schedule = arguments.optimizer_and_schedule(args, model.parameters())
    trainer = Trainer(
        model,
        optimizer,
        schedule=schedule,
        grad_clip=args.grad_clip,
        callbacks=[lambda _, entry: output.print_epoch(entry, args.epochs)],
        quiet=args.quiet,
        seed=args.seed,
    )
    record["architecture"].update(input_size=x_train.shape[1], num_classes=dataset.num_classes)
    if not resume_run(resumed, record, dataset, (model, optimizer, schedule, trainer), args, "mlp"):
        return 2
    sizes = "-".join(str(size) for size in [x_train.shape[1], *args.hidden_sizes, dataset.num_classes])
    num_parameters = sum(parameter.data.size for parameter in model.parameters())
    print(
        f"MLP {sizes} ({','.join(args.activations)}), {num_parameters:,} parameters; {args.optimizer} lr {args.lr:g}, "
        f"{args.schedule} schedule; {dataset.name}: {len(x_train):,} train ({args.val_split:.0%} held out "
        f"for validation), {len(x_test):,} test; device {current_device()}"
    )

    def fit() -> list:
        return trainer.fit(
            x_train, dataset.y_train, args.epochs, args.batch_size, args.val_split, early_stopping=args.early_stopping
        )

    code = fit_with_checkpoints(trainer, fit, args, {**record, "epochs": args.epochs}, "mlp")
    if code is not None:
        return code
    output.finish_run(trainer, x_test, dataset, args.plots, "MLP")
    return 0
